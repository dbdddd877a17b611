import CExecwarden
/// Supplies rule fields straight from a raw exec record, without building
/// Strings or an `ExecEvent`: this is the hot-path filter that runs on every
/// exec.
///
/// Every record is an exec that succeeded, so the event fields are those of
/// an Elastic Defend exec event: category `process`, type `start`, action
/// `exec`, on a `linux` host.
public struct RecordFieldSource: FieldSource {
    public let record: ExecRecord

    public init(record: ExecRecord) {
        self.record = record
    }

    @inline(__always)
    public func visitValues(
        of field: FieldReference,
        _ visit: (FieldValue) -> Bool
    ) -> FieldVisit {
        guard let execField = field.execField else { return .exhausted }
        switch execField {
        case .eventCategory: return Self.visitConstant(Self.process, visit)
        case .eventType: return Self.visitConstant(Self.start, visit)
        case .eventAction: return Self.visitConstant(Self.exec, visit)
        case .eventKind: return Self.visitConstant(Self.event, visit)
        case .hostOSType: return Self.visitConstant(Self.linux, visit)
        case .processExecutable:
            let flags = record.flags
            guard !flags.contains(.executablePseudo) else { return .exhausted }
            return Self.visitPath(
                record.executable,
                isUnreliable: !flags.isDisjoint(with: [.executableIncomplete, .executableUnreachable]),
                isCut: flags.contains(.executableTruncated),
                visit)
        case .processName:
            return Self.visitComm(record.comm, visit)
        case .processArgs:
            return visitArguments(visit)
        case .processCommandLine:
            let flags = record.flags
            if flags.contains(.argsUnreadable) { return .incomplete }
            return Self.visitCommandLine(
                record.argsArea, isCut: flags.contains(.argsTruncated), visit)
        case .processParentCommandLine:
            let flags = record.flags
            if flags.contains(.parentHasNoExecutable) { return .exhausted }
            if flags.contains(.parentArgsUnknown) { return .incomplete }
            return Self.visitCommandLine(
                record.parentArgsArea, isCut: flags.contains(.parentArgsTruncated), visit)
        case .processArgsCount:
            return Self.visitInteger(Int64(record.argc), visit)
        case .processPID:
            return Self.visitInteger(Int64(record.pid), visit)
        case .processParentExecutable:
            let flags = record.flags
            if flags.contains(.parentHasNoExecutable) || flags.contains(.parentExecutablePseudo) {
                return .exhausted
            }
            return Self.visitPath(
                record.parentExecutable,
                isUnreliable: flags.contains(.parentExecutableIncomplete),
                isCut: flags.contains(.parentExecutableTruncated),
                visit)
        case .processParentName:
            return Self.visitComm(record.parentComm, visit)
        case .processParentPID:
            return Self.visitInteger(Int64(record.parentPID), visit)
        case .processParentArgs:
            return visitParentArguments(visit)
        case .processParentArgsCount:
            let flags = record.flags
            if flags.contains(.parentHasNoExecutable) { return .exhausted }
            if flags.contains(.parentArgsUnknown) { return .incomplete }
            return Self.visitInteger(Int64(record.parentArgc), visit)
        case .userID:
            return Self.visitDecimal(record.uid, visit)
        case .groupID:
            return Self.visitDecimal(record.gid, visit)
        }
    }

    private func visitArguments(_ visit: (FieldValue) -> Bool) -> FieldVisit {
        if record.firstArgument(where: { visit(.bytes($0)) }) {
            return .matched
        }
        let flags = record.flags
        if flags.contains(.argsTruncated) || flags.contains(.argsUnreadable) {
            return .incomplete
        }
        return .exhausted
    }

    /// Visits the parent's arguments. A parent whose argv the probe did not
    /// keep has arguments all the same, so no comparison with them is
    /// known. A kernel thread has none.
    private func visitParentArguments(_ visit: (FieldValue) -> Bool) -> FieldVisit {
        if record.firstParentArgument(where: { visit(.bytes($0)) }) {
            return .matched
        }
        let flags = record.flags
        if flags.contains(.parentArgsTruncated) || flags.contains(.parentArgsUnknown) {
            return .incomplete
        }
        return .exhausted
    }

    private static let process = StaticString("process")
    private static let start = StaticString("start")
    private static let exec = StaticString("exec")
    private static let event = StaticString("event")
    private static let linux = StaticString("linux")

    @inline(__always)
    private static func visitConstant(
        _ value: StaticString, _ visit: (FieldValue) -> Bool
    ) -> FieldVisit {
        let bytes = UnsafeRawBufferPointer(
            start: value.utf8Start, count: value.utf8CodeUnitCount)
        return visit(.bytes(bytes)) ? .matched : .exhausted
    }

    @inline(__always)
    private static func visitBytes(
        _ bytes: UnsafeRawBufferPointer, _ visit: (FieldValue) -> Bool
    ) -> FieldVisit {
        visit(.bytes(bytes)) ? .matched : .exhausted
    }

    /// Visits a path. An unreliable path (a walk that gave up, a name
    /// renamed while read, or a file outside the process's namespace) may
    /// differ anywhere from the real one, so any comparison with it is
    /// unknown. A path cut at the capture limit is a true beginning of the
    /// real one, so it is visited as a prefix.
    // NOTE: an unreliable path makes every exec an uncertain alert for a
    // rule on its path, even when the known part already rules a match out.
    @inline(__always)
    private static func visitPath(
        _ bytes: UnsafeRawBufferPointer, isUnreliable: Bool, isCut: Bool,
        _ visit: (FieldValue) -> Bool
    ) -> FieldVisit {
        if isUnreliable { return .incomplete }
        if isCut { return visit(.prefix(bytes)) ? .matched : .exhausted }
        return visit(.bytes(bytes)) ? .matched : .exhausted
    }

    /// Visits the argv area as ECS's `command_line`: the elements joined by
    /// single spaces. Built only for a rule that reads it. An area cut at
    /// the capture limit gives the beginning of the real command line.
    private static func visitCommandLine(
        _ area: UnsafeRawBufferPointer, isCut: Bool, _ visit: (FieldValue) -> Bool
    ) -> FieldVisit {
        var text = Array(area)
        if !isCut, text.last == 0 { text.removeLast() }
        for index in text.indices where text[index] == 0 {
            text[index] = UInt8(ascii: " ")
        }
        let matched = text.withUnsafeBytes { bytes in
            visit(isCut ? .prefix(bytes) : .bytes(bytes))
        }
        return matched ? .matched : .exhausted
    }

    /// Visits a comm. The kernel keeps at most 15 bytes of a name, so a
    /// comm of that length may be the beginning of a longer name: a test
    /// it fails is decided only if no longer name could pass it either.
    @inline(__always)
    private static func visitComm(
        _ bytes: UnsafeRawBufferPointer, _ visit: (FieldValue) -> Bool
    ) -> FieldVisit {
        if visit(.bytes(bytes)) { return .matched }
        guard bytes.count == Int(EW_COMM_LEN) - 1 else { return .exhausted }
        return visit(.prefix(bytes)) ? .matched : .exhausted
    }

    @inline(__always)
    private static func visitInteger(
        _ value: Int64, _ visit: (FieldValue) -> Bool
    ) -> FieldVisit {
        visit(.integer(value)) ? .matched : .exhausted
    }

    /// Visits an id as the decimal string ECS keyword fields carry, formatted
    /// on the stack.
    private static func visitDecimal(
        _ value: UInt32, _ visit: (FieldValue) -> Bool
    ) -> FieldVisit {
        withDecimalText(magnitude: UInt64(value)) { digits in
            visit(.bytes(digits)) ? .matched : .exhausted
        }
    }
}
