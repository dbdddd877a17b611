/// A recursive-descent parser for single-event EQL queries, following the
/// precedence of Elasticsearch's EqlBase.g4: `or` < `and` < `not` <
/// comparison < `+ -` < `* / %` < unary minus < predicates (`in`, `:`,
/// `like`, `regex`) on a primary expression. Sequences, joins, samples and
/// pipes are rejected.
public struct EQLParser {
    var tokens: [EQLToken]
    var index = 0
    /// Current nesting of parentheses, `not` and unary minus, bounded so that
    /// a hostile rule cannot overflow the stack of the recursive parser.
    var depth = 0

    static let maximumDepth = 200
    /// Maximum `EQLExpression.height`, which bounds the recursion of the
    /// compiler and the evaluator, for example on `a + b + c + ...`.
    static let maximumHeight = 400

    init(tokens: [EQLToken]) {
        self.tokens = tokens
    }

    /// Parses a whole query such as `process where process.name == "bash"`.
    public static func parse(_ text: String) throws(EQLSyntaxError) -> EQLQuery {
        var parser = EQLParser(tokens: try EQLLexer.tokenize(text))
        return try parser.parseQuery()
    }

    /// Parses a condition on its own, without `<category> where`.
    public static func parseCondition(_ text: String) throws(EQLSyntaxError) -> EQLExpression {
        var parser = EQLParser(tokens: try EQLLexer.tokenize(text))
        let condition = try parser.parseExpression()
        try parser.expectEndOfQuery()
        return condition
    }

    // MARK: - Tokens

    var current: EQLToken {
        tokens[index]
    }

    func peek(offset: Int) -> EQLToken {
        tokens[min(index + offset, tokens.count - 1)]
    }

    mutating func advance() -> EQLToken {
        let token = tokens[index]
        if index < tokens.count - 1 {
            index += 1
        }
        return token
    }

    mutating func accept(_ keyword: EQLKeyword) -> Bool {
        guard current.isKeyword(keyword) else { return false }
        _ = advance()
        return true
    }

    mutating func accept(_ symbol: EQLSymbol) -> Bool {
        guard current.isSymbol(symbol) else { return false }
        _ = advance()
        return true
    }

    mutating func expect(_ symbol: EQLSymbol, context: String) throws(EQLSyntaxError) {
        guard accept(symbol) else {
            throw unexpected(expected: "\"\(symbol.rawValue)\" \(context)")
        }
    }

    func unexpected(expected: String, at token: EQLToken? = nil) -> EQLSyntaxError {
        let token = token ?? current
        return EQLSyntaxError("expected \(expected), found \(token.displayName)", at: token.position)
    }

    // MARK: - Query

    mutating func parseQuery() throws(EQLSyntaxError) -> EQLQuery {
        try rejectMultiEventQuery()
        let category = try parseEventCategory()
        guard accept(.where) else {
            throw unexpected(expected: "where after the event category")
        }
        let condition = try parseExpression()
        try expectEndOfQuery()
        return EQLQuery(eventCategory: category, condition: condition)
    }

    func rejectMultiEventQuery() throws(EQLSyntaxError) {
        for keyword in [EQLKeyword.sequence, .join, .sample] where current.isKeyword(keyword) {
            throw EQLSyntaxError(
                "\(keyword.rawValue) queries are not supported: only single-event queries such as `process where ...` can be evaluated on one exec",
                at: current.position, isUnsupported: true)
        }
    }

    /// Parses the category before `where`: `any`, a name or a quoted string.
    mutating func parseEventCategory() throws(EQLSyntaxError) -> String? {
        if accept(.any) {
            return nil
        }
        switch current.kind {
        case .identifier(let name), .string(let name):
            _ = advance()
            return name
        default:
            throw unexpected(expected: "an event category such as process, or any")
        }
    }

    /// Rejects trailing tokens, naming pipes explicitly because a rule with a
    /// pipe such as `| head 5` is valid EQL that this engine cannot apply.
    mutating func expectEndOfQuery() throws(EQLSyntaxError) {
        if current.isSymbol(.pipe) {
            let pipeName = peek(offset: 1).text
            throw EQLSyntaxError(
                "pipes are not supported: found \"| \(pipeName)\", but only the where clause of a single-event query can be evaluated",
                at: current.position, isUnsupported: true)
        }
        guard current.kind == .endOfQuery else {
            throw unexpected(expected: "`and`, `or` or end of query")
        }
    }

    // MARK: - Boolean operators

    mutating func parseExpression() throws(EQLSyntaxError) -> EQLExpression {
        try enterNesting()
        defer { depth -= 1 }
        let first = try parseAnd()
        guard current.isKeyword(.or) else { return first }
        let position = current.position
        var operands = [first]
        while accept(.or) {
            operands.append(try parseAnd())
        }
        return try node(.or(operands), at: position)
    }

    mutating func parseAnd() throws(EQLSyntaxError) -> EQLExpression {
        let first = try parseNot()
        guard current.isKeyword(.and) else { return first }
        let position = current.position
        var operands = [first]
        while accept(.and) {
            operands.append(try parseNot())
        }
        return try node(.and(operands), at: position)
    }

    /// Builds a node, rejecting trees taller than `maximumHeight`.
    func node(_ kind: EQLExpression.Kind, at position: SourcePosition) throws(EQLSyntaxError) -> EQLExpression {
        let expression = EQLExpression(kind, at: position)
        guard expression.height <= Self.maximumHeight else {
            throw EQLSyntaxError(
                "the condition is nested more than \(Self.maximumHeight) levels deep: simplify it", at: position)
        }
        return expression
    }

    mutating func parseNot() throws(EQLSyntaxError) -> EQLExpression {
        guard current.isKeyword(.not) else {
            return try parseComparison()
        }
        let position = advance().position
        try enterNesting()
        defer { depth -= 1 }
        return try node(.not(try parseNot()), at: position)
    }

    mutating func enterNesting() throws(EQLSyntaxError) {
        depth += 1
        guard depth <= Self.maximumDepth else {
            throw EQLSyntaxError(
                "the condition is nested more than \(Self.maximumDepth) levels deep: simplify it", at: current.position)
        }
    }

    // MARK: - Comparison

    mutating func parseComparison() throws(EQLSyntaxError) -> EQLExpression {
        let left = try parseAdditive()
        guard let comparison = comparisonOperator(current) else {
            try rejectAssignment()
            return left
        }
        let position = advance().position
        let right = try parseAdditive()
        if comparisonOperator(current) != nil {
            throw EQLSyntaxError(
                "comparisons cannot be chained: join them with and, as in `a < b and b < c`",
                at: current.position)
        }
        try rejectAssignment()
        return try node(.comparison(left, comparison, right), at: position)
    }

    func comparisonOperator(_ token: EQLToken) -> ComparisonOperator? {
        guard case .symbol(let symbol) = token.kind else { return nil }
        return ComparisonOperator(rawValue: symbol.rawValue)
    }

    func rejectAssignment() throws(EQLSyntaxError) {
        if current.isSymbol(.assign) {
            throw EQLSyntaxError(
                "= is not an EQL operator: use == for case-sensitive or : for case-insensitive equality",
                at: current.position)
        }
    }
}
