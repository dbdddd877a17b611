/// The request in an unshare(1) command line: its argv parsed the way
/// util-linux unshare parses it, with glibc `getopt_long` and the option
/// string `+fhVmuinpCTUrR:w:S:G:cl:`.
///
/// Parsing follows getopt's rules. Short options combine (`-Urm`), and a
/// short option's argument is the rest of its word or the next word
/// (`-R/srv`, `-R /srv`). A long option may be abbreviated to a unique
/// prefix. A required argument is `--opt=value` or the next word, an
/// optional one only `--opt=value`. `--` or the first word that is not an
/// option ends the options. An option's effects and implications are
/// unshare's: `-r`, `-c`, `--map-user`, `--map-group`, `--map-users`,
/// `--map-groups`, `--map-auto`, `--map-subids` and `--owner` imply a user
/// namespace, `--mount-proc` a mount namespace, `--mount-binfmt` and `-l`
/// both, `--kill-child` and `--forward-signals` imply `--fork`, and a later
/// `-r`, `-c` or `--map-user` replaces an earlier mapping.
///
/// The option table is that of the util-linux source tree at commit
/// 003c622428f0. Version 2.38.1, as Debian 12 ships it, lacks
/// `--map-subids`, `--owner`, `--forward-signals`, `--mount-binfmt`, `-l`,
/// `--clear-env` and `--whitelist-env`, and keeps only the last
/// `--map-users` and `--map-groups` where this table adds them up.
/// NOTE: Where the versions differ, an older unshare rejects what this
/// parser accepts, and a prefix such as `--mount-`, which 2.38.1 reads as
/// `--mount-proc`, is ambiguous here.
///
/// Values are checked as unshare checks them for `--setgroups`,
/// `--propagation`, `-S`, `-G`, `--owner`, `--monotonic` and `--boottime`.
/// NOTE: User and group names, id ranges and signal names are taken as
/// given, although unshare rejects some of them when it runs.
public struct UnshareCommandLine: Equatable, Sendable {
    /// A namespace unshare can create, named as in /proc/PID/ns.
    public enum Namespace: String, CaseIterable, Sendable {
        case user, mnt, pid, net, uts, ipc, cgroup, time

        /// The name used in `summary`.
        var displayName: String {
            switch self {
            case .user: "user"
            case .mnt: "mount"
            case .pid: "PID"
            case .net: "network"
            case .uts: "UTS"
            case .ipc: "IPC"
            case .cgroup: "cgroup"
            case .time: "time"
            }
        }
    }

    /// The action unshare takes on the command line.
    public enum Outcome: Equatable, Sendable {
        /// Unshares the namespaces and runs the command or a shell.
        case run
        /// Prints its help (`-h`) and exits.
        case help
        /// Prints its version (`-V`) and exits.
        case version
        /// Rejects the command line with this message and exits with status
        /// 1 before running any command.
        case invalid(String)
    }

    public var outcome: Outcome = .run
    /// False when the argv was truncated or unreadable and the options
    /// may continue past the captured words.
    public var isComplete = true
    /// The namespaces to create, in `Namespace` order.
    public var namespaces: [Namespace] { Namespace.allCases.filter(namespaceSet.contains) }
    /// The files that new namespaces are bound to (`--net=FILE`).
    public var persistentNamespaceFiles: [Namespace: [UInt8]] = [:]
    /// The id or name the current user maps to: `0` for `-r`, the
    /// effective uid for `-c`, or the `--map-user` argument.
    public var mapUser: [UInt8]?
    public var mapGroup: [UInt8]?
    /// Each `--map-users` argument: a range, `auto`, `subids` or `all`.
    /// `--map-auto` adds `auto` and `--map-subids` adds `subids`.
    public var mapUsers: [[UInt8]] = []
    public var mapGroups: [[UInt8]] = []
    /// `--owner UID:GID`.
    public var owner: [UInt8]?
    public var fork = false
    /// The `--kill-child` signal, `SIGKILL` when it has no argument.
    public var killChildSignal: [UInt8]?
    public var forwardSignals = false
    /// The directory where proc is mounted, `/proc` by default.
    public var mountProc: [UInt8]?
    /// The directory where binfmt_misc is mounted.
    public var mountBinfmt: [UInt8]?
    /// The `-l` binfmt_misc definition.
    public var loadInterpreter: [UInt8]?
    public var propagation: [UInt8]?
    public var setgroups: [UInt8]?
    public var keepCapabilities = false
    /// `-R`: the root directory for the command.
    public var root: [UInt8]?
    /// `-w`: the working directory for the command.
    public var workingDirectory: [UInt8]?
    public var setUID: [UInt8]?
    public var setGID: [UInt8]?
    public var monotonicOffset: [UInt8]?
    public var boottimeOffset: [UInt8]?
    public var clearEnvironment = false
    /// `--whitelist-env`: the variables kept.
    public var keptEnvironment: [UInt8]?
    /// The index in argv of the command to run, nil when unshare runs the
    /// shell from $SHELL or, for an incomplete parse, when it is unknown.
    /// It can be past the captured words.
    public var commandIndex: Int?

    private var namespaceSet: Set<Namespace> = []

    /// True when the current user maps to root in the new user namespace.
    public var mapsRootUser: Bool {
        mapUser.map { $0.elementsEqual("0".utf8) || $0.elementsEqual("root".utf8) } ?? false
    }

    /// Parses `arguments`, the whole argv with the program name first.
    ///
    /// - Parameters:
    ///   - argumentCount: argc as the kernel counted it. More than
    ///     `arguments.count` means the argv was truncated.
    ///   - isUnreadable: True when the argv could not be read at all.
    ///   - effectiveUID: The uid that `-c` maps, unshare's effective uid.
    ///   - effectiveGID: The gid that `-c` maps.
    public init(arguments: [[UInt8]], argumentCount: Int, isUnreadable: Bool = false,
                effectiveUID: UInt32, effectiveGID: UInt32) {
        var parser = UnshareOptionParser(arguments: arguments, effectiveUID: effectiveUID, effectiveGID: effectiveGID)
        let end = parser.parse(into: &self)
        let isTruncated = isUnreadable || argumentCount > arguments.count
        switch end {
        case .endOfWords:
            // Words past the captured ones may be options or the command.
            isComplete = !isTruncated
        case .command:
            commandIndex = parser.index < argumentCount ? parser.index : nil
        case .missingArgumentAtEnd(let message):
            if isTruncated {
                isComplete = false
            } else {
                outcome = .invalid(message)
            }
        case .exit:
            break
        }
        if outcome == .run && isComplete {
            checkCombinations()
        }
    }

    mutating func addNamespace(_ namespace: Namespace) {
        namespaceSet.insert(namespace)
    }

    /// Applies the checks unshare makes after parsing its options.
    private mutating func checkCombinations() {
        if (monotonicOffset != nil || boottimeOffset != nil) && !namespaceSet.contains(.time) {
            outcome = .invalid("options --monotonic and --boottime require unsharing of a time namespace (-T)")
            return
        }
        // A group mapped alone makes unshare deny setgroups, unless the
        // mapping became a range through --map-groups or --owner.
        let mapsSingleGroup = mapGroup != nil && mapGroups.isEmpty && owner == nil
        if mapsSingleGroup, let setgroups, setgroups.elementsEqual("allow".utf8) {
            outcome = .invalid("options --setgroups=allow and --map-group are mutually exclusive")
        }
    }
}
