extension EQLLexer {
    /// Lexes a double-quoted string with escapes, or a triple-quoted raw string.
    /// Neither form may contain a raw line break.
    mutating func lexString() throws(EQLSyntaxError) -> String {
        if peek(offset: 1) == "\"" && peek(offset: 2) == "\"" {
            return try lexRawString()
        }
        let start = position
        advance()
        var value = String.UnicodeScalarView()
        while true {
            guard let scalar = peek(), scalar != "\n", scalar != "\r" else {
                throw EQLSyntaxError(
                    "unterminated string: expected a closing \", found \(peek() == nil ? "end of query" : "a line break")",
                    at: start)
            }
            advance()
            if scalar == "\"" {
                return String(value)
            }
            if scalar == "\\" {
                value.append(try lexEscape())
            } else {
                value.append(scalar)
            }
        }
    }

    /// Lexes `"""raw"""`. As in Elasticsearch, up to two quotes directly after
    /// the closing `"""` belong to the content, so `"""say "hi""""` is `say "hi"`.
    mutating func lexRawString() throws(EQLSyntaxError) -> String {
        let start = position
        advance()
        advance()
        advance()
        var value = String.UnicodeScalarView()
        while !(peek() == "\"" && peek(offset: 1) == "\"" && peek(offset: 2) == "\"") {
            guard let scalar = peek(), scalar != "\n", scalar != "\r" else {
                throw EQLSyntaxError(
                    "unterminated raw string: expected a closing \"\"\", found \(peek() == nil ? "end of query" : "a line break")",
                    at: start)
            }
            value.append(scalar)
            advance()
        }
        advance()
        advance()
        advance()
        for _ in 0..<2 where peek() == "\"" {
            value.append("\"")
            advance()
        }
        return String(value)
    }

    /// Lexes the escape after a backslash: `\b \t \n \f \r \" \' \\` or `\u{hex}`.
    mutating func lexEscape() throws(EQLSyntaxError) -> Unicode.Scalar {
        let start = SourcePosition(line: line, column: column - 1)
        guard let scalar = peek() else {
            throw EQLSyntaxError("unterminated string: expected an escape after \\, found end of query", at: start)
        }
        advance()
        switch scalar {
        case "b": return "\u{08}"
        case "t": return "\t"
        case "n": return "\n"
        case "f": return "\u{0C}"
        case "r": return "\r"
        case "\"", "'", "\\": return scalar
        case "u": return try lexUnicodeEscape(start: start)
        default:
            throw EQLSyntaxError(
                "invalid escape \\\(scalar): expected one of \\b \\t \\n \\f \\r \\\" \\' \\\\ or \\u{hex}",
                at: start)
        }
    }

    /// Lexes the `{hex}` of `\u{hex}`, which takes 2 to 8 hexadecimal digits.
    mutating func lexUnicodeEscape(start: SourcePosition) throws(EQLSyntaxError) -> Unicode.Scalar {
        guard peek() == "{" else {
            throw EQLSyntaxError("invalid Unicode escape: expected { after \\u", at: start)
        }
        advance()
        var digits = ""
        while let scalar = peek(), scalar != "}", scalar != "\"", scalar != "\n" {
            digits.unicodeScalars.append(scalar)
            advance()
        }
        guard peek() == "}" else {
            throw EQLSyntaxError("invalid Unicode escape: expected } after \\u{\(digits)", at: start)
        }
        advance()
        guard (2...8).contains(digits.count),
              let value = UInt32(digits, radix: 16),
              let scalar = Unicode.Scalar(value)
        else {
            throw EQLSyntaxError(
                "invalid Unicode escape \\u{\(digits)}: expected 2 to 8 hexadecimal digits naming a Unicode scalar value",
                at: start)
        }
        return scalar
    }

    /// Lexes a backquoted field name part, in which ``` `` ``` is one backquote.
    mutating func lexQuotedIdentifier() throws(EQLSyntaxError) -> String {
        let start = position
        advance()
        var value = String.UnicodeScalarView()
        while true {
            guard let scalar = peek() else {
                throw EQLSyntaxError("unterminated quoted field name: expected a closing `, found end of query", at: start)
            }
            advance()
            if scalar == "`" {
                guard peek() == "`" else {
                    return String(value)
                }
                advance()
            }
            value.append(scalar)
        }
    }
}
