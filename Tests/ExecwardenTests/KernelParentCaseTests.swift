import Foundation
import Testing
@testable import ExecwardenCore

/// `process.parent.*` and entity ids when the parent is not what a cache
/// of earlier execs would report: replaced on disk, renamed, re-executed,
/// adopted as a subreaper, or started before the sensor.
@Suite("Kernel parent fields")
struct KernelParentCaseTests {
    let harness: KernelHarness

    init() throws {
        harness = try KernelHarness.require()
    }

    private func unshareEvent(_ marker: String) async -> ExecEvent? {
        await harness.events(count: 1) {
            $0.hasArgument(marker) && $0.nameString == "unshare"
        }.first
    }

    private func alerts(_ marker: String) -> [CapturedLine] {
        harness.alerts { $0.hasArgument(marker) && $0.nameString == "unshare" }
    }

    @Test("Parent replaced on disk keeps its path with a flag")
    func parentBinaryReplaced() async throws {
        let directory = try Shell.makeDirectory("upgrade")
        defer { Shell.remove(directory) }
        try FileManager.default.createDirectory(
            atPath: "\(directory)/lib/systemd", withIntermediateDirectories: true)
        let udevd = "\(directory)/lib/systemd/systemd-udevd"
        try ExecPrograms.copyPython(to: udevd)
        let marker = Shell.marker("upgrade")
        // A new inode is renamed over the running binary, as a package
        // upgrade does.
        let outcome = try Shell.run(executable: udevd, arguments: ["-c", """
            import os, shutil, subprocess
            me = os.path.realpath("/proc/self/exe")
            shutil.copy2(me, me + ".new")
            os.rename(me + ".new", me)
            print(os.readlink("/proc/self/exe"), flush=True)
            subprocess.run(["/usr/bin/unshare", "--uts", "/bin/true", "\(marker)"], check=True)
            """])
        try #require(outcome.status == 0, "\(outcome.errorOutput)")
        #expect(outcome.output.contains("systemd-udevd (deleted)"))

        let event = try #require(await unshareEvent(marker))
        #expect(event.parentExecutableString == udevd)
        #expect(event.flags.contains(.parentExecutableDeleted))
        #expect(event.parentNameString == "systemd-udevd")
        #expect(event.parentPID == UInt32(outcome.pid))
        let line = try #require(harness.eventLine(event))
        #expect(line.string("process.parent.executable") == udevd)
        #expect(line.bool("execwarden.process.parent.executable_deleted") == true)
        #expect(alerts(marker).isEmpty)
    }

    @Test("Parent file really named with (deleted) is exact")
    func parentNamedDeleted() async throws {
        let directory = try Shell.makeDirectory("named-deleted")
        defer { Shell.remove(directory) }
        let tool = "\(directory)/tool (deleted)"
        try ExecPrograms.copyPython(to: tool)
        let marker = Shell.marker("named-deleted")
        let outcome = try Shell.run(executable: tool, arguments: ["-c", """
            import subprocess
            subprocess.run(["/usr/bin/unshare", "--uts", "/bin/true", "\(marker)"], check=True)
            """])
        try #require(outcome.status == 0, "\(outcome.errorOutput)")

        let event = try #require(await unshareEvent(marker))
        #expect(event.parentExecutableString == tool)
        #expect(!event.flags.contains(.parentExecutableDeleted))
        let line = try #require(harness.eventLine(event))
        #expect(line.string("process.parent.executable") == tool)
        #expect(line.bool("execwarden.process.parent.executable_deleted") == false)
        #expect(alerts(marker).count == 1)
    }

    @Test("Parent renamed with PR_SET_NAME reports its new comm")
    func parentRenamedItself() async throws {
        let directory = try Shell.makeDirectory("renamed")
        defer { Shell.remove(directory) }
        let program = try ExecPrograms.compile("""
            #include <sys/prctl.h>
            #include <sys/wait.h>
            #include <unistd.h>
            int main(int argc, char **argv) {
                if (argc != 2 || prctl(PR_SET_NAME, "renamed-parent", 0, 0, 0)) return 2;
                pid_t child = fork();
                if (child == 0) {
                    execl("/usr/bin/unshare", "unshare", "--uts", "/bin/true", argv[1], (char *)0);
                    _exit(127);
                }
                int status = 1;
                waitpid(child, &status, 0);
                return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
            }
            """, named: "renamer", in: directory)
        let marker = Shell.marker("renamed")
        let outcome = try Shell.run(executable: program, arguments: [marker])
        try #require(outcome.status == 0, "\(outcome.errorOutput)")

        let event = try #require(await unshareEvent(marker))
        #expect(event.parentNameString == "renamed-parent")
        #expect(event.parentExecutableString == program)
        #expect(event.parentPID == UInt32(outcome.pid))
    }

    /// `hop TARGET MARKER` execs TARGET with MARKER; `hop MARKER` forks an
    /// unshare with MARKER and waits for it.
    static let hopSource = """
        #include <sys/wait.h>
        #include <unistd.h>
        int main(int argc, char **argv) {
            if (argc == 3) {
                execl(argv[1], argv[1], argv[2], (char *)0);
                return 127;
            }
            if (argc != 2) return 2;
            pid_t child = fork();
            if (child == 0) {
                execl("/usr/bin/unshare", "unshare", "--uts", "/bin/true", argv[1], (char *)0);
                _exit(127);
            }
            int status = 1;
            waitpid(child, &status, 0);
            return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
        }
        """

    @Test("Parent that exec'd just before forking is its new image")
    func parentExecBeforeFork() async throws {
        let directory = try Shell.makeDirectory("hop")
        defer { Shell.remove(directory) }
        let first = try ExecPrograms.compile(Self.hopSource, named: "stage-one", in: directory)
        let second = "\(directory)/stage-two"
        try FileManager.default.copyItem(atPath: first, toPath: second)
        let marker = Shell.marker("hop")
        let outcome = try Shell.run(executable: first, arguments: [second, marker])
        try #require(outcome.status == 0, "\(outcome.errorOutput)")

        // The two stages, the unshare, and the /bin/true the unshare runs.
        let events = await harness.events(count: 4) { $0.hasArgument(marker) }
        try #require(events.count == 4)
        let (stageOne, stageTwo, unshare) = (events[0], events[1], events[2])
        #expect(stageOne.executableString == first)
        #expect(stageTwo.executableString == second)
        #expect(stageTwo.pid == stageOne.pid)
        #expect(unshare.nameString == "unshare")
        #expect(unshare.parentPID == stageOne.pid)
        #expect(unshare.parentExecutableString == second)
        #expect(unshare.parentNameString == "stage-two")
        #expect(unshare.parentStartTimeNanoseconds == stageOne.startTimeNanoseconds)

        // One process across its two execs: one entity id, which the child
        // names as its parent's.
        let oneLine = try #require(harness.eventLine(stageOne))
        let twoLine = try #require(harness.eventLine(stageTwo))
        let childLine = try #require(harness.eventLine(unshare))
        let entity = try #require(oneLine.string("process.entity_id"))
        #expect(twoLine.string("process.entity_id") == entity)
        #expect(childLine.string("process.parent.entity_id") == entity)
        #expect(childLine.string("process.entity_id") != entity)
    }

    @Test("Parent in a path past PATH_MAX keeps a prefix")
    func parentPastPathMax() async throws {
        let directory = try Shell.makeDirectory("long-parent")
        defer { ExecPrograms.removeTree(directory) }
        let hop = try ExecPrograms.compile(Self.hopSource, named: "hop", in: directory)
        let component = String(repeating: "p", count: 200)
        let marker = Shell.marker("long-parent")
        let outcome = try Shell.run(executable: "/usr/bin/python3", arguments: ["-c", """
            import os, shutil, subprocess
            os.chdir("\(directory)")
            for i in range(25):
                os.mkdir("\(component)"); os.chdir("\(component)")
            shutil.copy("\(hop)", "hop")
            subprocess.run(["./hop", "\(marker)"], check=True)
            """])
        try #require(outcome.status == 0, "\(outcome.errorOutput)")

        let event = try #require(await unshareEvent(marker))
        let full = directory + String(repeating: "/" + component, count: 25) + "/hop"
        #expect(event.parentExecutable.first == UInt8(ascii: "/"))
        #expect(!event.flags.contains(.parentExecutableIncomplete))
        if event.flags.contains(.parentExecutableTruncated) {
            #expect(event.parentExecutable.count >= 1024)
            #expect(full.hasPrefix(event.parentExecutableString))
        } else {
            #expect(event.parentExecutableString == full)
        }
        #expect(event.parentNameString == "hop")
    }

    @Test("Parent running from a memfd has flags, no path")
    func parentFromMemfd() async throws {
        let directory = try Shell.makeDirectory("memfd-parent")
        defer { Shell.remove(directory) }
        let hop = try ExecPrograms.compile(Self.hopSource, named: "hop", in: directory)
        let marker = Shell.marker("memfd-parent")
        let memfdName = "ew-parent-\(marker.suffix(8))"
        let outcome = try Shell.run(executable: "/usr/bin/python3", arguments: ["-c", """
            import os
            fd = os.memfd_create("\(memfdName)", 0)
            with open("\(hop)", "rb") as image:
                os.write(fd, image.read())
            os.execve(fd, ["hop", "\(marker)"], {})
            """])
        try #require(outcome.status == 0, "\(outcome.errorOutput)")

        let event = try #require(await unshareEvent(marker))
        #expect(event.parentPID == UInt32(outcome.pid))
        #expect(event.flags.contains(.parentExecutableMemfd))
        #expect(event.flags.contains(.parentExecutablePseudo))
        #expect(!event.hasParentExecutablePath)
        let line = try #require(harness.eventLine(event))
        #expect(line.field("process.parent.executable") == nil)
        #expect(line.bool("execwarden.process.parent.memfd") == true)
        #expect(line.string("execwarden.process.parent.memfd_name") == memfdName)
        #expect(!String(decoding: line.json, as: UTF8.self).contains("(deleted)"))
    }

    @Test("Orphan adopted by a subreaper names the subreaper")
    func subreaperParent() async throws {
        let directory = try Shell.makeDirectory("subreaper")
        defer { Shell.remove(directory) }
        // The middle process exits at once, and its child waits until the
        // kernel has reparented it to the subreaper, then execs.
        let program = try ExecPrograms.compile("""
            #include <stdio.h>
            #include <sys/prctl.h>
            #include <sys/wait.h>
            #include <unistd.h>
            int main(int argc, char **argv) {
                if (argc != 2 || prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) return 2;
                pid_t reaper = getpid();
                if (fork() == 0) {
                    pid_t orphan = fork();
                    if (orphan == 0) {
                        for (int i = 0; getppid() != reaper; i++) {
                            if (i == 10000) _exit(3);
                            usleep(1000);
                        }
                        execl("/usr/bin/unshare", "unshare", "--uts", "/bin/true", argv[1], (char *)0);
                        _exit(127);
                    }
                    printf("%d\\n", getpid());
                    fflush(stdout);
                    _exit(0);
                }
                int status, failed = 0;
                while (wait(&status) > 0)
                    failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
                return failed;
            }
            """, named: "subreaper", in: directory)
        let marker = Shell.marker("subreaper")
        let outcome = try Shell.run(executable: program, arguments: [marker])
        try #require(outcome.status == 0, "\(outcome.errorOutput)")
        let middle = UInt32(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines))

        let event = try #require(await unshareEvent(marker))
        #expect(event.parentPID == UInt32(outcome.pid))
        #expect(event.parentPID != middle)
        #expect(event.parentNameString == "subreaper")
        #expect(event.parentExecutableString == program)
    }

    @Test("Orphan skips a live grandparent for the subreaper")
    func orphanSkipsGrandparent() async throws {
        let directory = try Shell.makeDirectory("grandparent")
        defer { Shell.remove(directory) }
        // reaper (subreaper) -> bystander -> middle -> orphan. The middle
        // exits while the bystander lives on, reading a pipe that the
        // orphan keeps open across its exec. The kernel gives the orphan to
        // the nearest subreaper, not to the bystander.
        let program = try ExecPrograms.compile("""
            #include <stdio.h>
            #include <sys/prctl.h>
            #include <sys/wait.h>
            #include <unistd.h>
            int main(int argc, char **argv) {
                int pipe_fds[2], status, failed = 0;
                char byte;
                if (argc != 2 || prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) return 2;
                if (fork() == 0) {
                    prctl(PR_SET_NAME, "bystander", 0, 0, 0);
                    if (pipe(pipe_fds)) _exit(4);
                    pid_t middle = fork();
                    if (middle == 0) {
                        middle = getpid();
                        if (fork() != 0) _exit(0);
                        close(pipe_fds[0]);
                        for (int i = 0; getppid() == middle; i++) {
                            if (i == 10000) _exit(3);
                            usleep(1000);
                        }
                        printf("%d\\n", getppid());
                        fflush(stdout);
                        execl("/usr/bin/unshare", "unshare", "--uts", "/bin/true", argv[1], (char *)0);
                        _exit(127);
                    }
                    close(pipe_fds[1]);
                    waitpid(middle, 0, 0);
                    while (read(pipe_fds[0], &byte, 1) > 0) {}
                    _exit(0);
                }
                while (wait(&status) > 0)
                    failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
                return failed;
            }
            """, named: "reaper", in: directory)
        let marker = Shell.marker("grandparent")
        let outcome = try Shell.run(executable: program, arguments: [marker])
        try #require(outcome.status == 0, "\(outcome.errorOutput)")
        let adopter = UInt32(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(adopter == UInt32(outcome.pid))

        let event = try #require(await unshareEvent(marker))
        #expect(event.parentPID == UInt32(outcome.pid))
        #expect(event.parentNameString == "reaper")
        #expect(event.parentExecutableString == program)
    }

    @Test("Parent started before the sensor is read from the kernel")
    func parentOlderThanSensor() async throws {
        let directory = try Shell.makeDirectory("older")
        defer { Shell.remove(directory) }
        let java = "\(directory)/java"
        try ExecPrograms.copyPython(to: java)
        let fifo = "\(directory)/go"
        try #require(mkfifo(fifo, 0o600) == 0)
        let marker = Shell.marker("older")

        let parent = Process()
        parent.executableURL = URL(fileURLWithPath: java)
        parent.arguments = ["-c", """
            import subprocess
            open("\(fifo)").read()
            subprocess.run(["/usr/bin/unshare", "--uts", "/bin/true", "\(marker)"], check=True)
            """]
        parent.standardInput = FileHandle.nullDevice
        try parent.run()
        defer {
            if parent.isRunning { kill(parent.processIdentifier, SIGKILL) }
        }

        let sensor = try RunningSensor(arguments: ["--events"])
        defer { sensor.stop() }
        try "go\n".write(toFile: fifo, atomically: false, encoding: .utf8)
        parent.waitUntilExit()
        #expect(parent.terminationStatus == 0)

        // The unshare's event, then that of the /bin/true it runs.
        _ = await sensor.lines(count: 2, containing: marker)
        #expect(sensor.stop() == 0)
        let lines = sensor.lines(containing: marker)
        let documents = lines.compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let events = documents.filter {
            ($0["process"] as? [String: Any])?["name"] as? String == "unshare"
        }
        let event = try #require(events.first)
        let process = try #require(event["process"] as? [String: Any])
        let parentFields = try #require(process["parent"] as? [String: Any])
        #expect(parentFields["name"] as? String == "java")
        #expect(parentFields["executable"] as? String == java)
        #expect(parentFields["pid"] as? Int == Int(parent.processIdentifier))
        #expect(parentFields["entity_id"] as? String != nil)
        #expect(parentFields["start"] as? String != nil)
        // The v9 rule excludes a java parent; later revisions do not.
        let v9Alerts = events.filter {
            ($0["event"] as? [String: Any])?["kind"] as? String == "alert"
                && ($0["rule"] as? [String: Any])?["version"] as? String == "9"
        }
        #expect(v9Alerts.isEmpty)
        #expect(events.contains { ($0["event"] as? [String: Any])?["kind"] as? String == "event" })
    }

    @Test("Entity ids are stable across exec and unique")
    func entityIDs() async throws {
        let marker = Shell.marker("entity")
        let children = 40
        let outcome = try Shell.run(executable: "/bin/sh", arguments: [
            "-c",
            """
            i=0
            while [ $i -lt \(children) ]; do /bin/true "$0"; i=$((i + 1)); done
            exec /usr/bin/env /bin/true "$0"
            """,
            marker,
        ])
        try #require(outcome.status == 0)

        let events = await harness.events(count: children + 3) { $0.hasArgument(marker) }
        try #require(events.count == children + 3)
        let shellPID = UInt32(outcome.pid)
        let own = events.filter { $0.pid == shellPID }
        let spawned = events.filter { $0.pid != shellPID }
        #expect(own.map(\.nameString) == ["sh", "env", "true"])
        #expect(spawned.count == children)

        let ownIDs = own.compactMap { harness.eventLine($0)?.string("process.entity_id") }
        try #require(ownIDs.count == 3)
        #expect(Set(ownIDs).count == 1)
        var seen = Set(ownIDs)
        for child in spawned {
            let line = try #require(harness.eventLine(child))
            #expect(line.string("process.parent.entity_id") == ownIDs[0])
            let id = try #require(line.string("process.entity_id"))
            #expect(id.count == 32)
            #expect(!seen.contains(id))
            seen.insert(id)
        }
        #expect(seen.count == children + 1)
    }
}
