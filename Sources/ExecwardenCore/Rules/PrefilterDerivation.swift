/// Derives a rule's `PrefilterHandle` from its compiled query.
///
/// The derivation is sound with Kleene logic: whenever the query's truth
/// on an exec is true or unknown (a match or an uncertain alert), the exec
/// has one of the handle's names. It walks the condition with the negations
/// pushed down to the leaves, so that:
///
/// - `a and b` takes the handle of one operand, the one with fewest names,
///   because the exec must satisfy every operand;
/// - `a or b` takes the union, and has no handle when one branch has none;
/// - a test on `process.executable` gives the file names its values must
///   end in, and one on `process.name` the comm names;
/// - a test on a field whose value is the same for every exec
///   (`event.category`, `event.type`, `event.action`, `event.kind`,
///   `host.os.type`) is decided here, so a rule that can never match an
///   exec is recognized;
/// - any other test, and any negated test, gives no handle.
///
/// A handle is stated for the exec's real file name. User space treats a
/// truncated or incomplete path as unknown and may raise an uncertain
/// alert for it, but a kernel check on the file's own name drops such an
/// exec when that name fits no handle.
enum PrefilterDerivation {
    static func handle(for query: CompiledQuery) -> PrefilterHandle {
        handle(query.condition, negated: false)
    }

    static func handle(_ condition: CompiledCondition, negated: Bool) -> PrefilterHandle {
        switch condition {
        case .constant(let truth):
            return constantHandle(negated ? truth.negated : truth, condition: "a constant condition")
        case .not(let operand):
            return handle(operand, negated: !negated)
        case .and(let operands):
            let handles = operands.map { handle($0, negated: negated) }
            return negated ? union(handles) : intersection(handles)
        case .or(let operands):
            let handles = operands.map { handle($0, negated: negated) }
            return negated ? intersection(handles) : union(handles)
        case .test(let field, let test):
            if let truth = ExecConstants.truth(of: condition, field: field) {
                return constantHandle(negated ? truth.negated : truth, condition: "the condition on \(field.name)")
            }
            guard !negated else {
                return .none(reason: "a negated condition on \(field.name) is its only handle")
            }
            return testHandle(field, test)
        case .predicate(let predicate):
            if let field = predicate.field, let truth = ExecConstants.truth(of: condition, field: field) {
                return constantHandle(negated ? truth.negated : truth, condition: "the condition on \(field.name)")
            }
            let name = predicate.field?.name ?? "no field"
            return .none(reason: "a function or arithmetic condition on \(name) is its only handle")
        }
    }

    /// Returns the field of a top-level condition that is false for every
    /// exec, such as `host.os.type == "windows"`, or nil when there is none.
    static func excludingField(of query: CompiledQuery) -> ExecField? {
        let operands: [CompiledCondition]
        if case .and(let all) = query.condition {
            operands = all
        } else {
            operands = [query.condition]
        }
        for operand in operands {
            let field: FieldReference?
            switch operand {
            case .test(let reference, _): field = reference
            case .predicate(let predicate): field = predicate.field
            default: field = nil
            }
            if let field, ExecConstants.truth(of: operand, field: field) == .false {
                return field.execField
            }
        }
        return nil
    }

    /// Returns the handle of a condition whose truth is the same for every
    /// exec: false never alerts, and true or unknown gives no handle.
    private static func constantHandle(_ truth: Truth, condition: String) -> PrefilterHandle {
        truth == .false ? .never : .none(reason: "\(condition) holds for every exec")
    }

    /// Every operand must hold: any one operand's handle is a handle of the
    /// whole. Picks the one with fewest names.
    private static func intersection(_ handles: [PrefilterHandle]) -> PrefilterHandle {
        var best: PrefilterHandle?
        for handle in handles {
            guard let count = handle.nameCount else { continue }
            if best == nil || count < best!.nameCount! {
                best = handle
            }
        }
        if let best { return best }
        return .none(reason: "no condition fixes the executable's file name or process.name")
    }

    /// One operand must hold: the union of their names, or no handle when
    /// one operand has none.
    private static func union(_ handles: [PrefilterHandle]) -> PrefilterHandle {
        var executables: Set<[UInt8]> = []
        var processes: Set<[UInt8]> = []
        for handle in handles {
            switch handle {
            case .none(let reason):
                return .none(reason: "an or branch has no handle: \(reason)")
            case .names(let executableNames, let processNames):
                executables.formUnion(executableNames)
                processes.formUnion(processNames)
            }
        }
        return .names(executableNames: executables, processNames: processes)
    }

    private static func testHandle(_ field: FieldReference, _ test: ValueTest) -> PrefilterHandle {
        switch field.execField {
        case .processExecutable?:
            guard let names = executableNames(test) else {
                return .none(reason: "a condition on process.executable does not fix its file name")
            }
            return .names(executableNames: names, processNames: [])
        case .processName?:
            guard let names = processNames(test) else {
                return .none(reason: "a condition on process.name does not fix its whole value")
            }
            return .names(executableNames: [], processNames: names)
        default:
            return .none(reason: "a condition on \(field.name) is its only handle")
        }
    }

    // MARK: - Names

    /// Returns the file names a value passing `test` can have, or nil when
    /// they are not a finite set.
    private static func executableNames(_ test: ValueTest) -> Set<[UInt8]>? {
        switch test {
        case .equalsAny(let strings), .equalsAnyIgnoringCase(let strings):
            return Set(strings.map(fileName))
        case .wildcard(let patterns):
            var names: Set<[UInt8]> = []
            for pattern in patterns {
                guard let name = fileName(matching: pattern) else { return nil }
                names.insert(name)
            }
            return names
        default:
            return nil
        }
    }

    /// Returns the comm names a value passing `test` can have, or nil when
    /// they are not a finite set.
    private static func processNames(_ test: ValueTest) -> Set<[UInt8]>? {
        switch test {
        case .equalsAny(let strings), .equalsAnyIgnoringCase(let strings):
            return Set(strings.map(processName))
        case .wildcard(let patterns):
            var names: Set<[UInt8]> = []
            for pattern in patterns {
                guard pattern.shape == .exact else { return nil }
                names.insert(processName(pattern.literal))
            }
            return names
        default:
            return nil
        }
    }

    /// Returns the file name every value matching `pattern` has, or nil
    /// when the pattern leaves it open. The file name is fixed when the text after
    /// the pattern's last wildcard contains a `/`: a matching value ends
    /// with that text, so its last component is the part after that `/`.
    /// `*` and `?` match `/` too, so nothing before that text counts.
    static func fileName(matching pattern: WildcardPattern) -> [UInt8]? {
        let tail: ArraySlice<UInt8>
        switch pattern.shape {
        case .exact:
            return fileName(pattern.literal)
        case .suffix:
            tail = pattern.literal[...]
        case .general:
            let lastWildcard = pattern.literal.lastIndex {
                $0 == WildcardPattern.star || $0 == WildcardPattern.questionMark
            }
            tail = pattern.literal[((lastWildcard ?? -1) + 1)...]
        case .prefix, .contains:
            return nil
        }
        guard tail.contains(slash) else { return nil }
        return fileName(Array(tail))
    }

    private static let slash = UInt8(ascii: "/")

    /// Returns the lowercased last component of a path: the bytes after its
    /// last `/`, or the whole path when it has none.
    static func fileName(_ path: [UInt8]) -> [UInt8] {
        let start = path.lastIndex(of: slash).map { $0 + 1 } ?? 0
        return ByteText.foldCase(Array(path[start...]))
    }

    /// Returns a comm as the kernel prefilter compares it: lowercased and
    /// cut to 15 bytes.
    static func processName(_ name: [UInt8]) -> [UInt8] {
        ByteText.foldCase(Array(name.prefix(KernelPrefilter.maximumProcessNameLength)))
    }
}

/// The fields whose value is the same for every exec the sensor reports,
/// with the values `RecordFieldSource` gives them.
enum ExecConstants {
    static let values: [ExecField: String] = [
        .eventCategory: "process",
        .eventType: "start",
        .eventAction: "exec",
        .eventKind: "event",
        .hostOSType: "linux",
    ]

    /// Returns the truth of `condition`, a test or predicate on `field`,
    /// for every exec, or nil when `field` varies from exec to exec.
    static func truth(of condition: CompiledCondition, field: FieldReference) -> Truth? {
        guard let execField = field.execField, values[execField] != nil else { return nil }
        return condition.evaluate(ConstantSource())
    }

    /// Supplies the constant fields, and no values for any other.
    struct ConstantSource: FieldSource {
        func visitValues(of field: FieldReference, _ visit: (FieldValue) -> Bool) -> FieldVisit {
            guard let execField = field.execField, let value = ExecConstants.values[execField] else {
                return .exhausted
            }
            var bytes = Array(value.utf8)
            return bytes.withUnsafeMutableBytes { raw in
                visit(.bytes(UnsafeRawBufferPointer(raw))) ? .matched : .exhausted
            }
        }
    }
}
