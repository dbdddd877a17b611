import Foundation
import Testing
@testable import ExecwardenCore

/// Runs the host's util-linux unshare on command lines that its version
/// (2.38 on Debian 12) accepts, and checks the parser against what it
/// does: the namespaces it creates, and the message it rejects a command
/// line with.
@Suite("unshare parser against util-linux unshare")
struct UnshareUtilLinuxTests {
    /// Returns the /proc/self/ns link that changes when unshare creates a
    /// namespace. The new pid and time namespaces apply to children, so the
    /// command finds them in the `_for_children` links.
    static func link(_ namespace: UnshareCommandLine.Namespace) -> String {
        switch namespace {
        case .pid: "pid_for_children"
        case .time: "time_for_children"
        default: namespace.rawValue
        }
    }

    /// Returns the inode each namespace link shows, read by `readlink` run
    /// under `prefix` (the unshare words) or directly.
    static func namespaceLinks(under prefix: [String]) throws -> [String] {
        let paths = UnshareCommandLine.Namespace.allCases.map { "/proc/self/ns/\(link($0))" }
        let outcome = try Shell.run(executable: "/usr/bin/unshare", arguments: prefix + ["--", "readlink"] + paths)
        try #require(outcome.status == 0, "unshare \(prefix) failed: \(outcome.errorOutput)")
        return outcome.output.split(separator: "\n").map(String.init)
    }

    @Test("created namespaces match the parse", arguments: [
        ["-Urm"], ["-m"], ["-u", "-i", "-n"], ["--pid", "--fork"], ["-pf"], ["-C", "-T"],
        ["--mount-proc"], ["-c"], ["--map-user=0"], ["--us", "--ne", "--cg"], ["--kill-child"],
        ["-r", "--propagation", "slave"], ["-Ufp"], ["-U", "--setgroups=deny"],
    ])
    func createdNamespaces(words: [String]) throws {
        let arguments = (["unshare"] + words).map { Array($0.utf8) }
        let parsed = UnshareCommandLine(
            arguments: arguments, argumentCount: arguments.count, effectiveUID: getuid(), effectiveGID: getgid())
        #expect(parsed.outcome == .run)

        let before = try Self.namespaceLinks(under: [])
        let after = try Self.namespaceLinks(under: words)
        try #require(before.count == UnshareCommandLine.Namespace.allCases.count)
        try #require(after.count == before.count)
        let created = UnshareCommandLine.Namespace.allCases.indices
            .filter { before[$0] != after[$0] }
            .map { UnshareCommandLine.Namespace.allCases[$0] }
        #expect(parsed.namespaces == created)
    }

    @Test("rejections match unshare's message", arguments: [
        ["-x"], ["-rx"], ["--bogus"], ["--bogus=1"], ["--map-u=0"], ["--fork=1"], ["--map-r=1"],
        ["--root"], ["-R"], ["-UR"], ["--setgroups=x"], ["--propagation", "x"], ["-S", "x"],
        ["-S", "0x10"], ["-G", ""], ["-T", "--monotonic", "x"],
        ["--map-group=0", "--setgroups=allow"], ["-r", "--setgroups", "allow"],
    ])
    func rejections(words: [String]) throws {
        let arguments = (["unshare"] + words).map { Array($0.utf8) }
        let parsed = UnshareCommandLine(
            arguments: arguments, argumentCount: arguments.count, effectiveUID: getuid(), effectiveGID: getgid())
        guard case .invalid(let message) = parsed.outcome else {
            Issue.record("parsed as \(parsed.outcome), expected a rejection")
            return
        }
        // No command follows, since one would change how the words parse.
        // Should unshare accept them after all, it runs $SHELL: true.
        let outcome = try Shell.run(
            executable: "/usr/bin/unshare", arguments: words, environment: ["SHELL": "/bin/true"])
        #expect(outcome.status == 1)
        // getopt's messages start with argv[0], unshare's own with its name.
        let firstLine = outcome.errorOutput.split(separator: "\n").first ?? ""
        let text = firstLine.firstRange(of: ": ").map { String(firstLine[$0.upperBound...]) }
        #expect(text == message)
    }

    @Test("help and version exit at once")
    func helpAndVersion() throws {
        let help = try Shell.run(executable: "/usr/bin/unshare", arguments: ["-Uh", "--bogus"])
        #expect(help.status == 0)
        #expect(help.output.contains("Usage:"))
        let version = try Shell.run(executable: "/usr/bin/unshare", arguments: ["--vers", "-x"])
        #expect(version.status == 0)
        #expect(version.output.hasPrefix("unshare from util-linux"))
    }
}
