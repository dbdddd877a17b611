/// EQL keywords. Elasticsearch matches them ignoring case, so `AND` and `And`
/// are the keyword `and`. The `~` forms are single tokens.
enum EQLKeyword: String, CaseIterable, Sendable {
    case and, any, by, `false`, `in`, join, like, maxspan, not, null, of, or
    case regex, sample, sequence, `true`, until, `where`, with
    case inInsensitive = "in~"
    case likeInsensitive = "like~"
    case regexInsensitive = "regex~"
}

/// EQL punctuation and operator tokens.
enum EQLSymbol: String, Sendable {
    case leftParenthesis = "("
    case rightParenthesis = ")"
    case leftBracket = "["
    case rightBracket = "]"
    case comma = ","
    case dot = "."
    case colon = ":"
    case equal = "=="
    case notEqual = "!="
    case assign = "="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    case plus = "+"
    case minus = "-"
    case asterisk = "*"
    case slash = "/"
    case percent = "%"
    case pipe = "|"
    case questionMark = "?"
}

struct EQLToken: Equatable, Sendable {
    enum Kind: Equatable, Sendable {
        /// A bare word that is not a keyword.
        case identifier(String)
        /// A field name part written in backquotes, with ``` `` ``` unescaped.
        case quotedIdentifier(String)
        /// A word directly followed by `~`, such as `startsWith~`, without the `~`.
        case tildeIdentifier(String)
        case keyword(EQLKeyword)
        case string(String)
        case integer(Int64)
        case decimal(Double)
        case symbol(EQLSymbol)
        case endOfQuery
    }

    let kind: Kind
    /// The token exactly as written in the query.
    let text: String
    let position: SourcePosition

    /// The token as an error message shows it after "found".
    var displayName: String {
        switch kind {
        case .endOfQuery:
            return "end of query"
        case .string:
            return "string \(text)"
        case .integer, .decimal:
            return "number \(text)"
        default:
            return "\"\(text)\""
        }
    }

    func isKeyword(_ keyword: EQLKeyword) -> Bool {
        kind == .keyword(keyword)
    }

    func isSymbol(_ symbol: EQLSymbol) -> Bool {
        kind == .symbol(symbol)
    }
}
