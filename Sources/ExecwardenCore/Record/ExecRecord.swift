import CExecwarden

/// A reason a ring-buffer record could not be decoded.
public enum RecordError: Error, Equatable, CustomStringConvertible {
    case tooShort(size: Int)
    case unsupportedVersion(UInt16)
    case sizeMismatch(declared: Int, received: Int)
    case spanOutOfBounds(field: String, offset: Int, length: Int, size: Int)

    public var description: String {
        switch self {
        case .tooShort(let size):
            return "exec record of \(size) bytes is shorter than its \(ExecRecord.headerSize)-byte header"
        case .unsupportedVersion(let version):
            return "exec record version \(version) is not supported (expected \(ExecRecord.version)); the BPF object and the loader are out of step"
        case .sizeMismatch(let declared, let received):
            return "exec record declares \(declared) bytes but \(received) arrived"
        case .spanOutOfBounds(let field, let offset, let length, let size):
            return "exec record field \(field) spans bytes \(offset)..<\(offset + length), outside the \(size)-byte record"
        }
    }
}

/// Flags the probe sets on a record (`enum ew_record_flag`).
public struct RecordFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let argsTruncated = RecordFlags(rawValue: EW_FLAG_ARGS_TRUNCATED.rawValue)
    public static let argsUnreadable = RecordFlags(rawValue: EW_FLAG_ARGS_UNREADABLE.rawValue)
    public static let executableTruncated = RecordFlags(rawValue: EW_FLAG_EXE_TRUNCATED.rawValue)
    public static let executableDeleted = RecordFlags(rawValue: EW_FLAG_EXE_DELETED.rawValue)
    public static let executablePseudo = RecordFlags(rawValue: EW_FLAG_EXE_PSEUDO.rawValue)
    public static let executableMemfd = RecordFlags(rawValue: EW_FLAG_EXE_MEMFD.rawValue)
    public static let parentExecutableTruncated = RecordFlags(rawValue: EW_FLAG_PARENT_EXE_TRUNCATED.rawValue)
    public static let parentExecutableDeleted = RecordFlags(rawValue: EW_FLAG_PARENT_EXE_DELETED.rawValue)
    public static let parentExecutablePseudo = RecordFlags(rawValue: EW_FLAG_PARENT_EXE_PSEUDO.rawValue)
    public static let parentExecutableMemfd = RecordFlags(rawValue: EW_FLAG_PARENT_EXE_MEMFD.rawValue)
    public static let parentHasNoExecutable = RecordFlags(rawValue: EW_FLAG_PARENT_NO_EXE.rawValue)
    public static let interpreted = RecordFlags(rawValue: EW_FLAG_INTERPRETED.rawValue)
    public static let scriptTruncated = RecordFlags(rawValue: EW_FLAG_SCRIPT_TRUNCATED.rawValue)
    public static let scriptDirectoryTruncated = RecordFlags(rawValue: EW_FLAG_SCRIPT_DIRECTORY_TRUNCATED.rawValue)
    /// The path is not reliable: the walk stopped at its step limit, so the
    /// path holds only the components nearest the file, or a name changed
    /// while it was read.
    public static let executableIncomplete = RecordFlags(rawValue: EW_FLAG_EXE_INCOMPLETE.rawValue)
    public static let parentExecutableIncomplete = RecordFlags(rawValue: EW_FLAG_PARENT_EXE_INCOMPLETE.rawValue)
    /// The file is on a mount tree outside the task's mount namespace (a
    /// detached mount, or a file from another namespace), so the path is
    /// not one the process can name.
    public static let executableUnreachable = RecordFlags(rawValue: EW_FLAG_EXE_UNREACHABLE.rawValue)
    /// The parent's argv was longer than the probe keeps: the record has
    /// its first elements and the true count.
    public static let parentArgsTruncated = RecordFlags(rawValue: EW_FLAG_PARENT_ARGS_TRUNCATED.rawValue)
    /// The probe held no argv for the parent.
    public static let parentArgsUnknown = RecordFlags(rawValue: EW_FLAG_PARENT_ARGS_UNKNOWN.rawValue)
    public static let cgroupPathTruncated = RecordFlags(rawValue: EW_FLAG_CGROUP_PATH_TRUNCATED.rawValue)
}

/// A validated view of one exec record in ring-buffer memory.
///
/// The view does not own its bytes: it is valid only while the buffer it
/// was made from is, which for a ring-buffer record is the duration of the
/// consumer callback. Every span was checked against the record size when
/// the view was made, so the accessors cannot read out of bounds.
public struct ExecRecord {
    public static let version = UInt16(EW_RECORD_VERSION)
    public static let headerSize = MemoryLayout<ew_exec_record>.size

    public let bytes: UnsafeRawBufferPointer

    /// Validates the header and every span of `bytes`.
    public init(bytes: UnsafeRawBufferPointer) throws(RecordError) {
        guard bytes.count >= Self.headerSize else {
            throw .tooShort(size: bytes.count)
        }
        self.bytes = bytes

        let version = load(UInt16.self, at: 0)
        guard version == Self.version else {
            throw .unsupportedVersion(version)
        }
        let declared = Int(load(UInt32.self, at: Self.offset(\.size)))
        guard declared <= bytes.count, declared >= Self.headerSize else {
            throw .sizeMismatch(declared: declared, received: bytes.count)
        }
        for (name, offset) in Self.spanOffsets {
            let span = load(ew_span.self, at: offset)
            let end = Int(span.offset) + Int(span.length)
            guard span.length == 0 || (Int(span.offset) >= Self.headerSize && end <= declared) else {
                throw .spanOutOfBounds(
                    field: name, offset: Int(span.offset),
                    length: Int(span.length), size: declared)
            }
        }
    }

    private static let spanOffsets: [(String, Int)] = [
        ("args", offset(\.args)),
        ("executable", offset(\.executable)),
        ("parent_executable", offset(\.parent_executable)),
        ("script", offset(\.script)),
        ("cgroup_path", offset(\.cgroup_path)),
        ("script_directory", offset(\.script_directory)),
        ("parent_args", offset(\.parent_args)),
    ]

    static func offset<T>(_ path: KeyPath<ew_exec_record, T>) -> Int {
        MemoryLayout<ew_exec_record>.offset(of: path)!
    }

    private func load<T>(_ type: T.Type, at offset: Int) -> T {
        bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
    }

    private func field<T>(_ path: KeyPath<ew_exec_record, T>) -> T {
        load(T.self, at: Self.offset(path))
    }

    private func slice(_ path: KeyPath<ew_exec_record, ew_span>) -> UnsafeRawBufferPointer {
        let span = field(path)
        guard span.length > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let start = Int(span.offset)
        return UnsafeRawBufferPointer(rebasing: bytes[start..<start + Int(span.length)])
    }

    /// Bytes of a fixed-size, NUL-padded comm field up to its first NUL.
    private func comm(_ path: KeyPath<ew_exec_record, (CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar)>) -> UnsafeRawBufferPointer {
        let start = Self.offset(path)
        let whole = UnsafeRawBufferPointer(rebasing: bytes[start..<start + Int(EW_COMM_LEN)])
        let end = whole.firstIndex(of: 0) ?? whole.count
        return UnsafeRawBufferPointer(rebasing: whole[0..<end])
    }

    public var flags: RecordFlags { RecordFlags(rawValue: field(\.flags)) }
    public var pid: UInt32 { field(\.pid) }
    public var tid: UInt32 { field(\.tid) }
    public var parentPID: UInt32 { field(\.ppid) }
    public var namespacePID: UInt32 { field(\.ns_pid) }
    public var namespaceParentPID: UInt32 { field(\.ns_ppid) }
    public var uid: UInt32 { field(\.uid) }
    public var euid: UInt32 { field(\.euid) }
    public var gid: UInt32 { field(\.gid) }
    public var egid: UInt32 { field(\.egid) }
    public var argc: UInt32 { field(\.argc) }
    /// The parent's argc at its own exec; 0 when `parentArgsUnknown`.
    public var parentArgc: UInt32 { field(\.parent_argc) }
    public var eventTimeNanoseconds: UInt64 { field(\.event_time_ns) }
    public var startTimeNanoseconds: UInt64 { field(\.start_time_ns) }
    public var parentStartTimeNanoseconds: UInt64 { field(\.parent_start_time_ns) }
    public var cgroupID: UInt64 { field(\.cgroup_id) }

    /// Namespace inode numbers, indexed by `NamespaceKind`.
    public func namespaceInode(_ kind: NamespaceKind) -> UInt32 {
        load(UInt32.self, at: Self.offset(\.ns_inum) + kind.rawValue * 4)
    }

    public var comm: UnsafeRawBufferPointer { comm(\.comm) }
    public var parentComm: UnsafeRawBufferPointer { comm(\.parent_comm) }
    /// The argv area: elements each followed by a NUL. When the area was
    /// truncated, the bytes after the last NUL are part of an element and
    /// not an element.
    public var argsArea: UnsafeRawBufferPointer { slice(\.args) }
    public var executable: UnsafeRawBufferPointer { slice(\.executable) }
    public var parentExecutable: UnsafeRawBufferPointer { slice(\.parent_executable) }
    /// For an interpreted exec, the file name given to exec.
    public var script: UnsafeRawBufferPointer { slice(\.script) }
    /// The working directory a relative `script` is relative to.
    public var scriptDirectory: UnsafeRawBufferPointer { slice(\.script_directory) }
    /// The names of the cgroup and its ancestors, leaf first, each followed
    /// by a NUL; empty for the root cgroup.
    public var cgroupNames: UnsafeRawBufferPointer { slice(\.cgroup_path) }
    /// The parent's argv area, laid out as `argsArea`.
    public var parentArgsArea: UnsafeRawBufferPointer { slice(\.parent_args) }

    /// Calls `body` with each whole argument, in order, until it returns
    /// true. Returns whether it did. The piece of an argument that a
    /// truncated area ends with is skipped: it is not the argument.
    @inline(__always)
    public func firstArgument(where body: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        Self.firstElement(
            of: argsArea, truncated: flags.contains(.argsTruncated), where: body)
    }

    /// `firstArgument` for the parent's argv.
    @inline(__always)
    public func firstParentArgument(where body: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        Self.firstElement(
            of: parentArgsArea, truncated: flags.contains(.parentArgsTruncated),
            where: body)
    }

    @inline(__always)
    private static func firstElement(
        of area: UnsafeRawBufferPointer, truncated: Bool,
        where body: (UnsafeRawBufferPointer) -> Bool
    ) -> Bool {
        var start = 0
        while start < area.count {
            guard let terminator = area[start...].firstIndex(of: 0) else {
                if truncated { return false }
                return body(UnsafeRawBufferPointer(rebasing: area[start...]))
            }
            if body(UnsafeRawBufferPointer(rebasing: area[start..<terminator])) {
                return true
            }
            start = terminator + 1
        }
        return false
    }

    /// Number of arguments present in the argv area.
    public var capturedArgumentCount: Int {
        var count = 0
        _ = firstArgument { _ in count += 1; return false }
        return count
    }
}

/// The namespaces whose inode numbers a record carries, in record order.
public enum NamespaceKind: Int, CaseIterable, Sendable {
    case mnt, pid, user, uts, ipc, net, cgroup

    public var name: String { String(describing: self) }
}
