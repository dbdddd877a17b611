/// A field the sensor can supply for an exec, resolved once when a rule is
/// compiled so the hot path never compares field names.
public enum ExecField: String, CaseIterable, Sendable {
    case eventCategory = "event.category"
    case eventType = "event.type"
    case eventAction = "event.action"
    case eventKind = "event.kind"
    case hostOSType = "host.os.type"
    case processExecutable = "process.executable"
    case processName = "process.name"
    case processArgs = "process.args"
    case processArgsCount = "process.args_count"
    case processCommandLine = "process.command_line"
    case processPID = "process.pid"
    case processParentExecutable = "process.parent.executable"
    case processParentName = "process.parent.name"
    case processParentPID = "process.parent.pid"
    case processParentArgs = "process.parent.args"
    case processParentArgsCount = "process.parent.args_count"
    case processParentCommandLine = "process.parent.command_line"
    case userID = "user.id"
    case groupID = "group.id"
}

/// A field named in a rule: its dotted ECS name and, when the sensor can
/// supply it, the resolved `ExecField`.
public struct FieldReference: Hashable, Sendable {
    public let name: String
    public let execField: ExecField?
    /// True for a field written `?name` in EQL: a missing field is null
    /// instead of a load-time error.
    public let isOptional: Bool

    public init(name: String, isOptional: Bool = false) {
        self.name = name
        self.execField = ExecField(rawValue: name)
        self.isOptional = isOptional
    }
}

/// One value of a field, valid only inside the visiting closure.
public enum FieldValue {
    /// Raw bytes, compared byte-wise: paths and arguments are not required
    /// to be UTF-8.
    case bytes(UnsafeRawBufferPointer)
    /// An unknown text that starts with these bytes and is longer: a path
    /// cut at the capture limit. A test on it is false when no such text
    /// can pass, and unknown otherwise.
    case prefix(UnsafeRawBufferPointer)
    case integer(Int64)
    case double(Double)
    case bool(Bool)
}

/// The outcome of visiting the values of one field.
public enum FieldVisit: Sendable {
    /// A value satisfied the visitor.
    case matched
    /// Every value was visited and none satisfied it (also for a field with
    /// no values).
    case exhausted
    /// The values visited did not satisfy it, but the field is known to be
    /// cut short (for example arguments beyond the capture limit), so an
    /// unseen value might have.
    case incomplete
}

/// Supplies field values to the rule evaluator, either from a raw exec
/// record or from an ECS JSON document.
public protocol FieldSource {
    /// Calls `visit` for each value of `field`, in order, until it returns
    /// true. Arrays are flattened, and null or missing fields give no values.
    func visitValues(
        of field: FieldReference,
        _ visit: (FieldValue) -> Bool
    ) -> FieldVisit
}
