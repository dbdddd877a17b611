/// EQL arithmetic, with Java's rules as Elasticsearch applies them: two
/// integers give an integer (division truncates toward zero and `%` keeps
/// the sign of the dividend), and any double makes the result a double.
/// Null, non-numbers, integer overflow and division by zero give null, where
/// Elasticsearch fails the query, so the comparison around them is false.
enum Arithmetic {
    static func negate(_ value: Scalar) -> Scalar {
        switch value {
        case .integer(let number):
            let (result, overflow) = Int64(0).subtractingReportingOverflow(number)
            return overflow ? .null : .integer(result)
        case .double(let number):
            return .double(-number)
        case .unknown:
            return .unknown
        default:
            return .null
        }
    }

    static func apply(_ operation: ArithmeticOperator, _ left: Scalar, _ right: Scalar) -> Scalar {
        if case .unknown = left { return .unknown }
        if case .unknown = right { return .unknown }
        if case .integer(let a) = left, case .integer(let b) = right {
            return applyIntegers(operation, a, b)
        }
        guard left.isNumber, right.isNumber, let a = left.doubleValue, let b = right.doubleValue else {
            return .null
        }
        return applyDoubles(operation, a, b)
    }

    private static func applyIntegers(_ operation: ArithmeticOperator, _ a: Int64, _ b: Int64) -> Scalar {
        let (result, overflow): (Int64, Bool)
        switch operation {
        case .add: (result, overflow) = a.addingReportingOverflow(b)
        case .subtract: (result, overflow) = a.subtractingReportingOverflow(b)
        case .multiply: (result, overflow) = a.multipliedReportingOverflow(by: b)
        case .divide:
            guard b != 0 else { return .null }
            (result, overflow) = a.dividedReportingOverflow(by: b)
        case .modulo:
            guard b != 0 else { return .null }
            (result, overflow) = a.remainderReportingOverflow(dividingBy: b)
        }
        return overflow ? .null : .integer(result)
    }

    private static func applyDoubles(_ operation: ArithmeticOperator, _ a: Double, _ b: Double) -> Scalar {
        switch operation {
        case .add: return .double(a + b)
        case .subtract: return .double(a - b)
        case .multiply: return .double(a * b)
        case .divide: return b == 0 ? .null : .double(a / b)
        case .modulo: return b == 0 ? .null : .double(a.truncatingRemainder(dividingBy: b))
        }
    }
}
