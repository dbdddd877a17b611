extension ECSDocumentWriter {
    /// Writes `execwarden.unshare`, the request in an exec of unshare(1),
    /// when the exec is one. Values are argv words: they are rendered with
    /// U+FFFD for bytes that are not UTF-8, and their exact bytes are in
    /// `process.args` (or `execwarden.raw.process.args`).
    mutating func writeUnshare(_ event: ExecEvent) {
        guard Self.isUnshare(event) else { return }
        let command = UnshareCommandLine(
            arguments: event.args, argumentCount: Int(event.argc),
            isUnreadable: event.flags.contains(.argsUnreadable),
            effectiveUID: event.euid, effectiveGID: event.egid)

        writer.beginObject("unshare")
        writer.field("summary", command.summary)
        writeUnshareOutcome(command)
        // Help, version and a rejected command line create no namespace,
        // whatever the options before them asked for.
        let created = command.outcome == .run ? command.namespaces : []
        writer.field("namespaces", strings: created.map(\.rawValue))
        writeUnshareMapping(command)
        writer.field("fork", command.fork)
        writer.field("forward_signals", command.forwardSignals)
        writer.field("keep_caps", command.keepCapabilities)
        writer.field("clear_env", command.clearEnvironment)
        writeUnshareValues(command)
        if let index = command.commandIndex {
            writer.field("command_index", index)
        }
        writer.endObject()
    }

    /// Returns true when the exec's comm or executable file name is
    /// `unshare`.
    static func isUnshare(_ event: ExecEvent) -> Bool {
        let name = Array("unshare".utf8)
        if event.name == name {
            return true
        }
        guard event.hasExecutablePath else { return false }
        let fileName = event.executable.split(separator: UInt8(ascii: "/")).last
        return fileName.map { $0.elementsEqual(name) } ?? false
    }

    private mutating func writeUnshareOutcome(_ command: UnshareCommandLine) {
        switch command.outcome {
        case .run:
            writer.field("outcome", constant: "run")
        case .help:
            writer.field("outcome", constant: "help")
        case .version:
            writer.field("outcome", constant: "version")
        case .invalid(let message):
            writer.field("outcome", constant: "invalid")
            writer.field("error", message)
        }
        writer.field("complete", command.isComplete)
    }

    private mutating func writeUnshareMapping(_ command: UnshareCommandLine) {
        writer.field("map_root_user", command.mapsRootUser)
        writeIfPresent("map_user", command.mapUser)
        writeIfPresent("map_group", command.mapGroup)
        if !command.mapUsers.isEmpty {
            writer.field("map_users", byteStrings: command.mapUsers)
        }
        if !command.mapGroups.isEmpty {
            writer.field("map_groups", byteStrings: command.mapGroups)
        }
        writeIfPresent("owner", command.owner)
        if !command.persistentNamespaceFiles.isEmpty {
            writer.beginObject("persist")
            for namespace in UnshareCommandLine.Namespace.allCases {
                writeIfPresent(Self.unshareNamespaceKey(namespace), command.persistentNamespaceFiles[namespace])
            }
            writer.endObject()
        }
    }

    private mutating func writeUnshareValues(_ command: UnshareCommandLine) {
        writeIfPresent("kill_child", command.killChildSignal)
        writeIfPresent("mount_proc", command.mountProc)
        writeIfPresent("mount_binfmt", command.mountBinfmt)
        writeIfPresent("load_interp", command.loadInterpreter)
        writeIfPresent("propagation", command.propagation)
        writeIfPresent("setgroups", command.setgroups)
        writeIfPresent("root", command.root)
        writeIfPresent("wd", command.workingDirectory)
        writeIfPresent("setuid", command.setUID)
        writeIfPresent("setgid", command.setGID)
        writeIfPresent("monotonic", command.monotonicOffset)
        writeIfPresent("boottime", command.boottimeOffset)
        writeIfPresent("whitelist_env", command.keptEnvironment)
    }

    private mutating func writeIfPresent(_ key: StaticString, _ value: [UInt8]?) {
        if let value {
            writer.field(key, bytes: value)
        }
    }

    private static func unshareNamespaceKey(_ namespace: UnshareCommandLine.Namespace) -> StaticString {
        switch namespace {
        case .user: "user"
        case .mnt: "mnt"
        case .pid: "pid"
        case .net: "net"
        case .uts: "uts"
        case .ipc: "ipc"
        case .cgroup: "cgroup"
        case .time: "time"
        }
    }
}
