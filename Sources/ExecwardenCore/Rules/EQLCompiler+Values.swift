extension EQLCompiler {
    // MARK: - Values

    /// Compiles an expression that computes a value from the predicate's
    /// field. The caller has checked that it reads at most one field.
    mutating func compileValue(_ expression: EQLExpression) throws(EQLSyntaxError) -> ValueExpression {
        switch expression.kind {
        case .literal(let literal):
            return .constant(scalar(for: literal))
        case .field(let name, let isOptional):
            switch try resolveField(name, isOptional: isOptional, at: expression.position) {
            case .missing: return .constant(.null)
            case .field: return .field
            }
        case .negation(let operand):
            return .negation(try compileValue(operand))
        case .arithmetic(let left, let operation, let right):
            return .arithmetic(try compileValue(left), operation, try compileValue(right))
        case .call(let name, let caseInsensitive, let arguments):
            return try compileCall(name, caseInsensitive: caseInsensitive, arguments: arguments, at: expression.position)
        case .and, .or, .not, .comparison, .membership, .pattern:
            throw EQLSyntaxError("expected a value, found \(Self.describe(expression))", at: expression.position)
        }
    }

    mutating func compileCall(
        _ name: String, caseInsensitive: Bool, arguments: [EQLExpression], at position: SourcePosition
    ) throws(EQLSyntaxError) -> ValueExpression {
        let function = try Self.resolveFunction(name, caseInsensitive: caseInsensitive, arguments: arguments, at: position)
        if let operation = function.arithmeticOperator {
            return .arithmetic(try compileValue(arguments[0]), operation, try compileValue(arguments[1]))
        }
        let scalarFunction = try Self.scalarFunction(function, caseInsensitive: caseInsensitive, arguments: arguments)
        var compiled: [ValueExpression] = []
        for argument in arguments.prefix(Self.evaluatedArgumentCount(function, arguments.count)) {
            compiled.append(try compileValue(argument))
        }
        return .call(scalarFunction, compiled)
    }

    /// Returns how many leading arguments are evaluated per value. The rest
    /// are literals compiled into the function: the `greedy` flag of
    /// `between`, the base of `number` and the patterns of `wildcard`.
    static func evaluatedArgumentCount(_ function: EQLFunction, _ count: Int) -> Int {
        switch function {
        case .between: return 3
        case .number, .wildcard: return 1
        default: return count
        }
    }

    static func scalarFunction(
        _ function: EQLFunction, caseInsensitive: Bool, arguments: [EQLExpression]
    ) throws(EQLSyntaxError) -> ScalarFunction {
        switch function {
        case .length: return .length
        case .string: return .string
        case .concat: return .concat
        case .substring: return .substring
        case .indexOf: return .indexOf(caseInsensitive: caseInsensitive)
        case .startsWith: return .startsWith(caseInsensitive: caseInsensitive)
        case .endsWith: return .endsWith(caseInsensitive: caseInsensitive)
        case .stringContains: return .stringContains(caseInsensitive: caseInsensitive)
        case .between:
            let greedy = try arguments.count > 3 ? booleanLiteral(arguments[3], role: "the greedy argument of between") : false
            return .between(greedy: greedy, caseInsensitive: caseInsensitive)
        case .number:
            return .number(base: try arguments.count > 1 ? numberBase(arguments[1]) : nil)
        case .wildcard:
            guard let patterns = literalPatterns(.wildcard, Array(arguments.dropFirst()), caseInsensitive: caseInsensitive) else {
                let position = arguments.dropFirst().first { !isStringLiteral($0) }?.position ?? arguments[0].position
                throw EQLSyntaxError("the patterns of wildcard must be string literals", at: position)
            }
            return .wildcard(patterns)
        case .add, .subtract, .multiply, .divide, .modulo, .cidrMatch:
            preconditionFailure("\(function) has no scalar form")
        }
    }

    static func resolveFunction(
        _ name: String, caseInsensitive: Bool, arguments: [EQLExpression], at position: SourcePosition
    ) throws(EQLSyntaxError) -> EQLFunction {
        guard let function = EQLFunction(name: name) else {
            throw EQLSyntaxError(
                "unknown function \"\(name)\": expected one of \(EQLFunction.supportedNames)", at: position)
        }
        guard function != .cidrMatch else {
            throw EQLSyntaxError("function cidrMatch is not supported by this engine", at: position, isUnsupported: true)
        }
        guard !caseInsensitive || function.hasCaseInsensitiveForm else {
            throw EQLSyntaxError(
                "function \(function.rawValue) has no case-insensitive form \(function.rawValue)~", at: position)
        }
        guard function.argumentCounts.contains(arguments.count) else {
            throw EQLSyntaxError(
                "function \(function.rawValue) takes \(function.argumentCountDescription) arguments, found \(arguments.count)",
                at: position)
        }
        return function
    }

    private static func booleanLiteral(_ argument: EQLExpression, role: String) throws(EQLSyntaxError) -> Bool {
        guard case .literal(.boolean(let value)) = argument.kind else {
            throw EQLSyntaxError("\(role) must be true or false, found \(describe(argument))", at: argument.position)
        }
        return value
    }

    /// Reads the base of `number`: an integer literal from 2 to 36, or null
    /// for the default.
    private static func numberBase(_ argument: EQLExpression) throws(EQLSyntaxError) -> Int? {
        switch argument.kind {
        case .literal(.null):
            return nil
        case .literal(.integer(let base)) where (2...36).contains(base):
            return Int(base)
        default:
            throw EQLSyntaxError(
                "the base of number must be an integer literal from 2 to 36 or null, found \(describe(argument))",
                at: argument.position)
        }
    }

    // MARK: - Literals

    func scalar(for literal: EQLLiteral) -> Scalar {
        switch literal {
        case .string(let string): return constants.store(Array(string.utf8))
        case .integer(let value): return .integer(value)
        case .decimal(let value): return .double(value)
        case .boolean(let value): return .boolean(value)
        case .null: return .null
        }
    }

    /// Returns the literal an expression stands for, folding a minus sign
    /// before a number, or nil for anything else.
    static func literal(_ expression: EQLExpression) -> EQLLiteral? {
        switch expression.kind {
        case .literal(let literal):
            return literal
        case .negation(let operand):
            switch operand.kind {
            case .literal(.integer(let value)) where value != Int64.min: return .integer(-value)
            case .literal(.decimal(let value)): return .decimal(-value)
            default: return nil
            }
        default:
            return nil
        }
    }

    static func isNull(_ expression: EQLExpression) -> Bool {
        expression.kind == .literal(.null)
    }

    static func isStringLiteral(_ expression: EQLExpression) -> Bool {
        if case .literal(.string) = expression.kind { return true }
        return false
    }

    /// Describes an expression for an error message, as in "found a string".
    static func describe(_ expression: EQLExpression) -> String {
        switch expression.kind {
        case .literal(.string(let value)): return "the string \"\(value)\""
        case .literal(.integer(let value)): return "the number \(value)"
        case .literal(.decimal(let value)): return "the number \(value)"
        case .literal(.boolean(let value)): return "\(value)"
        case .literal(.null): return "null"
        case .field(let name, _): return "the field \(name)"
        case .call(let name, let caseInsensitive, _): return "a call of \(name)\(caseInsensitive ? "~" : "")"
        case .arithmetic, .negation: return "an arithmetic expression"
        case .and, .or, .not, .comparison, .membership, .pattern: return "a condition"
        }
    }
}
