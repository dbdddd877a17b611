import Foundation
import Testing
@testable import ExecwardenCore

/// `process.executable` for every way a file reaches exec: through a
/// descriptor, from memory, after an unlink or a rename, from a long or
/// deep directory, and under another root. The path must always be the
/// executed file's own path, as the process itself names it.
@Suite("Kernel executable paths")
struct KernelPathCaseTests {
    let harness: KernelHarness

    init() throws {
        harness = try KernelHarness.require()
    }

    private func events(_ marker: String, count: Int = 1) async -> [ExecEvent] {
        await harness.events(count: count) { $0.hasArgument(marker) }
    }

    /// Returns the execs the launcher made: those with argv[0] "unshare",
    /// and the /bin/true each of them ran.
    private func launchedEvents(_ marker: String, count: Int = 1) async -> [ExecEvent] {
        await harness.events(count: count) {
            $0.hasArgument(marker) && $0.argStrings.first != nil
                && ["unshare", "/bin/true"].contains($0.argStrings[0])
        }
    }

    private func alerts(_ marker: String) -> [CapturedLine] {
        harness.alerts { $0.hasArgument(marker) }
    }

    /// Runs `unshare --uts /bin/true MARKER` in one of the ways below:
    ///
    ///     launch dirfd DIRECTORY NAME MARKER   execveat(dirfd, NAME, 0)
    ///     launch emptypath FILE MARKER         execveat(fd, "", AT_EMPTY_PATH)
    ///     launch fexecve FILE MARKER           fexecve(fd)
    ///     launch procfd FILE MARKER            execve("/proc/self/fd/N")
    ///     launch unlinked FILE MARKER          unlink FILE, then fexecve(fd)
    ///     launch moved FILE MARKER             rename FILE to FILE.moved, then fexecve
    ///     launch replaced FILE MARKER          rename FILE.new over FILE, then fexecve
    ///     launch memfd FILE NAME MARKER        copy FILE into memfd NAME, fexecve it
    ///
    /// Every failure exits with a message on stderr.
    static let launcherSource = #"""
        #define _GNU_SOURCE
        #include <errno.h>
        #include <fcntl.h>
        #include <stdio.h>
        #include <string.h>
        #include <sys/mman.h>
        #include <sys/sendfile.h>
        #include <sys/stat.h>
        #include <sys/syscall.h>
        #include <unistd.h>

        extern char **environ;

        static int fail(const char *what) {
            fprintf(stderr, "launch: %s: %s\n", what, strerror(errno));
            return 1;
        }

        static int open_file(const char *path) {
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) fail("open");
            return fd;
        }

        int main(int argc, char **argv) {
            if (argc < 4) {
                fprintf(stderr, "usage: launch MODE FILE|DIRECTORY [NAME] MARKER\n");
                return 2;
            }
            const char *mode = argv[1], *target = argv[2];
            char *marker = argv[argc - 1];
            char *args[] = {"unshare", "--uts", "/bin/true", marker, 0};
            char moved[4096], fresh[4096], proc[64];
            int fd;

            if (!strcmp(mode, "dirfd")) {
                int dir = open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (dir < 0) return fail("open directory");
                syscall(SYS_execveat, dir, argv[3], args, environ, 0);
                return fail("execveat");
            }
            if (!strcmp(mode, "memfd")) {
                struct stat st;
                int source = open_file(target);
                fd = memfd_create(argv[3], MFD_CLOEXEC);
                if (source < 0 || fd < 0 || fstat(source, &st)) return fail("memfd");
                if (sendfile(fd, source, 0, st.st_size) != st.st_size) return fail("sendfile");
                fexecve(fd, args, environ);
                return fail("fexecve memfd");
            }
            fd = open_file(target);
            if (fd < 0) return 1;
            if (!strcmp(mode, "emptypath")) {
                syscall(SYS_execveat, fd, "", args, environ, AT_EMPTY_PATH);
                return fail("execveat AT_EMPTY_PATH");
            }
            if (!strcmp(mode, "procfd")) {
                int plain = open(target, O_RDONLY);
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", plain);
                execve(proc, args, environ);
                return fail("execve /proc/self/fd");
            }
            if (!strcmp(mode, "unlinked") && unlink(target)) return fail("unlink");
            snprintf(moved, sizeof(moved), "%s.moved", target);
            if (!strcmp(mode, "moved") && rename(target, moved)) return fail("rename away");
            snprintf(fresh, sizeof(fresh), "%s.new", target);
            if (!strcmp(mode, "replaced") && rename(fresh, target)) return fail("rename over");
            fexecve(fd, args, environ);
            return fail("fexecve");
        }
        """#

    /// Builds the launcher in a fresh directory, which the caller removes.
    private func makeLauncher(_ tag: String) throws -> (directory: String, launcher: String) {
        let directory = try Shell.makeDirectory(tag)
        do {
            let launcher = try ExecPrograms.compile(Self.launcherSource, named: "launch", in: directory)
            return (directory, launcher)
        } catch {
            Shell.remove(directory)
            throw error
        }
    }

    private func launch(_ launcher: String, _ arguments: [String]) throws {
        let outcome = try Shell.run(executable: launcher, arguments: arguments)
        try #require(outcome.status == 0, "launch \(arguments): \(outcome.errorOutput)")
    }

    @Test("execveat with a directory fd names the file", arguments: [
        ("/usr/bin", "unshare"), ("/usr", "bin/unshare"), ("/usr/share", "../bin/unshare"),
        ("/", "bin/unshare"),
    ])
    func execveatDirectory(directory: String, name: String) async throws {
        let (scratch, launcher) = try makeLauncher("dirfd")
        defer { Shell.remove(scratch) }
        let marker = Shell.marker("dirfd")
        try launch(launcher, ["dirfd", directory, name, marker])

        let event = try #require(await launchedEvents(marker).first)
        #expect(event.executableString == "/usr/bin/unshare")
        #expect(event.nameString == "unshare")
        #expect(!event.flags.contains(.executableDeleted))
        #expect(alerts(marker).count == 1)
    }

    @Test("execveat AT_EMPTY_PATH, fexecve and /proc/self/fd name the file", arguments: [
        "emptypath", "fexecve", "procfd",
    ])
    func execThroughDescriptor(mode: String) async throws {
        let (scratch, launcher) = try makeLauncher("fd")
        defer { Shell.remove(scratch) }
        let marker = Shell.marker("fd")
        try launch(launcher, [mode, "/usr/bin/unshare", marker])

        let event = try #require(await launchedEvents(marker).first)
        #expect(event.executableString == "/usr/bin/unshare")
        #expect(!event.flags.contains(.executablePseudo))
        #expect(!event.flags.contains(.executableUnreachable))
        let alerts = alerts(marker)
        #expect(alerts.count == 1)
        #expect(alerts.first?.verdict == .match)
    }

    @Test("memfd executable has flags and a name, no path")
    func memfdExecutable() async throws {
        let (scratch, launcher) = try makeLauncher("memfd")
        defer { Shell.remove(scratch) }
        let marker = Shell.marker("memfd")
        let memfdName = "ew-image-\(marker.suffix(8))"
        try launch(launcher, ["memfd", "/usr/bin/unshare", memfdName, marker])

        let event = try #require(await launchedEvents(marker).first)
        #expect(event.flags.contains(.executableMemfd))
        #expect(event.flags.contains(.executablePseudo))
        #expect(!event.hasExecutablePath)
        let line = try #require(harness.eventLine(event))
        #expect(line.field("process.executable") == nil)
        #expect(line.bool("execwarden.process.memfd") == true)
        #expect(line.string("execwarden.process.memfd_name") == memfdName)
        #expect(!String(decoding: line.json, as: UTF8.self).contains("(deleted)"))
    }

    @Test("Unlinked executable is flagged, path kept clean")
    func unlinkedExecutable() async throws {
        let (scratch, launcher) = try makeLauncher("unlinked")
        defer { Shell.remove(scratch) }
        let file = "\(scratch)/unshare-gone"
        try FileManager.default.copyItem(atPath: "/usr/bin/unshare", toPath: file)
        let marker = Shell.marker("unlinked")
        try launch(launcher, ["unlinked", file, marker])

        let event = try #require(await launchedEvents(marker).first)
        #expect(event.executableString == file)
        #expect(event.flags.contains(.executableDeleted))
        #expect(!event.flags.contains(.executablePseudo))
        let line = try #require(harness.eventLine(event))
        #expect(line.string("process.executable") == file)
        #expect(line.bool("execwarden.process.executable_deleted") == true)
    }

    @Test("Executable renamed before exec has its new name")
    func renamedExecutable() async throws {
        let (scratch, launcher) = try makeLauncher("moved")
        defer { Shell.remove(scratch) }
        let file = "\(scratch)/tool"
        try FileManager.default.copyItem(atPath: "/usr/bin/unshare", toPath: file)
        let marker = Shell.marker("moved")
        try launch(launcher, ["moved", file, marker])

        let event = try #require(await launchedEvents(marker).first)
        #expect(event.executableString == "\(file).moved")
        #expect(!event.flags.contains(.executableDeleted))
    }

    @Test("Executable replaced by rename is flagged deleted")
    func replacedExecutable() async throws {
        let (scratch, launcher) = try makeLauncher("replaced")
        defer { Shell.remove(scratch) }
        let file = "\(scratch)/tool"
        try FileManager.default.copyItem(atPath: "/usr/bin/unshare", toPath: file)
        try FileManager.default.copyItem(atPath: "/usr/bin/true", toPath: "\(file).new")
        let marker = Shell.marker("replaced")
        try launch(launcher, ["replaced", file, marker])

        let events = await launchedEvents(marker, count: 2)
        try #require(events.count == 2)
        let replaced = events[0]
        #expect(replaced.executableString == file)
        #expect(replaced.flags.contains(.executableDeleted))
        // The file that ran is the old unshare, which then ran /bin/true,
        // not the copy of true now at its path.
        #expect(events[1].pid == replaced.pid)
        #expect(events[1].executableString == "/usr/bin/true")
    }

    @Test("Path longer than PATH_MAX keeps an absolute prefix")
    func pathPastPathMax() async throws {
        let directory = try Shell.makeDirectory("long")
        defer { ExecPrograms.removeTree(directory) }
        let marker = Shell.marker("long")
        let component = String(repeating: "d", count: 200)
        let outcome = try Shell.run(executable: "/usr/bin/python3", arguments: ["-c", """
            import os, shutil, subprocess
            os.chdir("\(directory)")
            for i in range(25):
                os.mkdir("\(component)"); os.chdir("\(component)")
            shutil.copy("/usr/bin/unshare", "unshare")
            subprocess.run(["./unshare", "--uts", "/bin/true", "\(marker)"], check=True)
            """])
        try #require(outcome.status == 0, "\(outcome.errorOutput)")

        let event = try #require(await events(marker).first)
        let full = directory + String(repeating: "/" + component, count: 25) + "/unshare"
        #expect(full.utf8.count > 5000)
        #expect(event.executable.first == UInt8(ascii: "/"))
        #expect(!event.flags.contains(.executableIncomplete))
        if event.flags.contains(.executableTruncated) {
            #expect(event.executable.count >= 1024)
            #expect(full.hasPrefix(event.executableString))
        } else {
            #expect(event.executableString == full)
        }
        let line = try #require(harness.eventLine(event))
        let rendered = try #require(line.string("process.executable"))
        #expect(rendered.hasPrefix(directory))

        // The captured prefix already differs from /usr/bin/unshare, so the
        // path that was cut off cannot make the rule match.
        #expect(alerts(marker).count == 0)
    }

    @Test("Path of 150 components is exact")
    func deepPath() async throws {
        let directory = try Shell.makeDirectory("deep")
        defer { ExecPrograms.removeTree(directory) }
        let marker = Shell.marker("deep")
        let outcome = try Shell.run(executable: "/usr/bin/python3", arguments: ["-c", """
            import os, shutil, subprocess
            os.chdir("\(directory)")
            for i in range(150):
                os.mkdir("d"); os.chdir("d")
            shutil.copy("/usr/bin/unshare", "unshare")
            subprocess.run(["./unshare", "--uts", "/bin/true", "\(marker)"], check=True)
            """])
        try #require(outcome.status == 0, "\(outcome.errorOutput)")

        let event = try #require(await events(marker).first)
        let full = directory + String(repeating: "/d", count: 150) + "/unshare"
        #expect(event.executableString == full)
        #expect(!event.flags.contains(.executableTruncated))
        #expect(!event.flags.contains(.executableIncomplete))
        #expect(alerts(marker).isEmpty)
    }

    @Test("chroot reports the path inside the new root")
    func chrootPath() async throws {
        let root = try Shell.makeDirectory("chroot")
        defer { ExecPrograms.removeTree(root) }
        try ExecPrograms.populateRoot(
            root, with: ["/usr/bin/unshare", "/usr/bin/true", "/usr/bin/dash"])
        try FileManager.default.createSymbolicLink(
            atPath: "\(root)/usr/bin/sh", withDestinationPath: "dash")
        // A second copy at a path the host does not have.
        try FileManager.default.createDirectory(
            atPath: "\(root)/opt/tools", withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: "/usr/bin/unshare", toPath: "\(root)/opt/tools/unshare")
        let marker = Shell.marker("chroot")
        let outcome = try Shell.run(executable: "/usr/sbin/chroot", arguments: [
            root, "/bin/sh", "-c",
            "/usr/bin/unshare --uts /usr/bin/true $0; /opt/tools/unshare --uts /bin/true $0", marker,
        ])
        try #require(outcome.status == 0, "\(outcome.errorOutput)")

        // The shell, then each unshare and the true it runs.
        let events = await events(marker, count: 5)
        let unshares = events.filter { $0.nameString == "unshare" }
        try #require(unshares.count == 2)
        #expect(Set(unshares.map(\.executableString)) == ["/usr/bin/unshare", "/opt/tools/unshare"])
        for event in unshares {
            #expect(!event.flags.contains(.executableUnreachable))
            #expect(!event.flags.contains(.executableIncomplete))
            // The parent is the shell inside the root, named as it names itself.
            #expect(event.parentExecutableString == "/usr/bin/dash")
            #expect(event.parentNameString == "sh")
        }
        let shell = try #require(events.first { $0.nameString == "sh" })
        #expect(shell.pid == UInt32(outcome.pid))
        #expect(shell.executableString == "/usr/bin/dash")
        // The unshare at /usr/bin/unshare inside the root matches the rule;
        // the one at /opt/tools does not.
        let alerted = alerts(marker).map(\.event.executableString)
        #expect(alerted == ["/usr/bin/unshare"])
    }

    @Test("Bind mount path is the one the process used")
    func bindMountPath() async throws {
        let directory = try Shell.makeDirectory("bind")
        defer { Shell.remove(directory) }
        let bound = "\(directory)/bound"
        try FileManager.default.createDirectory(atPath: bound, withIntermediateDirectories: true)
        let marker = Shell.marker("bind")
        // The mount lives only in the private mount namespace of this unshare.
        let outcome = try Shell.run(executable: "/usr/bin/unshare", arguments: [
            "--mount", "--propagation", "private", "/bin/sh", "-c",
            "mount --bind /usr/bin \"$1\" && \"$1/unshare\" --uts /bin/true \"$0\"", marker, bound,
        ])
        try #require(outcome.status == 0, "\(outcome.errorOutput)")

        // The outer unshare, the shell it becomes, and the inner unshare.
        let events = await events(marker, count: 3)
        let inner = try #require(events.first { $0.argStrings.first == "\(bound)/unshare" })
        #expect(inner.executableString == "\(bound)/unshare")
        #expect(!inner.flags.contains(.executableUnreachable))
        #expect(inner.parentExecutableString == "/usr/bin/dash")
        let alerted = alerts(marker).map(\.event.pid)
        #expect(!alerted.contains(inner.pid))
    }

    @Test("Overlay root after pivot_root reports the container path")
    func overlayPivotRoot() async throws {
        let base = try Shell.makeDirectory("overlay")
        defer { ExecPrograms.removeTree(base) }
        let lower = "\(base)/lower"
        try ExecPrograms.populateRoot(
            lower, with: ["/usr/bin/unshare", "/usr/bin/true", "/usr/bin/dash"])
        for name in ["lower/.old", "upper", "work", "merged"] {
            try FileManager.default.createDirectory(
                atPath: "\(base)/\(name)", withIntermediateDirectories: true)
        }
        let marker = Shell.marker("overlay")
        let container = """
            #!/bin/sh
            set -e
            mount --make-rprivate /
            mount -t overlay overlay -o lowerdir=\(base)/lower,upperdir=\(base)/upper,workdir=\(base)/work \(base)/merged
            cd \(base)/merged && pivot_root . .old
            exec /usr/bin/dash -c '/usr/bin/unshare --uts /usr/bin/true \(marker) child; exec /usr/bin/unshare --uts /usr/bin/true \(marker)'
            """
        try container.write(toFile: "\(base)/ctr.sh", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(base)/ctr.sh")
        let shim = "\(base)/containerd-shim"
        try ExecPrograms.copyPython(to: shim)
        let outcome = try Shell.run(executable: shim, arguments: ["-c", """
            import ctypes, subprocess, sys
            if ctypes.CDLL(None).unshare(0x00020000):
                sys.exit("unshare(CLONE_NEWNS) failed")
            sys.exit(subprocess.run(["\(base)/ctr.sh"]).returncode)
            """])
        try #require(outcome.status == 0, "\(outcome.errorOutput)")

        // The unshare the shell inside the container forks, then the one it
        // becomes.
        let events = await events(marker, count: 4).filter { $0.nameString == "unshare" }
        try #require(events.count == 2)
        let (child, unshare) = (events[0], events[1])
        var hostNamespace = stat()
        try #require(stat("/proc/self/ns/mnt", &hostNamespace) == 0)
        #expect(unshare.executableString == "/usr/bin/unshare")
        #expect(unshare.nameString == "unshare")
        #expect(!unshare.flags.contains(.executableUnreachable))
        #expect(UInt64(unshare.namespaceInode(.mnt)) != UInt64(hostNamespace.st_ino))
        #expect(unshare.parentExecutableString == shim)
        #expect(unshare.parentNameString == "containerd-shim")
        #expect(unshare.parentPID == UInt32(outcome.pid))

        // The shell's own executable, as named from inside the container.
        #expect(child.executableString == "/usr/bin/unshare")
        #expect(child.parentExecutableString == "/usr/bin/dash")
        #expect(child.parentNameString == "dash")
        #expect(child.parentPID == unshare.pid)

        let alerts = alerts(marker)
        #expect(alerts.count == 2)
        #expect(alerts.allSatisfy { $0.verdict == .match })
    }
}
