import Testing
@testable import ExecwardenCore

typealias UnshareNamespace = UnshareCommandLine.Namespace

/// Parses `unshare` followed by `words`, run by uid 1000 and gid 100.
private func parse(_ words: [String], argumentCount: Int? = nil, isUnreadable: Bool = false) -> UnshareCommandLine {
    let arguments = (["unshare"] + words).map { Array($0.utf8) }
    return UnshareCommandLine(
        arguments: arguments, argumentCount: argumentCount ?? arguments.count,
        isUnreadable: isUnreadable, effectiveUID: 1000, effectiveGID: 100)
}

private func text(_ bytes: [UInt8]?) -> String? {
    bytes.map { String(decoding: $0, as: UTF8.self) }
}

@Suite("unshare command line")
struct UnshareCommandLineTests {
    @Test("namespaces asked for", arguments: [
        ([], [UnshareNamespace]()),
        (["-m"], [.mnt]),
        (["--mount"], [.mnt]),
        (["-u", "-i", "-n"], [.net, .uts, .ipc]),
        (["-Urm"], [.user, .mnt]),
        (["-Ufp"], [.user, .pid]),
        (["--pid", "--fork"], [.pid]),
        (["-C", "-T"], [.cgroup, .time]),
        (["--user", "--uts", "--ipc", "--net", "--cgroup", "--time"], [.user, .net, .uts, .ipc, .cgroup, .time]),
        (["-r"], [.user]),
        (["-c"], [.user]),
        (["--map-user=0"], [.user]),
        (["--map-group", "0"], [.user]),
        (["--map-auto"], [.user]),
        (["--map-subids"], [.user]),
        (["--map-users=0:100000:65536"], [.user]),
        (["--map-groups", "all"], [.user]),
        (["--owner", "1:2"], [.user]),
        (["--mount-proc"], [.mnt]),
        (["--mount-binfmt"], [.user, .mnt]),
        (["-l", ":x:M::MZ::/bin/x:F"], [.user, .mnt]),
        (["--fork", "--kill-child"], []),
        // Abbreviated long options.
        (["--us", "--ne", "--cg"], [.user, .net, .cgroup]),
        (["--map-r"], [.user]),
    ])
    func namespaces(words: [String], expected: [UnshareNamespace]) {
        let command = parse(words)
        #expect(command.outcome == .run)
        #expect(command.namespaces == expected)
    }

    @Test("mapped root from -r and --map-user")
    func mappedRoot() {
        let short = parse(["-r"])
        #expect(short.mapsRootUser)
        #expect(text(short.mapUser) == "0")
        #expect(text(short.mapGroup) == "0")
        #expect(parse(["--map-root-user"]).mapsRootUser)
        #expect(parse(["--map-user=root"]).mapsRootUser)
        #expect(parse(["--map-user", "0"]).mapsRootUser)
        #expect(!parse(["--map-user=1000"]).mapsRootUser)
        #expect(!parse(["-U"]).mapsRootUser)
    }

    @Test("later mapping replaces earlier")
    func lastMappingWins() {
        let command = parse(["-r", "--map-user=1234"])
        #expect(text(command.mapUser) == "1234")
        #expect(text(command.mapGroup) == "0")
        #expect(!command.mapsRootUser)
        #expect(parse(["--map-user=5", "-r"]).mapsRootUser)
    }

    @Test("-c maps the effective ids")
    func mapCurrentUser() {
        let command = parse(["-c"])
        #expect(text(command.mapUser) == "1000")
        #expect(text(command.mapGroup) == "100")
        #expect(!command.mapsRootUser)
    }

    @Test("id ranges accumulate")
    func ranges() {
        let command = parse(["--map-auto", "--map-users=0:100000:10", "--map-groups", "subids"])
        #expect(command.mapUsers.map { text($0) } == ["auto", "0:100000:10"])
        #expect(command.mapGroups.map { text($0) } == ["auto", "subids"])
    }

    @Test("options with arguments, in every form")
    func optionArguments() {
        let command = parse([
            "--propagation", "private", "-R/srv/root", "-w", "/work", "-S", "0", "-G0",
            "--setgroups=deny", "--kill-child=SIGTERM", "--mount-proc=/mnt/proc", "-T",
            "--monotonic", "-5", "--boottime=100", "--whitelist-env", "PATH,HOME", "--clear-env",
            "--keep-caps", "--forward-signals", "--owner=0:0", "--mount-binfmt=/b", "-lDEF", "sh",
        ])
        #expect(command.outcome == .run)
        #expect(text(command.propagation) == "private")
        #expect(text(command.root) == "/srv/root")
        #expect(text(command.workingDirectory) == "/work")
        #expect(text(command.setUID) == "0")
        #expect(text(command.setGID) == "0")
        #expect(text(command.setgroups) == "deny")
        #expect(text(command.killChildSignal) == "SIGTERM")
        #expect(text(command.mountProc) == "/mnt/proc")
        #expect(text(command.monotonicOffset) == "-5")
        #expect(text(command.boottimeOffset) == "100")
        #expect(text(command.keptEnvironment) == "PATH,HOME")
        #expect(text(command.owner) == "0:0")
        #expect(text(command.mountBinfmt) == "/b")
        #expect(text(command.loadInterpreter) == "DEF")
        #expect(command.clearEnvironment)
        #expect(command.keepCapabilities)
        #expect(command.forwardSignals)
        #expect(command.fork)
        #expect(command.commandIndex == 24)
    }

    @Test("short option takes the next word even if it looks like an option")
    func shortArgumentFromNextWord() {
        let command = parse(["-R", "-m", "sh"])
        #expect(text(command.root) == "-m")
        #expect(command.namespaces == [])
        #expect(command.commandIndex == 3)
    }

    @Test("argument inside a short option cluster")
    func clusterArgument() {
        let command = parse(["-UrR/x", "sh"])
        #expect(text(command.root) == "/x")
        #expect(command.namespaces == [.user])
        #expect(command.mapsRootUser)
        #expect(command.commandIndex == 2)
    }

    @Test("optional argument only after an equals sign")
    func optionalArguments() {
        let bound = parse(["--net=/run/netns/x", "true"])
        #expect(text(bound.persistentNamespaceFiles[.net]) == "/run/netns/x")
        #expect(bound.commandIndex == 2)

        let separate = parse(["--net", "/run/netns/x"])
        #expect(separate.persistentNamespaceFiles.isEmpty)
        #expect(separate.commandIndex == 2)

        #expect(text(parse(["--mount-proc"]).mountProc) == "/proc")
        #expect(text(parse(["--kill-child"]).killChildSignal) == "SIGKILL")
        #expect(text(parse(["--mount-binfmt"]).mountBinfmt) == "/proc/sys/fs/binfmt_misc")
        #expect(text(parse(["--mount-binfmt"]).mountProc) == "/proc")
        #expect(parse(["--mount-binfmt=/b"]).mountProc == nil)
    }

    @Test("short namespace options take no file")
    func shortNamespaceNoFile() {
        let command = parse(["-n/run/netns/x"])
        #expect(command.outcome == .invalid("invalid option -- '/'"))
    }

    @Test("first non-option ends the options", arguments: [
        (["-m", "bash", "-U"], 2),
        (["-m", "--", "-U"], 3),
        (["--", "bash"], 2),
        (["-", "-U"], 1),
        (["-r", "bash", "--map-user=5"], 2),
    ])
    func commandStart(words: [String], index: Int) {
        let command = parse(words)
        #expect(command.commandIndex == index)
        #expect(!command.namespaces.contains(.user) || words[0] == "-r")
        #expect(command.outcome == .run)
    }

    @Test("no command runs the shell")
    func noCommand() {
        #expect(parse(["-U"]).commandIndex == nil)
        #expect(parse(["-U", "--"]).commandIndex == nil)
    }

    @Test("help and version stop the parse", arguments: [
        (["-h", "-U"], UnshareCommandLine.Outcome.help),
        (["-Uh"], .help),
        (["--help", "--bogus"], .help),
        (["--he"], .help),
        (["-V"], .version),
        (["--vers"], .version),
    ])
    func helpAndVersion(words: [String], outcome: UnshareCommandLine.Outcome) {
        #expect(parse(words).outcome == outcome)
    }

    @Test("invalid command lines give unshare's message", arguments: [
        (["-x"], "invalid option -- 'x'"),
        (["-rx"], "invalid option -- 'x'"),
        (["--bogus"], "unrecognized option '--bogus'"),
        (["--bogus=1"], "unrecognized option '--bogus=1'"),
        (["--mo"], "option '--mo' is ambiguous; possibilities: '--mount' '--mount-proc' '--mount-binfmt' '--monotonic'"),
        (["--map-u=0"], "option '--map-u=0' is ambiguous; possibilities: '--map-user' '--map-users'"),
        (["--fork=1"], "option '--fork' doesn't allow an argument"),
        (["--map-r=1"], "option '--map-root-user' doesn't allow an argument"),
        (["--root"], "option '--root' requires an argument"),
        (["-R"], "option requires an argument -- 'R'"),
        (["-UR"], "option requires an argument -- 'R'"),
        (["--setgroups=x"], "unsupported --setgroups argument 'x'"),
        (["--propagation", "x"], "unsupported propagation mode: x"),
        (["-S", "x"], "failed to parse uid: 'x'"),
        (["-S", "0x10"], "failed to parse uid: '0x10'"),
        (["-G", ""], "failed to parse gid: ''"),
        (["--owner", "1"], "failed to parse owner"),
        (["--monotonic", "1"], "options --monotonic and --boottime require unsharing of a time namespace (-T)"),
        (["--boottime=1", "-U"], "options --monotonic and --boottime require unsharing of a time namespace (-T)"),
        (["-T", "--monotonic", "x"], "failed to parse monotonic offset: 'x'"),
        (["--map-group=0", "--setgroups=allow"], "options --setgroups=allow and --map-group are mutually exclusive"),
        (["-r", "--setgroups", "allow"], "options --setgroups=allow and --map-group are mutually exclusive"),
    ])
    func invalid(words: [String], message: String) {
        let command = parse(words)
        #expect(command.outcome == .invalid(message))
        #expect(command.isComplete)
    }

    @Test("first error wins")
    func firstError() {
        #expect(parse(["-x", "--bogus"]).outcome == .invalid("invalid option -- 'x'"))
        #expect(parse(["--bogus", "-h"]).outcome == .invalid("unrecognized option '--bogus'"))
    }

    @Test("valid edge values", arguments: [
        ["-S", " 5"], ["-S", "-5"], ["-G", "+5"], ["-T", "--monotonic", " -5"],
        ["--map-group=0", "--map-groups=0:1:1", "--setgroups=allow"],
        ["--map-group=0", "--owner=0:0", "--setgroups=allow"],
        ["--setgroups=allow"],
    ])
    func validEdges(words: [String]) {
        #expect(parse(words).outcome == .run)
    }

    @Test("truncated argv inside the options is incomplete")
    func truncatedInOptions() {
        let command = parse(["-U", "-m"], argumentCount: 7)
        #expect(!command.isComplete)
        #expect(command.outcome == .run)
        #expect(command.namespaces == [.user, .mnt])
        #expect(command.commandIndex == nil)
        #expect(command.summary == "new user + mount namespace, argv not captured whole, parse incomplete")
    }

    @Test("truncated argv after the command is complete")
    func truncatedAfterCommand() {
        let command = parse(["-U", "bash", "-c"], argumentCount: 9)
        #expect(command.isComplete)
        #expect(command.commandIndex == 2)
    }

    @Test("truncated argv right after -- is complete")
    func truncatedAfterDoubleDash() {
        let command = parse(["-U", "--"], argumentCount: 5)
        #expect(command.isComplete)
        #expect(command.commandIndex == 3)
    }

    @Test("truncated argv cutting off an option's argument")
    func truncatedMissingArgument() {
        let command = parse(["-U", "--root"], argumentCount: 4)
        #expect(!command.isComplete)
        #expect(command.outcome == .run)
        #expect(command.root == nil)
    }

    @Test("truncation does not hide an earlier error")
    func truncatedAfterError() {
        let command = parse(["-x"], argumentCount: 4)
        #expect(command.outcome == .invalid("invalid option -- 'x'"))
        #expect(command.isComplete)
    }

    @Test("truncation skips checks that later words could satisfy")
    func truncatedSkipsChecks() {
        let command = parse(["--monotonic", "5"], argumentCount: 4)
        #expect(command.outcome == .run)
        #expect(!command.isComplete)
    }

    @Test("unreadable argv is incomplete")
    func unreadable() {
        let command = UnshareCommandLine(
            arguments: [], argumentCount: 0, isUnreadable: true, effectiveUID: 0, effectiveGID: 0)
        #expect(!command.isComplete)
        #expect(command.namespaces == [])
        #expect(command.summary == "no new namespace, argv not captured whole, parse incomplete")
    }

    @Test("summaries", arguments: [
        (["-Urm"], "new user + mount namespace, mapped root"),
        (["-m"], "new mount namespace"),
        ([], "no new namespace"),
        (["--pid", "--fork", "--mount-proc"], "new mount + PID namespace, fork, proc mounted at /proc"),
        (["-c", "-n"], "new user + network namespace, mapped user 1000, mapped group 100"),
        (["--map-user=5", "--map-group=5"], "new user namespace, mapped user 5"),
        (["--map-auto"], "new user namespace, mapped uid ranges auto, mapped gid ranges auto"),
        (["--net=/run/netns/a", "--kill-child"], "new network namespace, network namespace bound to /run/netns/a, fork, kill child with SIGKILL"),
        (["-Ur", "--setgroups=deny", "--propagation=slave", "-R", "/r", "-w", "/w", "-S0", "-G0", "--keep-caps"],
         "new user namespace, mapped root, propagation slave, setgroups deny, root directory /r, working directory /w, setuid 0, setgid 0, capabilities kept"),
        (["-h"], "prints help, unshares nothing"),
        (["-V"], "prints its version, unshares nothing"),
        (["-q"], "invalid command line, unshares nothing: invalid option -- 'q'"),
    ])
    func summaries(words: [String], summary: String) {
        #expect(parse(words).summary == summary)
    }
}
