import Foundation
import Testing
@testable import ExecwardenCore

/// `process.parent.args` on the real kernel: the parent's argv as it was at
/// the parent's own exec, in each way a parent comes to be.
@Suite("Kernel parent arguments")
struct KernelParentArgsTests {
    let harness: KernelHarness

    init() throws {
        harness = try KernelHarness.require()
    }

    private func child(_ marker: String) async throws -> ExecEvent {
        let events = await harness.events(count: 1) {
            $0.hasArgument(marker) && $0.nameString == "true"
        }
        return try #require(events.first)
    }

    @Test("A shell's child carries the shell's argv")
    func shellParent() async throws {
        let marker = Shell.marker("pargs-shell")
        // The trailing ':' keeps the shell from replacing itself with the
        // last command.
        let script = "/bin/true \(marker); :"
        try Shell.run(script)

        let event = try await child(marker)
        #expect(event.parentArgStrings == ["/bin/sh", "-c", script])
        #expect(event.parentArgc == 3)
        #expect(!event.flags.contains(.parentArgsUnknown))
        #expect(!event.flags.contains(.parentArgsTruncated))
    }

    @Test("A subshell that never ran exec has its parent's argv")
    func forkedWithoutExec() async throws {
        let marker = Shell.marker("pargs-subshell")
        let script = "( /bin/true \(marker); : ); :"
        let outcome = try Shell.run(script)

        let event = try await child(marker)
        // The subshell is a fork of the shell: another pid, same argv.
        #expect(event.parentPID != UInt32(outcome.pid))
        #expect(event.parentArgStrings == ["/bin/sh", "-c", script])
    }

    @Test("A parent that ran exec just before forking has its new argv")
    func parentExecedBeforeForking() async throws {
        let marker = Shell.marker("pargs-reexec")
        // The program runs twice: first as "first-image", then, after it
        // replaced itself, as "second-image", which forks the child.
        let program = """
            import os, subprocess, sys
            if sys.argv[1:] == ["first-image"]:
                text = open("/proc/self/cmdline", "rb").read().split(b"\\0")[2].decode()
                os.execv(sys.executable, [sys.executable, "-c", text, "second-image"])
            subprocess.run(["/bin/true", "\(marker)"])
            """
        try Shell.run(executable: "/usr/bin/python3", arguments: ["-c", program, "first-image"])

        let event = try await child(marker)
        #expect(event.parentArgStrings.count == 4)
        #expect(event.parentArgStrings.last == "second-image")
    }

    @Test("A child forked by a thread has its process's argv")
    func threadParent() async throws {
        let marker = Shell.marker("pargs-thread")
        let program = """
            import subprocess, threading
            t = threading.Thread(target=lambda: subprocess.run(["/bin/true", "\(marker)"]))
            t.start(); t.join()
            """
        let outcome = try Shell.run(
            executable: "/usr/bin/python3", arguments: ["-c", program, "thread-parent"])

        let event = try await child(marker)
        #expect(event.parentPID == UInt32(outcome.pid))
        #expect(event.parentArgStrings == ["/usr/bin/python3", "-c", program, "thread-parent"])
    }

    @Test("A subreaper that inherits the child before its exec is its parent")
    func subreaper() async throws {
        let marker = Shell.marker("pargs-reaper")
        // The reaper forks a middle process, which forks the child and
        // exits; the child waits for that before it runs exec.
        let program = """
            import ctypes, os, sys, time
            ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)   # PR_SET_CHILD_SUBREAPER
            middle = os.fork()
            if middle == 0:
                if os.fork() == 0:
                    while os.getppid() != int(sys.argv[1]):
                        time.sleep(0.01)
                    os.execv("/bin/true", ["/bin/true", "\(marker)"])
                os._exit(0)
            os.waitpid(middle, 0)
            os.wait()
            """
        let outcome = try Shell.run(
            executable: "/bin/sh",
            arguments: ["-c", "exec /usr/bin/python3 -c '\(program)' $$ reaper-args"])

        let event = try await child(marker)
        #expect(event.parentPID == UInt32(outcome.pid))
        #expect(event.parentArgStrings.last == "reaper-args")
    }

    @Test("A parent argv past the kept bytes is cut with its true count")
    func longParentArgv() async throws {
        let marker = Shell.marker("pargs-long")
        let filler = String(repeating: "p", count: 1000)
        var arguments = ["-c", "/bin/true \(marker); :", "sh"]
        arguments += Array(repeating: filler, count: 9)
        try Shell.run(executable: "/bin/sh", arguments: arguments)

        let event = try await child(marker)
        #expect(event.flags.contains(.parentArgsTruncated))
        #expect(event.parentArgc == UInt32(arguments.count + 1))
        #expect(event.parentArgs.count < arguments.count + 1)
        #expect(event.parentArgStrings.prefix(3) == ["/bin/sh", "-c", "/bin/true \(marker); :"])
        // Only whole elements are kept: no piece of a cut one.
        #expect(event.parentArgs.dropFirst(4).allSatisfy { $0.count == 1000 })
    }

    @Test("Parent arguments appear in the ECS document")
    func documentFields() async throws {
        let marker = Shell.marker("pargs-doc")
        let script = "/bin/true \(marker); :"
        try Shell.run(script)
        _ = try await child(marker)

        let line = try #require(harness.lines {
            $0.hasArgument(marker) && $0.nameString == "true"
        }.first)
        let process = try #require(line.document["process"] as? [String: Any])
        let parent = try #require(process["parent"] as? [String: Any])
        #expect(parent["args"] as? [String] == ["/bin/sh", "-c", script])
        #expect(parent["args_count"] as? Int == 3)
        #expect(parent["command_line"] as? String == "/bin/sh -c \(script)")
    }
}

extension ExecEvent {
    var parentArgStrings: [String] { parentArgs.map { String(decoding: $0, as: UTF8.self) } }
}
