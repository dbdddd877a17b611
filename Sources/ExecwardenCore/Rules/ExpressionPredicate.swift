/// A value computed from the current value of a predicate's field.
indirect enum ValueExpression: Sendable {
    /// The current value of the predicate's field.
    case field
    case constant(Scalar)
    case negation(ValueExpression)
    case arithmetic(ValueExpression, ArithmeticOperator, ValueExpression)
    case call(ScalarFunction, [ValueExpression])

    func evaluate(_ value: Scalar?, arena: inout ScratchArena) -> Scalar {
        switch self {
        case .field:
            return value ?? .null
        case .constant(let constant):
            return constant
        case .negation(let operand):
            return Arithmetic.negate(operand.evaluate(value, arena: &arena))
        case .arithmetic(let left, let operation, let right):
            let leftValue = left.evaluate(value, arena: &arena)
            let rightValue = right.evaluate(value, arena: &arena)
            return Arithmetic.apply(operation, leftValue, rightValue)
        case .call(let function, let arguments):
            return function.evaluate(arguments, value: value, arena: &arena)
        }
    }
}

/// A condition that needs functions or arithmetic, such as
/// `length(process.name) > 10`. Elasticsearch rejects conditions that
/// compare two fields, so a predicate reads at most one field, and it is true
/// when any value of that field makes it true.
struct ExpressionPredicate: Sendable {
    enum Body: Sendable {
        /// A boolean expression such as `startsWith(x, concat("a", "b"))`.
        case truthy(ValueExpression)
        case comparison(ValueExpression, ComparisonOperator, ValueExpression)
        case test(ValueExpression, ValueTest)
    }

    /// The field the expressions read, or nil for a constant predicate.
    let field: FieldReference?
    let body: Body

    func evaluate<Source: FieldSource>(_ source: Source) -> Truth {
        ScratchArena.withArena { arena in
            guard let field else {
                return holds(for: nil, arena: &arena)
            }
            var sawUnknown = false
            let visit = source.visitValues(of: field) { value in
                arena.used = 0
                switch holds(for: Scalar(value), arena: &arena) {
                case .true: return true
                case .false: return false
                case .unknown:
                    sawUnknown = true
                    return false
                }
            }
            if visit == .exhausted && sawUnknown {
                return .unknown
            }
            return Truth(visit)
        }
    }

    private func holds(for value: Scalar?, arena: inout ScratchArena) -> Truth {
        switch body {
        case .truthy(let expression):
            let result = expression.evaluate(value, arena: &arena)
            if case .unknown = result { return .unknown }
            return Truth(ValueTest.isTrue.matches(result))
        case .comparison(let left, let operation, let right):
            let leftValue = left.evaluate(value, arena: &arena)
            let rightValue = right.evaluate(value, arena: &arena)
            if case .unknown = leftValue { return .unknown }
            if case .unknown = rightValue { return .unknown }
            return Truth(Scalar.compare(leftValue, operation, rightValue))
        case .test(let expression, let test):
            let result = expression.evaluate(value, arena: &arena)
            if case .unknown = result { return .unknown }
            return Truth(test.matches(result))
        }
    }
}
