/// One exec, decoded from its record into owned values for output.
///
/// Paths, names and arguments stay bytes: they need not be UTF-8, and they
/// are escaped only when rendered.
public struct ExecEvent: Sendable, Equatable {
    public var flags: RecordFlags
    public var pid: UInt32
    public var tid: UInt32
    public var parentPID: UInt32
    /// The pid in the process's own pid namespace.
    public var namespacePID: UInt32
    /// The parent's pid in the process's pid namespace, or 0 when the parent
    /// is outside it.
    public var namespaceParentPID: UInt32
    public var uid: UInt32
    public var euid: UInt32
    public var gid: UInt32
    public var egid: UInt32
    /// argc as the kernel counted it, which exceeds `args.count` when the
    /// argv area was truncated.
    public var argc: UInt32
    /// The parent's argc at its own exec, which exceeds `parentArgs.count`
    /// when the probe kept only part of its argv.
    public var parentArgc: UInt32
    /// Boot-time clock, nanoseconds.
    public var eventTimeNanoseconds: UInt64
    public var startTimeNanoseconds: UInt64
    public var parentStartTimeNanoseconds: UInt64
    public var cgroupID: UInt64
    /// Inode numbers indexed by `NamespaceKind.rawValue`.
    public var namespaceInodes: [UInt32]
    /// The kernel comm after the exec.
    public var name: [UInt8]
    public var parentName: [UInt8]
    public var args: [[UInt8]]
    /// The parent's argv at its own exec; empty when unknown (see `flags`).
    public var parentArgs: [[UInt8]]
    /// Path of the executed file; for a memfd or other pseudo file, its
    /// dentry name (see `flags`).
    public var executable: [UInt8]
    public var parentExecutable: [UInt8]
    /// For a script, its absolute path: the file name given to exec, joined
    /// to the working directory when it was relative.
    public var script: [UInt8]
    /// The cgroup path from the root of the hierarchy, such as
    /// `/system.slice/docker-<id>.scope`. When the record flags it as cut
    /// short, the names nearest the root are missing.
    public var cgroupPath: [UInt8]

    public init(record: ExecRecord) {
        flags = record.flags
        pid = record.pid
        tid = record.tid
        parentPID = record.parentPID
        namespacePID = record.namespacePID
        namespaceParentPID = record.namespaceParentPID
        uid = record.uid
        euid = record.euid
        gid = record.gid
        egid = record.egid
        argc = record.argc
        parentArgc = record.parentArgc
        eventTimeNanoseconds = record.eventTimeNanoseconds
        startTimeNanoseconds = record.startTimeNanoseconds
        parentStartTimeNanoseconds = record.parentStartTimeNanoseconds
        cgroupID = record.cgroupID
        namespaceInodes = NamespaceKind.allCases.map { record.namespaceInode($0) }
        name = Array(record.comm)
        parentName = Array(record.parentComm)
        var args: [[UInt8]] = []
        _ = record.firstArgument { args.append(Array($0)); return false }
        self.args = args
        var parentArgs: [[UInt8]] = []
        _ = record.firstParentArgument { parentArgs.append(Array($0)); return false }
        self.parentArgs = parentArgs
        executable = Array(record.executable)
        parentExecutable = Array(record.parentExecutable)
        script = Self.absoluteScriptPath(
            name: record.script, directory: record.scriptDirectory)
        cgroupPath = Self.cgroupPath(leafFirst: record.cgroupNames)
    }

    /// Joins cgroup names given leaf first into a path from the root.
    private static func cgroupPath(leafFirst names: UnsafeRawBufferPointer) -> [UInt8] {
        var path: [UInt8] = []
        for name in names.split(separator: 0, omittingEmptySubsequences: false).reversed()
        where !name.isEmpty {
            path.append(UInt8(ascii: "/"))
            path.append(contentsOf: name)
        }
        return path.isEmpty ? [UInt8(ascii: "/")] : path
    }

    /// Makes a script name absolute and drops "." and empty components.
    /// A relative name is joined to the resolved working directory, and its
    /// leading ".." components remove directory components: the directory
    /// is already resolved, so its parent is known. Any other ".." is kept,
    /// because the component before it may be a symbolic link.
    private static func absoluteScriptPath(
        name: UnsafeRawBufferPointer, directory: UnsafeRawBufferPointer
    ) -> [UInt8] {
        let slash = UInt8(ascii: "/")
        let isAbsolute = name.first == slash
        if !isAbsolute && directory.isEmpty {
            return Array(name)
        }
        var components = isAbsolute ? [] : directory.split(separator: slash).map(Array.init)
        var keepDotDot = isAbsolute
        for component in name.split(separator: slash) {
            if component.elementsEqual([UInt8(ascii: ".")]) { continue }
            if !keepDotDot && component.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                _ = components.popLast()
                continue
            }
            keepDotDot = true
            components.append(Array(component))
        }
        var path: [UInt8] = []
        for component in components {
            path.append(slash)
            path.append(contentsOf: component)
        }
        return path.isEmpty ? [slash] : path
    }

    public func namespaceInode(_ kind: NamespaceKind) -> UInt32 {
        namespaceInodes[kind.rawValue]
    }

    /// True when the executed file has a path: not a memfd or other file
    /// that no mount namespace names.
    public var hasExecutablePath: Bool {
        !flags.contains(.executablePseudo) && !executable.isEmpty
    }

    /// True when the parent's argv is known: the probe held it, and the
    /// parent is not a kernel thread, which has none.
    public var hasParentArgs: Bool {
        !flags.contains(.parentArgsUnknown) && !flags.contains(.parentHasNoExecutable)
    }

    public var hasParentExecutablePath: Bool {
        !flags.contains(.parentHasNoExecutable)
            && !flags.contains(.parentExecutablePseudo)
            && !parentExecutable.isEmpty
    }
}

extension ExecEvent {
    /// Creates an event from field values, for tests and replay. Every
    /// field defaults to zero or empty.
    public init(
        flags: RecordFlags = [], pid: UInt32 = 0, tid: UInt32 = 0, parentPID: UInt32 = 0,
        namespacePID: UInt32 = 0, namespaceParentPID: UInt32 = 0,
        uid: UInt32 = 0, euid: UInt32 = 0, gid: UInt32 = 0, egid: UInt32 = 0, argc: UInt32 = 0,
        parentArgc: UInt32 = 0,
        eventTimeNanoseconds: UInt64 = 0, startTimeNanoseconds: UInt64 = 0,
        parentStartTimeNanoseconds: UInt64 = 0, cgroupID: UInt64 = 0,
        namespaceInodes: [UInt32] = Array(repeating: 0, count: NamespaceKind.allCases.count),
        name: [UInt8] = [], parentName: [UInt8] = [], args: [[UInt8]] = [],
        parentArgs: [[UInt8]] = [],
        executable: [UInt8] = [], parentExecutable: [UInt8] = [], script: [UInt8] = [],
        cgroupPath: [UInt8] = []
    ) {
        precondition(namespaceInodes.count == NamespaceKind.allCases.count,
                     "namespaceInodes needs one inode per NamespaceKind, not \(namespaceInodes.count)")
        self.flags = flags
        self.pid = pid
        self.tid = tid
        self.parentPID = parentPID
        self.namespacePID = namespacePID
        self.namespaceParentPID = namespaceParentPID
        self.uid = uid
        self.euid = euid
        self.gid = gid
        self.egid = egid
        self.argc = argc
        self.parentArgc = parentArgc
        self.eventTimeNanoseconds = eventTimeNanoseconds
        self.startTimeNanoseconds = startTimeNanoseconds
        self.parentStartTimeNanoseconds = parentStartTimeNanoseconds
        self.cgroupID = cgroupID
        self.namespaceInodes = namespaceInodes
        self.name = name
        self.parentName = parentName
        self.args = args
        self.parentArgs = parentArgs
        self.executable = executable
        self.parentExecutable = parentExecutable
        self.script = script
        self.cgroupPath = cgroupPath
    }
}
