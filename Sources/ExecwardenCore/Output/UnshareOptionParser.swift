/// The getopt_long loop behind `UnshareCommandLine`, with util-linux
/// unshare's option table. Error messages are glibc's and unshare's.
struct UnshareOptionParser {
    /// The reason option parsing stopped.
    enum End: Equatable {
        /// All captured words were options.
        case endOfWords
        /// `index` is the first word of the command.
        case command
        /// The last captured word was an option whose argument is missing.
        case missingArgumentAtEnd(String)
        /// unshare exits at this option: help, version or an error, which
        /// the parser has stored in the outcome.
        case exit
    }

    enum ArgumentKind {
        case none, required, optional
    }

    enum Option {
        case namespace(UnshareCommandLine.Namespace)
        case fork, help, version, killChild, forwardSignals, mountProc, mountBinfmt
        case mapUser, mapUsers, mapGroup, mapGroups, mapRootUser, mapCurrentUser, mapAuto, mapSubids
        case owner, propagation, setgroups, keepCaps, setUID, setGID, root, workingDirectory
        case monotonic, boottime, loadInterpreter, clearEnvironment, keptEnvironment
    }

    struct LongOption {
        var name: [UInt8]
        var argument: ArgumentKind
        var option: Option

        init(_ name: String, _ argument: ArgumentKind, _ option: Option) {
            self.name = Array(name.utf8)
            self.argument = argument
            self.option = option
        }
    }

    /// unshare's `longopts` at util-linux commit 003c622428f0, in its order.
    static let longOptions: [LongOption] = [
        LongOption("help", .none, .help),
        LongOption("version", .none, .version),
        LongOption("mount", .optional, .namespace(.mnt)),
        LongOption("uts", .optional, .namespace(.uts)),
        LongOption("ipc", .optional, .namespace(.ipc)),
        LongOption("net", .optional, .namespace(.net)),
        LongOption("pid", .optional, .namespace(.pid)),
        LongOption("user", .optional, .namespace(.user)),
        LongOption("cgroup", .optional, .namespace(.cgroup)),
        LongOption("time", .optional, .namespace(.time)),
        LongOption("fork", .none, .fork),
        LongOption("kill-child", .optional, .killChild),
        LongOption("forward-signals", .none, .forwardSignals),
        LongOption("mount-proc", .optional, .mountProc),
        LongOption("mount-binfmt", .optional, .mountBinfmt),
        LongOption("map-user", .required, .mapUser),
        LongOption("map-users", .required, .mapUsers),
        LongOption("map-group", .required, .mapGroup),
        LongOption("map-groups", .required, .mapGroups),
        LongOption("map-root-user", .none, .mapRootUser),
        LongOption("map-current-user", .none, .mapCurrentUser),
        LongOption("map-auto", .none, .mapAuto),
        LongOption("map-subids", .none, .mapSubids),
        LongOption("owner", .required, .owner),
        LongOption("propagation", .required, .propagation),
        LongOption("setgroups", .required, .setgroups),
        LongOption("keep-caps", .none, .keepCaps),
        LongOption("setuid", .required, .setUID),
        LongOption("setgid", .required, .setGID),
        LongOption("root", .required, .root),
        LongOption("wd", .required, .workingDirectory),
        LongOption("monotonic", .required, .monotonic),
        LongOption("boottime", .required, .boottime),
        LongOption("load-interp", .required, .loadInterpreter),
        LongOption("clear-env", .none, .clearEnvironment),
        LongOption("whitelist-env", .required, .keptEnvironment),
    ]

    /// The short options of `+fhVmuinpCTUrR:w:S:G:cl:`; each that takes an
    /// argument requires one.
    static let shortOptions: [UInt8: (option: Option, takesArgument: Bool)] = [
        UInt8(ascii: "f"): (.fork, false),
        UInt8(ascii: "h"): (.help, false),
        UInt8(ascii: "V"): (.version, false),
        UInt8(ascii: "m"): (.namespace(.mnt), false),
        UInt8(ascii: "u"): (.namespace(.uts), false),
        UInt8(ascii: "i"): (.namespace(.ipc), false),
        UInt8(ascii: "n"): (.namespace(.net), false),
        UInt8(ascii: "p"): (.namespace(.pid), false),
        UInt8(ascii: "C"): (.namespace(.cgroup), false),
        UInt8(ascii: "T"): (.namespace(.time), false),
        UInt8(ascii: "U"): (.namespace(.user), false),
        UInt8(ascii: "r"): (.mapRootUser, false),
        UInt8(ascii: "R"): (.root, true),
        UInt8(ascii: "w"): (.workingDirectory, true),
        UInt8(ascii: "S"): (.setUID, true),
        UInt8(ascii: "G"): (.setGID, true),
        UInt8(ascii: "c"): (.mapCurrentUser, false),
        UInt8(ascii: "l"): (.loadInterpreter, true),
    ]

    let arguments: [[UInt8]]
    let effectiveUID: UInt32
    let effectiveGID: UInt32
    /// The word being parsed; after `parse`, the first word after the
    /// options.
    private(set) var index = 1

    init(arguments: [[UInt8]], effectiveUID: UInt32, effectiveGID: UInt32) {
        self.arguments = arguments
        self.effectiveUID = effectiveUID
        self.effectiveGID = effectiveGID
    }

    /// Parses the options into `result`, stopping where unshare stops.
    mutating func parse(into result: inout UnshareCommandLine) -> End {
        let dash = UInt8(ascii: "-")
        while index < arguments.count {
            let word = arguments[index]
            if word.elementsEqual("--".utf8) {
                index += 1
                return .command
            }
            guard word.count >= 2, word[0] == dash else { return .command }

            let end = word[1] == dash
                ? parseLongOption(word, into: &result)
                : parseShortOptions(word, into: &result)
            if let end {
                return end
            }
            index += 1
        }
        return .endOfWords
    }

    // MARK: Words

    /// Parses a `--name[=value]` word. Returns nil to go on to the next word.
    private mutating func parseLongOption(_ word: [UInt8], into result: inout UnshareCommandLine) -> End? {
        let body = word[2...]
        let equals = body.firstIndex(of: UInt8(ascii: "="))
        let name = body[..<(equals ?? body.endIndex)]
        let inlineValue = equals.map { Array(body[body.index(after: $0)...]) }
        let text = String(decoding: word, as: UTF8.self)

        let option: LongOption
        switch Self.findLongOption(name) {
        case .found(let found):
            option = found
        case .unrecognized:
            return fail("unrecognized option '\(text)'", into: &result)
        case .ambiguous(let candidates):
            let list = candidates.map { "'--\(String(decoding: $0.name, as: UTF8.self))'" }
            return fail("option '\(text)' is ambiguous; possibilities: " + list.joined(separator: " "), into: &result)
        }
        let fullName = "--" + String(decoding: option.name, as: UTF8.self)

        var value: [UInt8]?
        switch option.argument {
        case .none:
            if inlineValue != nil {
                return fail("option '\(fullName)' doesn't allow an argument", into: &result)
            }
        case .optional:
            value = inlineValue
        case .required:
            if let inlineValue {
                value = inlineValue
            } else if index + 1 < arguments.count {
                index += 1
                value = arguments[index]
            } else {
                return .missingArgumentAtEnd("option '\(fullName)' requires an argument")
            }
        }
        return apply(option.option, value: value, into: &result)
    }

    /// Parses a word of short options such as `-Urm` or `-R/srv`. Returns
    /// nil to go on to the next word.
    private mutating func parseShortOptions(_ word: [UInt8], into result: inout UnshareCommandLine) -> End? {
        var position = 1
        while position < word.count {
            let letter = word[position]
            guard let (option, takesArgument) = Self.shortOptions[letter] else {
                let shown = String(decoding: [letter], as: UTF8.self)
                return fail("invalid option -- '\(shown)'", into: &result)
            }
            position += 1
            var value: [UInt8]?
            if takesArgument {
                if position < word.count {
                    value = Array(word[position...])
                    position = word.count
                } else if index + 1 < arguments.count {
                    index += 1
                    value = arguments[index]
                } else {
                    let shown = String(decoding: [letter], as: UTF8.self)
                    return .missingArgumentAtEnd("option requires an argument -- '\(shown)'")
                }
            }
            if let end = apply(option, value: value, into: &result) {
                return end
            }
        }
        return nil
    }

    enum LongOptionMatch {
        case found(LongOption)
        case unrecognized
        case ambiguous([LongOption])
    }

    /// Finds a long option by its name or a prefix of it, as getopt_long
    /// does: an exact name wins, and a prefix must match one option only.
    static func findLongOption(_ name: ArraySlice<UInt8>) -> LongOptionMatch {
        if let exact = longOptions.first(where: { $0.name.elementsEqual(name) }) {
            return .found(exact)
        }
        let candidates = longOptions.filter { $0.name.starts(with: name) }
        switch candidates.count {
        case 0: return .unrecognized
        case 1: return .found(candidates[0])
        default: return .ambiguous(candidates)
        }
    }

    // MARK: Effects

    /// Applies one option as unshare's option loop does. Returns `.exit`
    /// when unshare exits at this option, nil otherwise.
    private func apply(_ option: Option, value: [UInt8]?, into result: inout UnshareCommandLine) -> End? {
        switch option {
        case .namespace(let namespace):
            result.addNamespace(namespace)
            if let value {
                result.persistentNamespaceFiles[namespace] = value
            }
        case .help:
            result.outcome = .help
            return .exit
        case .version:
            result.outcome = .version
            return .exit
        case .fork:
            result.fork = true
        case .killChild:
            result.fork = true
            result.killChildSignal = value ?? Array("SIGKILL".utf8)
        case .forwardSignals:
            result.fork = true
            result.forwardSignals = true
        case .keepCaps:
            result.keepCapabilities = true
        case .clearEnvironment:
            result.clearEnvironment = true
        case .keptEnvironment:
            result.keptEnvironment = value
        case .mountProc, .mountBinfmt, .loadInterpreter:
            applyMount(option, value: value, into: &result)
        case .mapUser, .mapGroup, .mapUsers, .mapGroups, .mapRootUser, .mapCurrentUser, .mapAuto, .mapSubids:
            applyMapping(option, value: value, into: &result)
        case .owner, .propagation, .setgroups, .setUID, .setGID, .monotonic, .boottime:
            return applyChecked(option, value: value ?? [], into: &result)
        case .root:
            result.root = value
        case .workingDirectory:
            result.workingDirectory = value
        }
        return nil
    }

    private func applyMount(_ option: Option, value: [UInt8]?, into result: inout UnshareCommandLine) {
        let proc = Array("/proc".utf8)
        let binfmt = Array("/proc/sys/fs/binfmt_misc".utf8)
        switch option {
        case .mountProc:
            result.addNamespace(.mnt)
            result.mountProc = value ?? proc
        case .mountBinfmt:
            result.addNamespace(.mnt)
            result.addNamespace(.user)
            result.mountBinfmt = value
            if value == nil {
                result.mountProc = result.mountProc ?? proc
                result.mountBinfmt = binfmt
            }
        default:
            result.addNamespace(.mnt)
            result.addNamespace(.user)
            if result.mountBinfmt == nil {
                result.mountProc = result.mountProc ?? proc
                result.mountBinfmt = binfmt
            }
            result.loadInterpreter = value
        }
    }

    private func applyMapping(_ option: Option, value: [UInt8]?, into result: inout UnshareCommandLine) {
        result.addNamespace(.user)
        switch option {
        case .mapUser:
            result.mapUser = value
        case .mapGroup:
            result.mapGroup = value
        case .mapUsers:
            result.mapUsers.append(value ?? [])
        case .mapGroups:
            result.mapGroups.append(value ?? [])
        case .mapRootUser:
            result.mapUser = Array("0".utf8)
            result.mapGroup = Array("0".utf8)
        case .mapCurrentUser:
            result.mapUser = Array(String(effectiveUID).utf8)
            result.mapGroup = Array(String(effectiveGID).utf8)
        case .mapAuto:
            result.mapUsers.append(Array("auto".utf8))
            result.mapGroups.append(Array("auto".utf8))
        default:
            result.mapUsers.append(Array("subids".utf8))
            result.mapGroups.append(Array("subids".utf8))
        }
    }

    /// Applies an option whose value unshare checks at once, and fails the
    /// parse with unshare's message when the value is invalid.
    private func applyChecked(_ option: Option, value: [UInt8], into result: inout UnshareCommandLine) -> End? {
        let text = String(decoding: value, as: UTF8.self)
        switch option {
        case .owner:
            result.addNamespace(.user)
            guard Self.isOwner(value) else { return fail("failed to parse owner", into: &result) }
            result.owner = value
        case .propagation:
            guard ["slave", "shared", "private", "unchanged"].contains(text) else {
                return fail("unsupported propagation mode: \(text)", into: &result)
            }
            result.propagation = value
        case .setgroups:
            guard ["allow", "deny"].contains(text) else {
                return fail("unsupported --setgroups argument '\(text)'", into: &result)
            }
            result.setgroups = value
        case .setUID:
            guard Self.isDecimal(value) else { return fail("failed to parse uid: '\(text)'", into: &result) }
            result.setUID = value
        case .setGID:
            guard Self.isDecimal(value) else { return fail("failed to parse gid: '\(text)'", into: &result) }
            result.setGID = value
        case .monotonic:
            guard Self.isDecimal(value) else {
                return fail("failed to parse monotonic offset: '\(text)'", into: &result)
            }
            result.monotonicOffset = value
        default:
            guard Self.isDecimal(value) else {
                return fail("failed to parse boottime offset: '\(text)'", into: &result)
            }
            result.boottimeOffset = value
        }
        return nil
    }

    private func fail(_ message: String, into result: inout UnshareCommandLine) -> End {
        result.outcome = .invalid(message)
        return .exit
    }

    // MARK: Values

    /// Returns true for a number that `strtoul` and `strtoll` read whole
    /// in base 10: blanks, an optional sign, then at least one digit.
    static func isDecimal<Bytes: Collection>(_ value: Bytes) -> Bool where Bytes.Element == UInt8 {
        let blanks: [UInt8] = [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D]
        var rest = value.drop { blanks.contains($0) }
        if rest.first == UInt8(ascii: "-") || rest.first == UInt8(ascii: "+") {
            rest = rest.dropFirst()
        }
        return !rest.isEmpty && rest.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// Returns true for `UID:GID`, two decimal numbers.
    static func isOwner(_ value: [UInt8]) -> Bool {
        let parts = value.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { isDecimal($0) }
    }
}
