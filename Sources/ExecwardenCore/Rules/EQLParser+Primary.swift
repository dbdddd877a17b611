extension EQLParser {
    // MARK: - Arithmetic

    mutating func parseAdditive() throws(EQLSyntaxError) -> EQLExpression {
        var left = try parseMultiplicative()
        while let operation = arithmeticOperator(in: [.add, .subtract]) {
            let position = advance().position
            let right = try parseMultiplicative()
            left = try node(.arithmetic(left, operation, right), at: position)
        }
        return left
    }

    mutating func parseMultiplicative() throws(EQLSyntaxError) -> EQLExpression {
        var left = try parseUnary()
        while let operation = arithmeticOperator(in: [.multiply, .divide, .modulo]) {
            let position = advance().position
            let right = try parseUnary()
            left = try node(.arithmetic(left, operation, right), at: position)
        }
        return left
    }

    func arithmeticOperator(in allowed: [ArithmeticOperator]) -> ArithmeticOperator? {
        guard case .symbol(let symbol) = current.kind,
              let operation = ArithmeticOperator(rawValue: symbol.rawValue),
              allowed.contains(operation)
        else { return nil }
        return operation
    }

    mutating func parseUnary() throws(EQLSyntaxError) -> EQLExpression {
        if current.isSymbol(.minus) || current.isSymbol(.plus) {
            let sign = advance()
            try enterNesting()
            defer { depth -= 1 }
            let operand = try parseUnary()
            return sign.isSymbol(.plus) ? operand : try node(.negation(operand), at: sign.position)
        }
        let primary = try parsePrimary()
        return try parsePredicate(on: primary)
    }

    // MARK: - Predicates

    /// Parses an optional `in`, `not in`, `:`, `like` or `regex` after a primary.
    mutating func parsePredicate(on value: EQLExpression) throws(EQLSyntaxError) -> EQLExpression {
        let position = current.position
        var negated = false
        if current.isKeyword(.not) {
            guard peek(offset: 1).isKeyword(.in) || peek(offset: 1).isKeyword(.inInsensitive) else {
                throw unexpected(expected: "in or in~ after not", at: peek(offset: 1))
            }
            _ = advance()
            negated = true
        }
        if current.isKeyword(.in) || current.isKeyword(.inInsensitive) {
            let caseInsensitive = advance().isKeyword(.inInsensitive)
            let list = try parseExpressionList()
            return try node(.membership(value, list, caseInsensitive: caseInsensitive, negated: negated), at: position)
        }
        guard let patternOperator = patternOperator(current) else {
            return value
        }
        _ = advance()
        let patterns = try parseConstantList(after: patternOperator)
        return try node(.pattern(value, patternOperator, patterns), at: position)
    }

    func patternOperator(_ token: EQLToken) -> PatternOperator? {
        switch token.kind {
        case .symbol(.colon): return .insensitiveEquals
        case .keyword(.like): return .like
        case .keyword(.likeInsensitive): return .likeInsensitive
        case .keyword(.regex): return .regex
        case .keyword(.regexInsensitive): return .regexInsensitive
        default: return nil
        }
    }

    mutating func parseExpressionList() throws(EQLSyntaxError) -> [EQLExpression] {
        try expect(.leftParenthesis, context: "to start the in list")
        var items = [try parseExpression()]
        while accept(.comma) {
            items.append(try parseExpression())
        }
        try expect(.rightParenthesis, context: "or \",\" in the in list")
        return items
    }

    /// Parses one literal or a parenthesized list of literals.
    mutating func parseConstantList(after operation: PatternOperator) throws(EQLSyntaxError) -> [EQLExpression] {
        guard accept(.leftParenthesis) else {
            return [try parseConstant(after: operation)]
        }
        var items = [try parseConstant(after: operation)]
        while accept(.comma) {
            items.append(try parseConstant(after: operation))
        }
        try expect(.rightParenthesis, context: "or \",\" in the pattern list")
        return items
    }

    mutating func parseConstant(after operation: PatternOperator) throws(EQLSyntaxError) -> EQLExpression {
        guard let literal = literal(current) else {
            throw unexpected(expected: "a literal pattern after \(operation.rawValue)")
        }
        return EQLExpression(.literal(literal), at: advance().position)
    }

    // MARK: - Primary expressions

    mutating func parsePrimary() throws(EQLSyntaxError) -> EQLExpression {
        let token = current
        if let literal = literal(token) {
            _ = advance()
            return EQLExpression(.literal(literal), at: token.position)
        }
        switch token.kind {
        case .identifier(let name) where peek(offset: 1).isSymbol(.leftParenthesis):
            return try parseCall(name: name, caseInsensitive: false)
        case .tildeIdentifier(let name):
            return try parseCall(name: name, caseInsensitive: true)
        case .identifier, .quotedIdentifier:
            return try parseField(isOptional: false)
        case .symbol(.questionMark):
            _ = advance()
            return try parseField(isOptional: true, position: token.position)
        case .symbol(.leftParenthesis):
            _ = advance()
            let inner = try parseExpression()
            try expect(.rightParenthesis, context: "to close the parenthesis")
            return inner
        default:
            throw unexpected(expected: "a field, literal, function call or \"(\"")
        }
    }

    func literal(_ token: EQLToken) -> EQLLiteral? {
        switch token.kind {
        case .string(let value): return .string(value)
        case .integer(let value): return .integer(value)
        case .decimal(let value): return .decimal(value)
        case .keyword(.true): return .boolean(true)
        case .keyword(.false): return .boolean(false)
        case .keyword(.null): return .null
        default: return nil
        }
    }

    mutating func parseCall(name: String, caseInsensitive: Bool) throws(EQLSyntaxError) -> EQLExpression {
        let nameToken = advance()
        try expect(.leftParenthesis, context: "after the function name \(nameToken.text)")
        var arguments: [EQLExpression] = []
        if !accept(.rightParenthesis) {
            arguments.append(try parseExpression())
            while accept(.comma) {
                arguments.append(try parseExpression())
            }
            try expect(.rightParenthesis, context: "or \",\" in the arguments of \(name)")
        }
        return try node(.call(name: name, caseInsensitive: caseInsensitive, arguments: arguments), at: nameToken.position)
    }

    /// Parses a dotted field name. Parts after a dot may be keywords, so
    /// ECS names such as `event.sequence` need no backquotes.
    mutating func parseField(isOptional: Bool, position: SourcePosition? = nil) throws(EQLSyntaxError) -> EQLExpression {
        let start = position ?? current.position
        var parts = [try parseFieldPart(allowKeyword: false)]
        while true {
            if current.isSymbol(.leftBracket) {
                throw EQLSyntaxError(
                    "array indexes such as [0] are not supported: a comparison on \(parts.joined(separator: ".")) is true when any element matches",
                    at: current.position)
            }
            guard accept(.dot) else { break }
            parts.append(try parseFieldPart(allowKeyword: true))
        }
        return EQLExpression(.field(name: parts.joined(separator: "."), isOptional: isOptional), at: start)
    }

    mutating func parseFieldPart(allowKeyword: Bool) throws(EQLSyntaxError) -> String {
        switch current.kind {
        case .identifier(let name), .quotedIdentifier(let name):
            _ = advance()
            return name
        case .keyword where allowKeyword:
            return advance().text
        default:
            throw unexpected(expected: "a field name")
        }
    }
}
