/// A set of characters in a regex: a union of code point ranges, possibly
/// negated. Invalid UTF-8 bytes decode to code points at or above
/// `ByteText.invalidByteBase`, so only `.` and negated sets match them.
struct RegexCharacterSet: Hashable, Sendable {
    var ranges: [ClosedRange<UInt32>]
    var negated: Bool

    static let any = RegexCharacterSet(ranges: [], negated: true)
    static let digit = RegexCharacterSet(ranges: [0x30...0x39], negated: false)
    static let whitespace = RegexCharacterSet(
        ranges: [0x20...0x20, 0x09...0x0D], negated: false)
    static let word = RegexCharacterSet(
        ranges: [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A], negated: false)

    static func single(_ codePoint: UInt32) -> RegexCharacterSet {
        RegexCharacterSet(ranges: [codePoint...codePoint], negated: false)
    }

    /// Checks membership. With `caseInsensitive`, an ASCII letter also
    /// matches when its other case is in the ranges, before any negation, as
    /// Lucene's ASCII_CASE_INSENSITIVE flag does.
    func contains(_ codePoint: UInt32, caseInsensitive: Bool) -> Bool {
        var found = rangesContain(codePoint)
        if !found && caseInsensitive && isASCIILetter(codePoint) {
            found = rangesContain(codePoint ^ 0x20)
        }
        return found != negated
    }

    private func rangesContain(_ codePoint: UInt32) -> Bool {
        for range in ranges where range.contains(codePoint) {
            return true
        }
        return false
    }

    private func isASCIILetter(_ codePoint: UInt32) -> Bool {
        (0x41...0x5A).contains(codePoint) || (0x61...0x7A).contains(codePoint)
    }
}

/// The syntax tree of a Lucene regular expression.
indirect enum RegexNode: Hashable, Sendable {
    case empty
    case character(RegexCharacterSet)
    case concatenation([RegexNode])
    case alternation([RegexNode])
    case repetition(RegexNode, minimum: Int, maximum: Int?)
}

struct RegexSyntaxError: Error {
    let message: String
    /// 0-based index of the character where the error was found.
    let offset: Int
}

/// Parses the Lucene regexp syntax that Elasticsearch uses for EQL `regex`:
/// `.` `*` `+` `?` `|` `()` `[]` `[^]` `{n}` `{n,}` `{n,m}`, `"literal"`, `\`
/// escapes and the classes `\d \D \s \S \w \W`. The optional Lucene
/// operators `& ~ @ # <n-m>` are rejected instead of taken as literals,
/// because Elasticsearch enables them and would give them a meaning.
struct LuceneRegexParser {
    private let scalars: [Unicode.Scalar]
    private var index = 0
    /// Current group nesting, bounded to keep the recursive parser off the
    /// end of the stack.
    private var depth = 0

    static let maximumRepetition = 1000
    static let maximumDepth = 100

    static func parse(_ pattern: String) throws(RegexSyntaxError) -> RegexNode {
        var parser = LuceneRegexParser(scalars: Array(pattern.unicodeScalars))
        let node = try parser.parseUnion()
        if let extra = parser.peek() {
            throw parser.error("unexpected \"\(extra)\"")
        }
        return node
    }

    private init(scalars: [Unicode.Scalar]) {
        self.scalars = scalars
    }

    private func peek() -> Unicode.Scalar? {
        index < scalars.count ? scalars[index] : nil
    }

    private mutating func next() throws(RegexSyntaxError) -> Unicode.Scalar {
        guard let scalar = peek() else { throw error("unexpected end of pattern") }
        index += 1
        return scalar
    }

    private mutating func accept(_ scalar: Unicode.Scalar) -> Bool {
        guard peek() == scalar else { return false }
        index += 1
        return true
    }

    private func error(_ message: String) -> RegexSyntaxError {
        RegexSyntaxError(message: message, offset: index)
    }

    private mutating func parseUnion() throws(RegexSyntaxError) -> RegexNode {
        var branches = [try parseConcatenation()]
        while accept("|") {
            branches.append(try parseConcatenation())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func parseConcatenation() throws(RegexSyntaxError) -> RegexNode {
        var items: [RegexNode] = []
        while let scalar = peek(), scalar != "|", scalar != ")" {
            items.append(try parseRepetition())
        }
        guard !items.isEmpty else {
            throw error("expected an expression, found \(peek().map { "\"\($0)\"" } ?? "end of pattern")")
        }
        return items.count == 1 ? items[0] : .concatenation(items)
    }

    private mutating func parseRepetition() throws(RegexSyntaxError) -> RegexNode {
        var node = try parseSimple()
        while let scalar = peek() {
            switch scalar {
            case "*":
                index += 1
                node = .repetition(node, minimum: 0, maximum: nil)
            case "+":
                index += 1
                node = .repetition(node, minimum: 1, maximum: nil)
            case "?":
                index += 1
                node = .repetition(node, minimum: 0, maximum: 1)
            case "{":
                node = try parseBounds(of: node)
            default:
                return node
            }
        }
        return node
    }

    private mutating func parseBounds(of node: RegexNode) throws(RegexSyntaxError) -> RegexNode {
        index += 1
        let minimum = try parseCount()
        var maximum: Int? = minimum
        if accept(",") {
            maximum = peek() == "}" ? nil : try parseCount()
        }
        guard accept("}") else { throw error("expected } to close the repetition") }
        if let maximum, maximum < minimum {
            throw error("repetition {\(minimum),\(maximum)} has its maximum below its minimum")
        }
        return .repetition(node, minimum: minimum, maximum: maximum)
    }

    private mutating func parseCount() throws(RegexSyntaxError) -> Int {
        var digits = ""
        while let scalar = peek(), ("0"..."9").contains(scalar) {
            digits.unicodeScalars.append(scalar)
            index += 1
        }
        guard let count = Int(digits) else { throw error("expected a number in the repetition") }
        guard count <= Self.maximumRepetition else {
            throw error("repetition count \(count) is above the maximum of \(Self.maximumRepetition)")
        }
        return count
    }

    private mutating func parseSimple() throws(RegexSyntaxError) -> RegexNode {
        let scalar = try next()
        switch scalar {
        case ".":
            return .character(.any)
        case "(":
            if accept(")") { return .empty }
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maximumDepth else {
                throw error("groups are nested more than \(Self.maximumDepth) levels deep")
            }
            let inner = try parseUnion()
            guard accept(")") else { throw error("expected ) to close the group") }
            return inner
        case "[":
            return .character(try parseClass())
        case "\"":
            return try parseQuotedLiteral()
        case "\\":
            return .character(try parseEscape())
        case "*", "+", "?", "{":
            index -= 1
            throw error("\"\(scalar)\" has nothing to repeat: escape it as \\\(scalar) to match it literally")
        case "&", "~", "@", "#", "<":
            index -= 1
            throw error("the Lucene operator \"\(scalar)\" is not supported: escape it as \\\(scalar) to match it literally")
        default:
            return .character(.single(scalar.value))
        }
    }

    private mutating func parseQuotedLiteral() throws(RegexSyntaxError) -> RegexNode {
        var items: [RegexNode] = []
        while true {
            guard let scalar = peek() else { throw error("expected \" to close the quoted literal") }
            index += 1
            if scalar == "\"" { break }
            items.append(.character(.single(scalar.value)))
        }
        return items.isEmpty ? .empty : .concatenation(items)
    }

    private mutating func parseEscape() throws(RegexSyntaxError) -> RegexCharacterSet {
        let scalar = try next()
        switch scalar {
        case "d": return .digit
        case "D": return RegexCharacterSet(ranges: RegexCharacterSet.digit.ranges, negated: true)
        case "s": return .whitespace
        case "S": return RegexCharacterSet(ranges: RegexCharacterSet.whitespace.ranges, negated: true)
        case "w": return .word
        case "W": return RegexCharacterSet(ranges: RegexCharacterSet.word.ranges, negated: true)
        default: return .single(scalar.value)
        }
    }

    /// Parses a bracket class after `[`: `[abc]`, `[a-z]`, `[^...]`.
    private mutating func parseClass() throws(RegexSyntaxError) -> RegexCharacterSet {
        let negated = accept("^")
        var ranges: [ClosedRange<UInt32>] = []
        while !accept("]") {
            guard peek() != nil else { throw error("expected ] to close the character class") }
            let low = try parseClassCharacter()
            guard case .single(let lowValue) = low else {
                ranges += low.ranges
                continue
            }
            guard peek() == "-", index + 1 < scalars.count, scalars[index + 1] != "]" else {
                ranges.append(lowValue...lowValue)
                continue
            }
            index += 1
            guard case .single(let highValue) = try parseClassCharacter(), highValue >= lowValue else {
                throw error("invalid range in the character class")
            }
            ranges.append(lowValue...highValue)
        }
        guard !ranges.isEmpty else { throw error("empty character class") }
        return RegexCharacterSet(ranges: ranges, negated: negated)
    }

    private enum ClassItem {
        case single(UInt32)
        case predefined(RegexCharacterSet)

        var ranges: [ClosedRange<UInt32>] {
            if case .predefined(let set) = self, !set.negated { return set.ranges }
            return []
        }
    }

    private mutating func parseClassCharacter() throws(RegexSyntaxError) -> ClassItem {
        let scalar = try next()
        guard scalar == "\\" else { return .single(scalar.value) }
        let escaped = try parseEscape()
        if escaped.negated || escaped.ranges.count != 1 || escaped.ranges[0].count != 1 {
            guard !escaped.negated else {
                throw error("negated classes such as \\D are not supported inside [...]")
            }
            return .predefined(escaped)
        }
        return .single(escaped.ranges[0].lowerBound)
    }
}
