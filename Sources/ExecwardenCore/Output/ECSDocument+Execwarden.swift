extension ECSDocumentWriter {
    /// Writes the `execwarden` member: what ECS has no field for.
    mutating func writeExecwardenSection(_ event: ExecEvent, rule: (metadata: RuleMetadata, isUncertain: Bool)?) {
        writer.beginObject("execwarden")
        writer.beginObject("process")
        writeProcessFlags(event)
        writeParentFlags(event)
        writer.endObject()
        writeNamespaces(event)
        writeUnshare(event)
        writer.beginObject("cgroup")
        writer.field("id", event.cgroupID)
        if !event.cgroupPath.isEmpty {
            writer.field("path", bytes: event.cgroupPath)
        }
        writer.field("path_truncated", event.flags.contains(.cgroupPathTruncated))
        writer.endObject()
        if let rule {
            writeExecwardenRule(rule.metadata, isUncertain: rule.isUncertain)
        }
        let invalid = IllFormedFields(event)
        if invalid.any {
            writeRaw(event, invalid)
        }
        writer.endObject()
    }

    private mutating func writeProcessFlags(_ event: ExecEvent) {
        let flags = event.flags
        writer.field("args_truncated", flags.contains(.argsTruncated))
        writer.field("args_unreadable", flags.contains(.argsUnreadable))
        writer.field("executable_truncated", flags.contains(.executableTruncated))
        writer.field("executable_incomplete", flags.contains(.executableIncomplete))
        writer.field("executable_unreachable", flags.contains(.executableUnreachable))
        writer.field("executable_deleted", flags.contains(.executableDeleted))
        writer.field("executable_pseudo", flags.contains(.executablePseudo))
        writer.field("memfd", flags.contains(.executableMemfd))
        writer.field("interpreted", flags.contains(.interpreted))
        // The script path is cut short when either its name or the working
        // directory it was joined to was.
        writer.field("script_truncated", !flags.isDisjoint(with: [.scriptTruncated, .scriptDirectoryTruncated]))
        if let name = Self.pseudoName(event.executable, flags.contains(.executablePseudo)) {
            writer.field("executable_pseudo_name", bytes: name)
        }
        if let name = Self.memfdName(event.executable, flags.contains(.executableMemfd)) {
            writer.field("memfd_name", bytes: name)
        }
        if let script = Self.script(event) {
            writer.field("script", bytes: script)
        }
    }

    private mutating func writeParentFlags(_ event: ExecEvent) {
        let flags = event.flags
        writer.beginObject("parent")
        writer.field("no_executable", flags.contains(.parentHasNoExecutable))
        writer.field("executable_truncated", flags.contains(.parentExecutableTruncated))
        writer.field("executable_incomplete", flags.contains(.parentExecutableIncomplete))
        writer.field("executable_deleted", flags.contains(.parentExecutableDeleted))
        writer.field("executable_pseudo", flags.contains(.parentExecutablePseudo))
        writer.field("memfd", flags.contains(.parentExecutableMemfd))
        writer.field("args_truncated", flags.contains(.parentArgsTruncated))
        writer.field("args_unknown", flags.contains(.parentArgsUnknown))
        if let name = Self.parentPseudoName(event) {
            writer.field("executable_pseudo_name", bytes: name)
        }
        if let name = Self.parentMemfdName(event) {
            writer.field("memfd_name", bytes: name)
        }
        writer.endObject()
    }

    private mutating func writeNamespaces(_ event: ExecEvent) {
        writer.beginObject("namespace")
        writer.field("mnt", event.namespaceInode(.mnt))
        writer.field("pid", event.namespaceInode(.pid))
        writer.field("user", event.namespaceInode(.user))
        writer.field("uts", event.namespaceInode(.uts))
        writer.field("ipc", event.namespaceInode(.ipc))
        writer.field("net", event.namespaceInode(.net))
        writer.field("cgroup", event.namespaceInode(.cgroup))
        writeNamespacesDifferingFromHost(event)
        writer.endObject()
    }

    /// Writes `differs_from_host.<kind>`: whether the exec's namespace is
    /// not the host's. A kind is omitted when either inode is unknown: the
    /// host's was unreadable, or the probe read 0 for the exec's.
    private mutating func writeNamespacesDifferingFromHost(_ event: ExecEvent) {
        guard host.namespaceInodes.contains(where: { $0 != nil }) else { return }
        writer.beginObject("differs_from_host")
        for kind in NamespaceKind.allCases {
            let inode = event.namespaceInode(kind)
            guard let hostInode = host.namespaceInode(kind), inode != 0 else { continue }
            writer.field(Self.namespaceKey(kind), inode != hostInode)
        }
        writer.endObject()
    }

    /// Returns the key of a namespace kind under `execwarden.namespace`.
    static func namespaceKey(_ kind: NamespaceKind) -> StaticString {
        switch kind {
        case .mnt: "mnt"
        case .pid: "pid"
        case .user: "user"
        case .uts: "uts"
        case .ipc: "ipc"
        case .net: "net"
        case .cgroup: "cgroup"
        }
    }

    // MARK: Derived byte strings

    static let memfdPrefix = Array("memfd:".utf8)

    /// Returns the dentry name of an executable without a path.
    static func pseudoName(_ executable: [UInt8], _ isPseudo: Bool) -> [UInt8]? {
        isPseudo && !executable.isEmpty ? executable : nil
    }

    /// Returns the name given to `memfd_create`: the dentry name after its
    /// `memfd:` prefix, or the whole name when the prefix is missing.
    static func memfdName(_ executable: [UInt8], _ isMemfd: Bool) -> ArraySlice<UInt8>? {
        guard isMemfd, !executable.isEmpty else { return nil }
        if executable.starts(with: memfdPrefix) {
            return executable[memfdPrefix.count...]
        }
        return executable[...]
    }

    static func parentPseudoName(_ event: ExecEvent) -> [UInt8]? {
        let flags = event.flags
        guard !flags.contains(.parentHasNoExecutable) else { return nil }
        return pseudoName(event.parentExecutable, flags.contains(.parentExecutablePseudo))
    }

    static func parentMemfdName(_ event: ExecEvent) -> ArraySlice<UInt8>? {
        let flags = event.flags
        guard !flags.contains(.parentHasNoExecutable) else { return nil }
        return memfdName(event.parentExecutable, flags.contains(.parentExecutableMemfd))
    }

    static func script(_ event: ExecEvent) -> [UInt8]? {
        event.flags.contains(.interpreted) && !event.script.isEmpty ? event.script : nil
    }
}
