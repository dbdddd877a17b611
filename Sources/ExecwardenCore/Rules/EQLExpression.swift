/// A parsed single-event EQL query: `<category> where <condition>`.
public struct EQLQuery: Hashable, Sendable {
    /// The event category before `where`, or nil for `any`.
    public let eventCategory: String?
    public let condition: EQLExpression
}

/// A literal value written in a query.
public enum EQLLiteral: Hashable, Sendable {
    case string(String)
    case integer(Int64)
    case decimal(Double)
    case boolean(Bool)
    case null
}

public enum ComparisonOperator: String, Hashable, Sendable {
    case equal = "=="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="

    /// The operator that gives the same result with the operands swapped,
    /// so `5 < x` becomes `x > 5`.
    var swapped: ComparisonOperator {
        switch self {
        case .equal, .notEqual: return self
        case .less: return .greater
        case .lessOrEqual: return .greaterOrEqual
        case .greater: return .less
        case .greaterOrEqual: return .lessOrEqual
        }
    }
}

/// The string-matching operators, which take only literal patterns.
public enum PatternOperator: String, Hashable, Sendable {
    /// `:`, which Elasticsearch defines as equal to `like~`.
    case insensitiveEquals = ":"
    case like = "like"
    case likeInsensitive = "like~"
    case regex = "regex"
    case regexInsensitive = "regex~"
}

public enum ArithmeticOperator: String, Hashable, Sendable {
    case add = "+"
    case subtract = "-"
    case multiply = "*"
    case divide = "/"
    case modulo = "%"
}

/// A node of the syntax tree of an EQL condition, with the position of its
/// first token, or of the first operator for `and`, `or`, comparisons and
/// arithmetic.
public struct EQLExpression: Hashable, Sendable {
    public indirect enum Kind: Hashable, Sendable {
        case literal(EQLLiteral)
        /// A dotted field name. `isOptional` is true for the `?name` form.
        case field(name: String, isOptional: Bool)
        /// A function call. `caseInsensitive` is true for the `name~(...)` form.
        case call(name: String, caseInsensitive: Bool, arguments: [EQLExpression])
        case not(EQLExpression)
        /// Two or more operands joined by `and`.
        case and([EQLExpression])
        /// Two or more operands joined by `or`.
        case or([EQLExpression])
        case comparison(EQLExpression, ComparisonOperator, EQLExpression)
        /// `value in (...)`, `value in~ (...)` and their `not in` forms.
        case membership(EQLExpression, [EQLExpression], caseInsensitive: Bool, negated: Bool)
        /// `value : pattern`, `like`, `regex` and their `~` forms. Every
        /// pattern is a `.literal`.
        case pattern(EQLExpression, PatternOperator, [EQLExpression])
        case arithmetic(EQLExpression, ArithmeticOperator, EQLExpression)
        /// Unary minus.
        case negation(EQLExpression)
    }

    public let kind: Kind
    public let position: SourcePosition
    /// The number of nodes on the longest path from this node to a leaf,
    /// which bounds the recursion depth of compiling and evaluating it.
    public let height: Int

    public init(_ kind: Kind, at position: SourcePosition) {
        self.kind = kind
        self.position = position
        self.height = 1 + (kind.children.map(\.height).max() ?? 0)
    }
}

extension EQLExpression.Kind {
    var children: [EQLExpression] {
        switch self {
        case .literal, .field:
            return []
        case .call(_, _, let arguments):
            return arguments
        case .not(let operand), .negation(let operand):
            return [operand]
        case .and(let operands), .or(let operands):
            return operands
        case .comparison(let left, _, let right), .arithmetic(let left, _, let right):
            return [left, right]
        case .membership(let value, let items, _, _), .pattern(let value, _, let items):
            return [value] + items
        }
    }
}
