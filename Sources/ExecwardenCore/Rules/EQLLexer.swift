/// Splits EQL query text into tokens, following the lexer rules of
/// Elasticsearch's EqlBase.g4 grammar. Whitespace, `//` line comments and
/// nested `/* */` comments are skipped.
struct EQLLexer {
    let scalars: [Unicode.Scalar]
    var index = 0
    var line = 1
    var column = 1

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
    }

    static func tokenize(_ text: String) throws(EQLSyntaxError) -> [EQLToken] {
        var lexer = EQLLexer(text)
        var tokens: [EQLToken] = []
        while true {
            let token = try lexer.nextToken()
            tokens.append(token)
            if token.kind == .endOfQuery {
                return tokens
            }
        }
    }

    mutating func nextToken() throws(EQLSyntaxError) -> EQLToken {
        try skipWhitespaceAndComments()
        let start = position
        let startIndex = index
        guard let scalar = peek() else {
            return EQLToken(kind: .endOfQuery, text: "", position: start)
        }
        let kind: EQLToken.Kind
        if scalar == "\"" {
            kind = .string(try lexString())
        } else if scalar == "'" {
            throw EQLSyntaxError(
                "single-quoted strings are not supported in EQL: use double quotes (\"...\")",
                at: start)
        } else if scalar == "`" {
            kind = .quotedIdentifier(try lexQuotedIdentifier())
        } else if Self.isDigit(scalar) || (scalar == "." && peek(offset: 1).map(Self.isDigit) == true) {
            kind = try lexNumber()
        } else if Self.isIdentifierStart(scalar) {
            kind = lexWord()
        } else {
            kind = .symbol(try lexSymbol())
        }
        let text = String(String.UnicodeScalarView(scalars[startIndex..<index]))
        return EQLToken(kind: kind, text: text, position: start)
    }

    // MARK: - Characters

    var position: SourcePosition {
        SourcePosition(line: line, column: column)
    }

    func peek(offset: Int = 0) -> Unicode.Scalar? {
        let target = index + offset
        return target < scalars.count ? scalars[target] : nil
    }

    mutating func advance() {
        if scalars[index] == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
        index += 1
    }

    static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        ("0"..."9").contains(scalar)
    }

    static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
    }

    static func isIdentifierStart(_ scalar: Unicode.Scalar) -> Bool {
        isLetter(scalar) || scalar == "_" || scalar == "@"
    }

    static func isIdentifierPart(_ scalar: Unicode.Scalar) -> Bool {
        isIdentifierStart(scalar) || isDigit(scalar)
    }

    // MARK: - Whitespace and comments

    mutating func skipWhitespaceAndComments() throws(EQLSyntaxError) {
        while let scalar = peek() {
            if scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\n" {
                advance()
            } else if scalar == "/" && peek(offset: 1) == "/" {
                while let next = peek(), next != "\n" {
                    advance()
                }
            } else if scalar == "/" && peek(offset: 1) == "*" {
                try skipBlockComment()
            } else {
                return
            }
        }
    }

    /// Skips a `/* */` comment. Comments nest, as in the Elasticsearch grammar.
    mutating func skipBlockComment() throws(EQLSyntaxError) {
        let start = position
        var depth = 0
        repeat {
            guard let scalar = peek() else {
                throw EQLSyntaxError("unterminated comment: expected */, found end of query", at: start)
            }
            if scalar == "/" && peek(offset: 1) == "*" {
                depth += 1
                advance()
            } else if scalar == "*" && peek(offset: 1) == "/" {
                depth -= 1
                advance()
            }
            advance()
        } while depth > 0
    }

    // MARK: - Words, numbers and symbols

    /// Lexes an identifier or keyword, including a directly following `~`.
    mutating func lexWord() -> EQLToken.Kind {
        let startIndex = index
        while let scalar = peek(), Self.isIdentifierPart(scalar) {
            advance()
        }
        let word = String(String.UnicodeScalarView(scalars[startIndex..<index]))
        if peek() == "~" {
            advance()
            if let keyword = EQLKeyword(rawValue: word.lowercased() + "~") {
                return .keyword(keyword)
            }
            return .tildeIdentifier(word)
        }
        if let keyword = EQLKeyword(rawValue: word.lowercased()) {
            return .keyword(keyword)
        }
        return .identifier(word)
    }

    /// Lexes `DIGIT+ (. DIGIT*)? EXPONENT?` or `. DIGIT+ EXPONENT?`.
    mutating func lexNumber() throws(EQLSyntaxError) -> EQLToken.Kind {
        let start = position
        let startIndex = index
        var isDecimal = false
        skipDigits()
        if peek() == "." {
            isDecimal = true
            advance()
            skipDigits()
        }
        if let marker = peek(), marker == "e" || marker == "E", hasExponentDigits() {
            isDecimal = true
            advance()
            if peek() == "+" || peek() == "-" {
                advance()
            }
            skipDigits()
        }
        let text = String(String.UnicodeScalarView(scalars[startIndex..<index]))
        if isDecimal {
            guard let value = Double(text), value.isFinite else {
                throw EQLSyntaxError("number \(text) is out of range", at: start)
            }
            return .decimal(value)
        }
        guard let value = Int64(text) else {
            throw EQLSyntaxError(
                "integer \(text) is out of range: the maximum is \(Int64.max)", at: start)
        }
        return .integer(value)
    }

    mutating func skipDigits() {
        while let scalar = peek(), Self.isDigit(scalar) {
            advance()
        }
    }

    /// Checks that an `e` after a number starts an exponent such as `e5` or `E-3`.
    func hasExponentDigits() -> Bool {
        var offset = 1
        if peek(offset: offset) == "+" || peek(offset: offset) == "-" {
            offset += 1
        }
        return peek(offset: offset).map(Self.isDigit) ?? false
    }

    mutating func lexSymbol() throws(EQLSyntaxError) -> EQLSymbol {
        let start = position
        let scalar = peek()!
        if let next = peek(offset: 1) {
            let pair = String(scalar) + String(next)
            if pair == "?\"" || pair == "?'" {
                throw EQLSyntaxError(
                    "?\"...\" raw strings are not supported in EQL: use triple double quotes (\"\"\"...\"\"\")",
                    at: start)
            }
            if let symbol = EQLSymbol(rawValue: pair) {
                advance()
                advance()
                return symbol
            }
        }
        guard let symbol = EQLSymbol(rawValue: String(scalar)) else {
            throw EQLSyntaxError("unexpected character \"\(scalar)\"", at: start)
        }
        advance()
        return symbol
    }
}
