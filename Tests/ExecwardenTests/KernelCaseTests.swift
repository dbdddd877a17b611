import Foundation
import Testing
@testable import ExecwardenCore

/// Exec situations that broke other sensors, run on the real kernel against
/// the embedded BPF object. Each test makes its own execs, finds them by a
/// marker argument or a pid, and checks the fields and the v9 verdict.
@Suite("Kernel field cases")
struct KernelCaseTests {
    let harness: KernelHarness

    init() throws {
        harness = try KernelHarness.require()
    }

    private func unshareEvents(
        _ marker: String, count: Int
    ) async -> [ExecEvent] {
        await harness.events(count: count) {
            $0.hasArgument(marker) && $0.nameString == "unshare"
        }
    }

    private func alertCount(_ marker: String) -> Int {
        harness.alerts { $0.hasArgument(marker) }.count
    }

    @Test("/bin symlink resolves to /usr/bin/unshare")
    func mergedUsrSymlink() async throws {
        let marker = Shell.marker("symlink")
        try Shell.run("/bin/unshare --uts /bin/true \(marker)")
        try Shell.run("PATH=/bin:/usr/bin unshare --uts true \(marker)")

        let events = await unshareEvents(marker, count: 2)
        try #require(events.count == 2)
        for event in events {
            #expect(event.executableString == "/usr/bin/unshare")
            #expect(event.nameString == "unshare")
        }
        #expect(events.map { $0.argStrings[0] }.sorted() == ["/bin/unshare", "unshare"])
        #expect(alertCount(marker) == 2)
    }

    @Test("Relative paths resolve to the file executed")
    func relativePaths() async throws {
        let marker = Shell.marker("relative")
        try Shell.run("cd /usr/bin && ./unshare --uts true \(marker)")
        try Shell.run("cd /usr/share && ../bin/unshare --uts true \(marker)")
        try Shell.run("cd /tmp && ../usr/bin/../bin/unshare --uts true \(marker)")

        let events = await unshareEvents(marker, count: 3)
        try #require(events.count == 3)
        for event in events {
            #expect(event.executableString == "/usr/bin/unshare")
        }
        #expect(
            Set(events.map { $0.argStrings[0] })
                == ["./unshare", "../bin/unshare", "../usr/bin/../bin/unshare"])
        #expect(alertCount(marker) == 3)
    }

    @Test("Script parent named zz-proxmox-boot is excluded")
    func proxmoxBootHookScript() async throws {
        let directory = try Shell.makeDirectory("proxmox")
        defer { Shell.remove(directory) }
        let hook = "\(directory)/zz-proxmox-boot"
        let script = """
            #! /bin/sh
            if [ -z "$EW_UNSHARED" ]; then
              export EW_UNSHARED=1
              unshare --mount --propagation private "$0" "$@"
              exit 0
            fi
            echo inside
            """
        try script.write(toFile: hook, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o755], ofItemAtPath: hook)
        let marker = Shell.marker("proxmox")
        let outcome = try Shell.run(executable: hook, arguments: ["6.8.12-4-pve", marker])
        #expect(outcome.output.contains("inside"))

        let events = await harness.events(count: 3) { $0.hasArgument(marker) }
        try #require(events.count == 3)
        let hookRun = events[0]
        let unshare = events[1]
        let rerun = events[2]

        #expect(hookRun.executableString == "/usr/bin/dash")
        #expect(hookRun.nameString == "zz-proxmox-boot")
        #expect(hookRun.argStrings == ["/bin/sh", hook, "6.8.12-4-pve", marker])
        #expect(hookRun.scriptString == hook)
        #expect(hookRun.flags.contains(.interpreted))

        #expect(unshare.executableString == "/usr/bin/unshare")
        #expect(unshare.argStrings == [
            "unshare", "--mount", "--propagation", "private", hook, "6.8.12-4-pve", marker,
        ])
        #expect(unshare.parentExecutableString == "/usr/bin/dash")
        #expect(unshare.parentNameString == "zz-proxmox-boot")
        #expect(unshare.parentPID == hookRun.pid)

        #expect(rerun.pid == unshare.pid)
        #expect(rerun.executableString == "/usr/bin/dash")
        #expect(rerun.nameString == "zz-proxmox-boot")
        #expect(rerun.parentPID == hookRun.pid)
        #expect(rerun.parentNameString == "zz-proxmox-boot")

        #expect(alertCount(marker) == 0)
    }

    @Test("Exclusion token past common argv caps is seen")
    func exclusionBeyondArgvCaps() async throws {
        let marker = Shell.marker("argcap")
        let thousand = String(repeating: "A", count: 1000)
        let many = Array(repeating: thousand, count: 30)
        let manyArgs = ["/usr/bin/unshare", "--uts", "--", "/bin/sh", "-c", "exit 0", marker]
            + many + ["/usr/bin/snap"]
        try Shell.run(executable: "/usr/bin/unshare", arguments: Array(manyArgs.dropFirst()))

        let huge = String(repeating: "B", count: 131_071)
        let hugeArgs = ["/usr/bin/unshare", "--uts", "--", "/bin/sh", "-c", "exit 0", marker, huge, "/usr/bin/snap"]
        try Shell.run(executable: "/usr/bin/unshare", arguments: Array(hugeArgs.dropFirst()))

        let events = await unshareEvents(marker, count: 2)
        try #require(events.count == 2)
        let byCount = Dictionary(grouping: events) { $0.args.count }
        let first = try #require(byCount[manyArgs.count]?.first)
        let second = try #require(byCount[hugeArgs.count]?.first)

        #expect(first.argStrings == manyArgs)
        #expect(first.argc == UInt32(manyArgs.count))
        #expect(!first.flags.contains(.argsTruncated))
        #expect(second.argStrings == hugeArgs)
        #expect(second.argc == UInt32(hugeArgs.count))
        #expect(!second.flags.contains(.argsTruncated))
        #expect(alertCount(marker) == 0)
    }

    @Test("argc of zero gives one empty argument")
    func emptyArgv() async throws {
        let directory = try Shell.makeDirectory("argc0")
        defer { Shell.remove(directory) }
        let source = """
            #include <sys/syscall.h>
            #include <unistd.h>
            extern char **environ;
            int main(void) {
                syscall(SYS_execve, "/usr/bin/unshare", (char **)0, environ);
                return 127;
            }
            """
        try source.write(toFile: "\(directory)/argc0.c", atomically: true, encoding: .utf8)
        let compile = try Shell.run("cc -o argc0 argc0.c", directory: directory)
        try #require(compile.status == 0)

        var environment = ProcessInfo.processInfo.environment
        environment["SHELL"] = "/bin/true"
        let outcome = try Shell.run(
            executable: "\(directory)/argc0", arguments: [], environment: environment)

        let events = await harness.events(count: 1) {
            $0.pid == UInt32(outcome.pid) && $0.nameString == "unshare"
        }
        let event = try #require(events.first)
        #expect(event.executableString == "/usr/bin/unshare")
        #expect(event.args == [[]])
        #expect(event.argc == 1)
        let alerts = harness.alerts { $0.pid == UInt32(outcome.pid) && $0.nameString == "unshare" }
        #expect(alerts.count == 1)
    }

    @Test("Bytes that are not UTF-8 stay exact")
    func hostileBytes() async throws {
        let directory = try Shell.makeDirectory("bytes")
        defer { Shell.remove(directory) }
        let marker = Shell.marker("bytes")
        let script = """
            W=$(printf '\(directory)/dir with space\\nnewline\\377\\376')
            mkdir -p "$W"
            /usr/bin/unshare --uts -- /bin/sh -c 'exit 0' "$(printf '\\377\\376')" \
              "$(printf 'line1\\nline2')" "$(printf 'tab\\tq"uote\\\\')" 'é✓' \(marker)
            cp /usr/bin/unshare "$W/unshare"
            "$W/unshare" --uts /bin/true \(marker)
            """
        try Shell.run(script)

        let events = await unshareEvents(marker, count: 2)
        try #require(events.count == 2)
        let first = try #require(events.first { $0.executableString == "/usr/bin/unshare" })
        let expectedArgs: [[UInt8]] = [
            Array("/usr/bin/unshare".utf8), Array("--uts".utf8), Array("--".utf8),
            Array("/bin/sh".utf8), Array("-c".utf8), Array("exit 0".utf8),
            [0xFF, 0xFE], Array("line1\nline2".utf8), Array("tab\tq\"uote\\".utf8),
            Array("é✓".utf8), Array(marker.utf8),
        ]
        #expect(first.args == expectedArgs)

        let second = try #require(events.first { $0.executableString != "/usr/bin/unshare" })
        let expectedPath = Array("\(directory)/dir with space\nnewline".utf8)
            + [0xFF, 0xFE] + Array("/unshare".utf8)
        #expect(second.executable == expectedPath)

        let alerts = harness.alerts { $0.hasArgument(marker) && $0.nameString == "unshare" }
        #expect(alerts.count == 1)
        #expect(alerts.first?.event.executableString == "/usr/bin/unshare")
        for line in harness.lines(where: { $0.hasArgument(marker) }) {
            #expect(!line.json.contains(UInt8(ascii: "\n")))
            #expect(!line.document.isEmpty)
        }
    }

    @Test("Parent thread reports its process, not the thread")
    func threadParent() async throws {
        let directory = try Shell.makeDirectory("thread")
        defer { Shell.remove(directory) }
        let java = "\(directory)/java"
        try FileManager.default.copyItem(
            atPath: URL(fileURLWithPath: "/usr/bin/python3").resolvingSymlinksInPath().path,
            toPath: java)
        let marker = Shell.marker("thread")
        let program = """
            import ctypes, os, subprocess, threading
            libc = ctypes.CDLL(None)
            def worker():
                libc.prctl(15, b"pool-1-thread-1", 0, 0, 0)
                print(os.getpid(), threading.get_native_id(), flush=True)
                subprocess.run(["/usr/bin/unshare", "--uts", "/bin/true", "\(marker)"])
            t = threading.Thread(target=worker); t.start(); t.join()
            """
        let outcome = try Shell.run(executable: java, arguments: ["-c", program])
        let ids = outcome.output.split(whereSeparator: \.isWhitespace).compactMap { UInt32($0) }
        try #require(ids.count == 2)
        #expect(ids[0] != ids[1])

        let events = await unshareEvents(marker, count: 1)
        let event = try #require(events.first)
        #expect(event.parentPID == ids[0])
        #expect(event.parentNameString == "java")
        #expect(event.parentExecutableString == java)
        #expect(alertCount(marker) == 0)
    }

    @Test("Parent that exits at once is still reported")
    func parentGoneBeforeUserSpace() async throws {
        let marker = Shell.marker("gone")
        let rounds = 200
        try Shell.run("""
            i=0
            while [ $i -lt \(rounds) ]; do
              /usr/bin/unshare --uts --fork /usr/bin/unshare --uts /bin/true \(marker)
              i=$((i + 1))
            done
            """)

        let events = await unshareEvents(marker, count: 2 * rounds)
        let outer = events.filter { $0.argStrings.count == 7 }
        let inner = events.filter { $0.argStrings.count == 4 }
        #expect(outer.count == rounds)
        #expect(inner.count == rounds)

        let outerPIDs = Set(outer.map(\.pid))
        for event in inner {
            #expect(event.parentExecutableString == "/usr/bin/unshare")
            #expect(outerPIDs.contains(event.parentPID))
        }
        for event in outer {
            #expect(event.parentNameString == "sh")
        }
        let alerts = harness.alerts { $0.hasArgument(marker) && $0.nameString == "unshare" }
        #expect(alerts.count == rounds)
        #expect(alerts.allSatisfy { $0.event.argStrings.count == 7 })
    }

    @Test("PID namespace reports host pids")
    func pidNamespace() async throws {
        let marker = Shell.marker("pidns")
        let outcome = try Shell.run(executable: "/usr/bin/unshare", arguments: [
            "--pid", "--fork", "--mount-proc", "--", "/bin/sh", "-c",
            """
            echo $$
            /usr/bin/unshare --uts /bin/true first \(marker)
            exec /usr/bin/unshare --uts /bin/true second \(marker)
            """,
            marker,
        ])
        #expect(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines) == "1")

        let events = await unshareEvents(marker, count: 3)
        try #require(events.count == 3)
        let outer = try #require(events.first { $0.pid == UInt32(outcome.pid) })
        let first = try #require(events.first { $0.hasArgument("first") })
        let second = try #require(events.first { $0.hasArgument("second") })
        let shells = await harness.events(count: 1) {
            $0.hasArgument(marker) && $0.nameString == "sh"
        }
        let shell = try #require(shells.first)

        #expect(shell.namespacePID == 1)
        #expect(shell.parentPID == outer.pid)

        #expect(first.parentExecutableString == "/usr/bin/dash")
        #expect(first.parentNameString == "sh")
        #expect(first.parentPID == shell.pid)
        #expect(first.namespaceParentPID == 1)
        #expect(first.namespaceInode(.pid) != outer.namespaceInode(.pid))

        #expect(second.pid == shell.pid)
        #expect(second.namespacePID == 1)
        #expect(second.parentExecutableString == "/usr/bin/unshare")
        #expect(second.parentPID == outer.pid)

        let alerted = Set(harness.alerts { $0.hasArgument(marker) }.map(\.event.pid))
        #expect(alerted.contains(outer.pid))
        #expect(alerted.contains(first.pid))
        let secondAlerts = harness.alerts { $0.hasArgument("second") && $0.hasArgument(marker) }
        #expect(secondAlerts.isEmpty)
    }

    @Test("Real output uses only ECS fields")
    func realOutputMatchesECS() async throws {
        let catalog = try ECSFieldCatalog.load()
        let marker = Shell.marker("ecs")
        try Shell.run(executable: "/usr/bin/unshare", arguments: ["--uts", "/bin/true", marker])
        try Shell.run("printf '#!/bin/sh\\nexit 0\\n' > /tmp/\(marker).sh; chmod +x /tmp/\(marker).sh; /tmp/\(marker).sh \(marker); rm /tmp/\(marker).sh")

        let events = await harness.events(count: 3) { $0.hasArgument(marker) }
        #expect(events.count == 3)
        let lines = harness.lines { $0.hasArgument(marker) }
        #expect(lines.contains { $0.isAlert })
        for line in lines {
            let document = line.document
            #expect(!document.isEmpty)
            #expect(catalog.violations(in: document) == [])
        }
    }

    @Test("Argv past the capture limit is flagged")
    func argvPastCaptureLimit() async throws {
        let marker = Shell.marker("argvcap")
        let filler = String(repeating: "F", count: 100_000)
        let arguments = ["--uts", "--", "/bin/sh", "-c", "exit 0", marker, filler, filler, filler, "/usr/bin/snap"]
        try Shell.run(executable: "/usr/bin/unshare", arguments: arguments)

        let events = await unshareEvents(marker, count: 1)
        let event = try #require(events.first)
        #expect(event.flags.contains(.argsTruncated))
        #expect(event.argc == UInt32(arguments.count + 1))
        #expect(event.args.count < arguments.count + 1)
        #expect(event.args.allSatisfy { $0.count <= filler.count })
        #expect(!event.hasArgument("/usr/bin/snap"))
        let captured = Array(["/usr/bin/unshare"] + arguments).prefix(event.args.count)
        #expect(event.argStrings == Array(captured))

        let alerts = harness.alerts { $0.hasArgument(marker) && $0.nameString == "unshare" }
        #expect(alerts.count == 1)
        #expect(alerts.first?.verdict == .uncertain)
    }

    @Test("Path of 1500 components keeps its prefix")
    func manyComponents() async throws {
        let directory = try Shell.makeDirectory("components")
        defer { Shell.remove(directory) }
        let marker = Shell.marker("components")
        try Shell.run(executable: "/usr/bin/python3", arguments: ["-c", """
            import os, shutil, subprocess
            os.chdir("\(directory)")
            for i in range(1500):
                os.mkdir("m"); os.chdir("m")
            shutil.copy("/usr/bin/unshare", "unshare")
            subprocess.run(["./unshare", "--uts", "/bin/true", "\(marker)"])
            """])

        let events = await unshareEvents(marker, count: 1)
        let event = try #require(events.first)
        let full = directory + String(repeating: "/m", count: 1500) + "/unshare"
        #expect(event.flags.contains(.executableTruncated))
        #expect(!event.flags.contains(.executableIncomplete))
        #expect(event.executable.count >= 2048)
        #expect(full.hasPrefix(event.executableString))
        // The kept beginning already differs from /usr/bin/unshare, so the
        // part cut off cannot make the rule match.
        let alerts = harness.alerts { $0.hasArgument(marker) && $0.nameString == "unshare" }
        #expect(alerts.isEmpty)
    }

    @Test("Stacked mounts past the walk limit are flagged")
    func stackedMounts() async throws {
        let marker = Shell.marker("stacked")
        let outcome = try Shell.run(executable: "/usr/bin/unshare", arguments: [
            "-m", "--propagation", "private", "/usr/bin/python3", "-c", """
            import ctypes, subprocess, sys
            libc = ctypes.CDLL(None, use_errno=True)
            for i in range(16500):
                if libc.mount(b"/usr/bin", b"/usr/bin", None, 4096, None) != 0:
                    sys.exit("bind mount failed")
            subprocess.run(["/usr/bin/unshare", "--uts", "/usr/bin/true", "\(marker)"])
            """,
        ])
        try #require(outcome.status == 0)

        let events = await unshareEvents(marker, count: 1)
        let event = try #require(events.first)
        #expect(event.flags.contains(.executableIncomplete))
        let alerts = harness.alerts { $0.hasArgument(marker) && $0.nameString == "unshare" }
        #expect(alerts.count == 1)
        #expect(alerts.first?.verdict == .uncertain)
    }

    @Test("Parent whose leader exited keeps its path")
    func parentLeaderExited() async throws {
        let directory = try Shell.makeDirectory("leader")
        defer { Shell.remove(directory) }
        let marker = Shell.marker("leader")
        let source = """
            #include <pthread.h>
            #include <sys/wait.h>
            #include <unistd.h>
            static void *worker(void *unused) {
                usleep(100000);
                pid_t child = fork();
                if (child == 0) {
                    execl("/usr/bin/unshare", "unshare", "--uts", "/bin/true", "\(marker)", (char *)0);
                    _exit(127);
                }
                waitpid(child, 0, 0);
                return unused;
            }
            int main(void) {
                pthread_t thread;
                pthread_create(&thread, 0, worker, 0);
                pthread_exit(0);
            }
            """
        try source.write(toFile: "\(directory)/leader.c", atomically: true, encoding: .utf8)
        let compile = try Shell.run("cc -pthread -o leader leader.c", directory: directory)
        try #require(compile.status == 0)
        let outcome = try Shell.run(executable: "\(directory)/leader", arguments: [])

        let events = await unshareEvents(marker, count: 1)
        let event = try #require(events.first)
        #expect(event.parentPID == UInt32(outcome.pid))
        #expect(event.parentExecutableString == "\(directory)/leader")
        #expect(!event.flags.contains(.parentHasNoExecutable))
    }

    @Test("Executable on a detached mount is flagged")
    func detachedMount() async throws {
        let marker = Shell.marker("detached")
        // open_tree(OPEN_TREE_CLONE) makes a copy of /usr/bin that no mount
        // namespace contains; execveat then runs unshare from it. The
        // syscall numbers are those of x86_64.
        let outcome = try Shell.run(executable: "/usr/bin/python3", arguments: ["-c", """
            import ctypes, os, sys
            libc = ctypes.CDLL(None, use_errno=True)
            SYS_open_tree, SYS_execveat = 428, 322
            fd = libc.syscall(SYS_open_tree, -100, b"/usr/bin", 1)
            if fd < 0:
                sys.exit("open_tree failed: " + os.strerror(ctypes.get_errno()))
            argv = (ctypes.c_char_p * 5)(b"unshare", b"--uts", b"/bin/true", b"\(marker)", None)
            envp = (ctypes.c_char_p * 1)(None)
            libc.syscall(SYS_execveat, fd, b"unshare", argv, envp, 0)
            sys.exit("execveat failed: " + os.strerror(ctypes.get_errno()))
            """])
        try #require(outcome.status == 0, "\(outcome.errorOutput)")

        let events = await unshareEvents(marker, count: 1)
        let event = try #require(events.first)
        #expect(event.flags.contains(.executableUnreachable))
        #expect(event.executableString == "/unshare")
        let alerts = harness.alerts { $0.hasArgument(marker) && $0.nameString == "unshare" }
        #expect(alerts.count == 1)
        #expect(alerts.first?.verdict == .uncertain)
    }
}
