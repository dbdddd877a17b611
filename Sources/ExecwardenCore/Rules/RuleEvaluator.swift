// The entry points of rule evaluation. Evaluation is generic over the
// `FieldSource` so that it specializes for each source: on the hot path it
// allocates nothing and compares field bytes in place.

/// The result of evaluating a rule on one event.
public enum Verdict: Hashable, Sendable {
    case match
    case noMatch
    /// Whether the rule matches depends on field values the source could not
    /// supply, such as arguments beyond the capture limit. The sensor alerts
    /// on it and flags the alert as uncertain.
    case uncertain

    init(_ truth: Truth) {
        switch truth {
        case .true: self = .match
        case .false: self = .noMatch
        case .unknown: self = .uncertain
        }
    }
}

extension CompiledCondition {
    /// Evaluates the condition with Kleene logic, short-circuiting `and` on
    /// false and `or` on true.
    func evaluate<Source: FieldSource>(_ source: Source) -> Truth {
        switch self {
        case .constant(let truth):
            return truth
        case .not(let condition):
            return condition.evaluate(source).negated
        case .and(let operands):
            var result = Truth.true
            for operand in operands {
                result = result.and(operand.evaluate(source))
                if result == .false { return .false }
            }
            return result
        case .or(let operands):
            var result = Truth.false
            for operand in operands {
                result = result.or(operand.evaluate(source))
                if result == .true { return .true }
            }
            return result
        case .test(let field, let test):
            var sawUnknown = false
            let visit = source.visitValues(of: field) { value in
                if case .prefix(let known) = value {
                    switch test.matches(extensionOf: known) {
                    case .true: return true
                    case .false: return false
                    case .unknown:
                        sawUnknown = true
                        return false
                    }
                }
                return test.matches(Scalar(value))
            }
            if visit == .exhausted && sawUnknown { return .unknown }
            return Truth(visit)
        case .predicate(let predicate):
            return predicate.evaluate(source)
        }
    }
}
