/// The compiled form of an EQL condition. Field names are resolved and
/// patterns compiled when the rule loads, so evaluation only walks this tree.
indirect enum CompiledCondition: Sendable {
    case constant(Truth)
    case not(CompiledCondition)
    case and([CompiledCondition])
    case or([CompiledCondition])
    /// True when any value of the field passes the test: the form of
    /// `field op literal`, `field in (...)`, `field : "pattern"` and
    /// `startsWith(field, "literal")`.
    case test(FieldReference, ValueTest)
    /// A condition with functions or arithmetic, true when any value of its
    /// one field makes it true.
    case predicate(ExpressionPredicate)
}

/// A test of one value against literals.
enum ValueTest: Sendable {
    /// Any value: `field != null`.
    case exists
    /// The value is the boolean true, or the text `true`.
    case isTrue
    /// The text form equals one of the strings, case-sensitively.
    case equalsAny([[UInt8]])
    /// The text form equals one of the strings ignoring ASCII case. The
    /// strings are stored lowercased.
    case equalsAnyIgnoringCase([[UInt8]])
    /// The value equals one of the literals, for lists that mix types.
    case equalsAnyLiteral([Scalar])
    case compare(ComparisonOperator, Scalar)
    case wildcard([WildcardPattern])
    case regex([RegexProgram])

    func matches(_ value: Scalar) -> Bool {
        switch self {
        case .exists:
            if case .null = value { return false }
            if case .unknown = value { return false }
            return true
        case .isTrue:
            if case .boolean(let flag) = value { return flag }
            return value.withText { text in
                Scalar.withStaticText("true") { ByteText.equal(text, $0, foldingCase: false) }
            } ?? false
        case .equalsAny(let strings):
            return value.withText { Self.equalsAny(strings, $0, foldingCase: false) } ?? false
        case .equalsAnyIgnoringCase(let strings):
            return value.withText { Self.equalsAny(strings, $0, foldingCase: true) } ?? false
        case .equalsAnyLiteral(let literals):
            return literals.contains { Scalar.compare(value, .equal, $0) }
        case .compare(let operation, let literal):
            return Scalar.compare(value, operation, literal)
        case .wildcard(let patterns):
            return value.withText { text in patterns.contains { $0.matches(text) } } ?? false
        case .regex(let programs):
            return value.withText { text in programs.contains { $0.matches(text) } } ?? false
        }
    }

    /// Returns whether a text that starts with `known` and is longer passes:
    /// false when no such text can, true when every one does, unknown
    /// otherwise.
    func matches(extensionOf known: UnsafeRawBufferPointer) -> Truth {
        switch self {
        case .exists:
            return .true
        case .equalsAny(let strings):
            return Self.anyExtends(strings, known, foldingCase: false)
        case .equalsAnyIgnoringCase(let strings):
            return Self.anyExtends(strings, known, foldingCase: true)
        case .wildcard(let patterns):
            return patterns.contains { $0.mayMatch(extensionOf: known) } ? .unknown : .false
        case .isTrue, .equalsAnyLiteral, .compare, .regex:
            return .unknown
        }
    }

    /// Unknown when some string is longer than `known` and starts with it.
    private static func anyExtends(
        _ strings: [[UInt8]], _ known: UnsafeRawBufferPointer, foldingCase: Bool
    ) -> Truth {
        let possible = strings.contains { string in
            string.count > known.count
                && string.withUnsafeBytes {
                    ByteText.hasPrefix(UnsafeRawBufferPointer($0), known, foldingCase: foldingCase)
                }
        }
        return possible ? .unknown : .false
    }

    private static func equalsAny(_ strings: [[UInt8]], _ text: UnsafeRawBufferPointer, foldingCase: Bool) -> Bool {
        strings.contains { string in
            string.count == text.count
                && string.withUnsafeBytes { ByteText.equal(text, $0, foldingCase: foldingCase) }
        }
    }
}
