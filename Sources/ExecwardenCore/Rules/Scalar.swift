/// One value during evaluation: a field value, a constant or a function
/// result. Bytes point into the field value, a `ConstantStorage` or a
/// `ScratchArena`, and stay valid only while that owner is alive.
enum Scalar: @unchecked Sendable {
    case bytes(UnsafeRawBufferPointer)
    case integer(Int64)
    case double(Double)
    case boolean(Bool)
    case null
    /// A result that depends on data the engine could not hold, such as a
    /// `concat` longer than the scratch arena. It makes the predicate unknown.
    case unknown

    init(_ value: FieldValue) {
        switch value {
        case .bytes(let bytes): self = .bytes(bytes)
        case .prefix: self = .unknown
        case .integer(let value): self = .integer(value)
        case .double(let value): self = .double(value)
        case .bool(let value): self = .boolean(value)
        }
    }

    var isNumber: Bool {
        switch self {
        case .integer, .double: return true
        default: return false
        }
    }

    var doubleValue: Double? {
        switch self {
        case .integer(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    /// Calls `body` with the text form of the value, the form a keyword field
    /// indexes: bytes as they are, integers in decimal, booleans as
    /// `true`/`false`. Returns nil for null and unknown values.
    func withText<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result? {
        switch self {
        case .bytes(let bytes):
            return body(bytes)
        case .integer(let value):
            return Self.withDecimalText(value, body)
        case .double(let value):
            return Self.withDecimalText(value, body)
        case .boolean(let value):
            return Self.withStaticText(value ? "true" : "false", body)
        case .null, .unknown:
            return nil
        }
    }

    static func withDecimalText<Result>(_ value: Int64, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        ExecwardenCore.withDecimalText(magnitude: value.magnitude, isNegative: value < 0, body)
    }

    /// Renders a double in Swift's shortest form, which matches Java's
    /// `Double.toString` (`4.0`, `42.5`) for magnitudes from 1e-3 to 1e7.
    // NOTE: this allocates a String, and outside that range the exponent form
    // differs from Java's (`1e+20` against `1.0E20`).
    static func withDecimalText<Result>(_ value: Double, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        var text = value.description
        return text.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }

    static func withStaticText<Result>(_ text: StaticString, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        body(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}

// MARK: - Comparison

extension Scalar {
    /// Compares two values: numerically when both are numbers, as booleans
    /// when both are booleans, and otherwise byte-wise on their text forms.
    /// Returns false when either side is null.
    static func compare(_ left: Scalar, _ operation: ComparisonOperator, _ right: Scalar) -> Bool {
        guard let order = order(left, right) else { return false }
        switch operation {
        case .equal: return order == 0
        case .notEqual: return order != 0
        case .less: return order < 0
        case .lessOrEqual: return order <= 0
        case .greater: return order > 0
        case .greaterOrEqual: return order >= 0
        }
    }

    /// Returns -1, 0 or 1, or nil when the values cannot be ordered.
    private static func order(_ left: Scalar, _ right: Scalar) -> Int? {
        switch (left, right) {
        case (.null, _), (_, .null), (.unknown, _), (_, .unknown):
            return nil
        case (.integer(let a), .integer(let b)):
            return a == b ? 0 : (a < b ? -1 : 1)
        case (.boolean(let a), .boolean(let b)):
            return a == b ? 0 : (!a ? -1 : 1)
        case (.bytes(let a), .bytes(let b)):
            return ByteText.compare(a, b)
        default:
            break
        }
        if let a = left.doubleValue, let b = right.doubleValue {
            guard !a.isNaN, !b.isNaN else { return nil }
            return a == b ? 0 : (a < b ? -1 : 1)
        }
        return left.withText { leftText in
            right.withText { rightText in ByteText.compare(leftText, rightText) }
        } ?? nil
    }
}
