/// A three-valued (Kleene) truth value. `unknown` stands for a condition
/// whose result depends on values the source could not supply, such as
/// arguments cut by the capture limit.
enum Truth: Hashable, Sendable {
    case `true`
    case `false`
    case unknown

    init(_ value: Bool) {
        self = value ? .true : .false
    }

    /// Not unknown is unknown.
    var negated: Truth {
        switch self {
        case .true: return .false
        case .false: return .true
        case .unknown: return .unknown
        }
    }

    /// False and anything is false, even unknown.
    func and(_ other: Truth) -> Truth {
        if self == .false || other == .false { return .false }
        if self == .unknown || other == .unknown { return .unknown }
        return .true
    }

    /// True or anything is true, even unknown.
    func or(_ other: Truth) -> Truth {
        if self == .true || other == .true { return .true }
        if self == .unknown || other == .unknown { return .unknown }
        return .false
    }

    /// Maps the result of visiting a field's values: a matching value makes
    /// the condition true, and a cut-short field with no match makes it unknown.
    init(_ visit: FieldVisit) {
        switch visit {
        case .matched: self = .true
        case .exhausted: self = .false
        case .incomplete: self = .unknown
        }
    }
}
