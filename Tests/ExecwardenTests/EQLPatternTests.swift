import Testing
@testable import ExecwardenCore

private func wildcard(_ pattern: String, _ text: String, caseInsensitive: Bool = false) -> Bool {
    let compiled = WildcardPattern(pattern, caseInsensitive: caseInsensitive)
    return Array(text.utf8).withUnsafeBytes { compiled.matches($0) }
}

private func wildcard(_ pattern: String, bytes: [UInt8]) -> Bool {
    WildcardPattern(pattern, caseInsensitive: false).matches(bytes: bytes)
}

private func regex(_ pattern: String, _ text: String, caseInsensitive: Bool = false) throws -> Bool {
    let program = try RegexProgram(pattern, caseInsensitive: caseInsensitive)
    return Array(text.utf8).withUnsafeBytes { program.matches($0) }
}

private extension WildcardPattern {
    func matches(bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { matches($0) }
    }
}

@Suite struct EQLWildcardTests {
    @Test func shapesAreClassified() {
        #expect(WildcardPattern("abc", caseInsensitive: false).shape == .exact)
        #expect(WildcardPattern("abc*", caseInsensitive: false).shape == .prefix)
        #expect(WildcardPattern("**abc", caseInsensitive: false).shape == .suffix)
        #expect(WildcardPattern("*abc*", caseInsensitive: false).shape == .contains)
        #expect(WildcardPattern("*", caseInsensitive: false).shape == .contains)
        #expect(WildcardPattern("a*c", caseInsensitive: false).shape == .general)
        #expect(WildcardPattern("ab?", caseInsensitive: false).shape == .general)
        #expect(WildcardPattern("", caseInsensitive: false).shape == .exact)
    }

    @Test func caseInsensitivePatternIsStoredLowercased() {
        #expect(WildcardPattern("*/Lib/*", caseInsensitive: true).literal == Array("/lib/".utf8))
    }

    @Test func generalPatterns() {
        #expect(wildcard("a*c", "abbbc"))
        #expect(wildcard("a*c", "ac"))
        #expect(!wildcard("a*c", "abcd"))
        #expect(wildcard("*a*b*c*", "xxaxxbxxcxx"))
        #expect(!wildcard("*a*b*c*", "xxcxxbxxaxx"))
        #expect(wildcard("a*b?d", "aXXbcd"))
        #expect(wildcard("*?", "x"))
        #expect(!wildcard("*?", ""))
        #expect(wildcard("a**b", "ab"))
    }

    @Test func backtrackingAcrossRepeatedPrefix() {
        #expect(wildcard("*aab", "aaab"))
        #expect(wildcard("*/systemd-udevd", "/lib/systemd/systemd-udevd"))
        #expect(!wildcard("*/systemd-udevd", "/lib/systemd/systemd-udevd.old"))
    }

    @Test func caseFoldingIsASCIIOnly() {
        #expect(wildcard("*BIN*", "/usr/bin/x", caseInsensitive: true))
        #expect(!wildcard("*BIN*", "/usr/bin/x"))
        #expect(!wildcard("é", "É", caseInsensitive: true))
        #expect(wildcard("Straße", "STRAßE", caseInsensitive: true))
    }

    @Test func questionMarkOnMultibyteAndInvalidBytes() {
        #expect(wildcard("?", "é"))
        #expect(wildcard("?", "😀"))
        #expect(!wildcard("??", "😀"))
        #expect(wildcard("a?b", bytes: [0x61, 0xFF, 0x62]))
        #expect(wildcard("a??b", bytes: [0x61, 0xC3, 0x41, 0x62]))
        #expect(!wildcard("a?b", bytes: [0x61, 0xC3, 0x41, 0x62]))
        #expect(wildcard("*b", bytes: [0xE2, 0x82, 0x62]))
    }

    @Test func backslashIsLiteral() {
        #expect(wildcard(#"C:\Windows\*"#, #"C:\Windows\cmd.exe"#))
        #expect(!wildcard(#"x\*"#, "x*"))
        #expect(wildcard(#"x\*"#, #"x\*"#))
    }

    @Test func needlePatternsKeepWildcardCharacters() {
        let prefix = WildcardPattern(literal: Array("b*".utf8), shape: .prefix, caseInsensitive: false)
        #expect(prefix.matches(bytes: Array("b*sh".utf8)))
        #expect(!prefix.matches(bytes: Array("bash".utf8)))
    }
}

@Suite struct EQLRegexTests {
    @Test func basics() throws {
        #expect(try regex("abc", "abc"))
        #expect(try !regex("abc", "abcd"))
        #expect(try regex("a.c", "axc"))
        #expect(try regex("a.*", "a"))
        #expect(try regex("a+", "aaa"))
        #expect(try !regex("a+", ""))
        #expect(try regex("ab?c", "ac"))
        #expect(try regex("(ab)+", "ababab"))
        #expect(try !regex("(ab)+", "aba"))
        #expect(try regex("a|b|c", "b"))
        #expect(try regex("()", ""))
    }

    @Test func repetitionBounds() throws {
        #expect(try regex("a{3}", "aaa"))
        #expect(try !regex("a{3}", "aa"))
        #expect(try regex("a{2,}", "aaaaa"))
        #expect(try !regex("a{2,}", "a"))
        #expect(try regex("a{0,1}b", "b"))
        #expect(try regex("(a|bc){1,2}", "bca"))
    }

    @Test func characterClasses() throws {
        #expect(try regex("[a-c]+", "abcabc"))
        #expect(try !regex("[a-c]+", "abd"))
        #expect(try regex("[^/]+", "usr"))
        #expect(try !regex("[^/]+", "u/s"))
        #expect(try regex("[-a]", "-"))
        #expect(try regex("[a-]", "-"))
        #expect(try regex(#"\d+\.\d+"#, "3.11"))
        #expect(try regex(#"[\d_]+"#, "1_2"))
        #expect(try regex(#"\w+\s\S"#, "ab_1 x"))
        #expect(try regex(#"\D"#, "x"))
        #expect(try !regex(#"\D"#, "1"))
    }

    @Test func escapesAndQuotedLiterals() throws {
        #expect(try regex(#"a\.b"#, "a.b"))
        #expect(try !regex(#"a\.b"#, "axb"))
        #expect(try regex(##"\@\&\~\#"##, "@&~#"))
        #expect(try regex(#""a.b"c"#, "a.bc"))
        #expect(try !regex(#""a.b"c"#, "axbc"))
    }

    @Test func caseInsensitiveIsASCIIOnly() throws {
        #expect(try regex("[A-C]+x", "abcX", caseInsensitive: true))
        #expect(try !regex("[^a]", "A", caseInsensitive: true))
        #expect(try !regex("é", "É", caseInsensitive: true))
    }

    @Test func dotMatchesCodePointsAndInvalidBytes() throws {
        #expect(try regex("..", "é😀"))
        #expect(try !regex("...", "é😀"))
        let program = try RegexProgram("a.b", caseInsensitive: false)
        #expect([UInt8]([0x61, 0xFF, 0x62]).withUnsafeBytes { program.matches($0) })
        #expect(![UInt8]([0x61, 0xC3, 0x41, 0x62]).withUnsafeBytes { program.matches($0) })
    }

    @Test func nestedStarsStayLinear() throws {
        let text = String(repeating: "a", count: 5000) + "b"
        #expect(try !regex("(a*)*c", text))
        #expect(try regex("(a|aa)*b", text))
    }

    @Test func invalidPatternsAreRejected() {
        let invalid = ["(a", "a)", "[a", "[]", "*a", "a{2", "a{3,1}", "a|", "|a", "a@", "a&b", "~a", "#", "<1-5>", "\"ab", "a{1001}"]
        for pattern in invalid {
            #expect(throws: RegexSyntaxError.self, "\(pattern)") {
                _ = try RegexProgram(pattern, caseInsensitive: false)
            }
        }
    }

    @Test func stateLimitIsEnforced() {
        #expect(throws: RegexSyntaxError.self) {
            _ = try RegexProgram("(a{1000}){3}", caseInsensitive: false)
        }
    }
}

@Suite struct EQLByteTextTests {
    func decode(_ bytes: [UInt8]) -> (UInt32, Int) {
        bytes.withUnsafeBytes { ByteText.decodeCharacter(in: $0, at: 0) }
    }

    @Test func decodesValidSequences() {
        #expect(decode([0x41]) == (0x41, 1))
        #expect(decode([0xC3, 0xA9]) == (0xE9, 2))
        #expect(decode([0xE2, 0x82, 0xAC]) == (0x20AC, 3))
        #expect(decode([0xF0, 0x9F, 0x98, 0x80]) == (0x1F600, 4))
    }

    @Test func invalidBytesAreSingleCharacters() {
        let base = ByteText.invalidByteBase
        #expect(decode([0xFF]) == (base + 0xFF, 1))
        #expect(decode([0xC3]) == (base + 0xC3, 1))
        #expect(decode([0xC0, 0x80]) == (base + 0xC0, 1))
        #expect(decode([0xE0, 0x80, 0x80]) == (base + 0xE0, 1))
        #expect(decode([0xED, 0xA0, 0x80]) == (base + 0xED, 1))
        #expect(decode([0x80]) == (base + 0x80, 1))
    }

    @Test func lengthsCountCharactersAndUTF16Units() {
        let text = Array("aé😀".utf8)
        #expect(text.withUnsafeBytes { ByteText.characterCount($0) } == 3)
        #expect(text.withUnsafeBytes { ByteText.utf16Length($0) } == 4)
        #expect([UInt8]([0xFF, 0xFE]).withUnsafeBytes { ByteText.utf16Length($0) } == 2)
    }
}

@Suite struct EQLNumberParserTests {
    func parse(_ text: String, base: Int? = nil) -> Scalar {
        Array(text.utf8).withUnsafeBytes { NumberParser.parse($0, base: base) }
    }

    func integer(_ scalar: Scalar) -> Int64? {
        if case .integer(let value) = scalar { return value }
        return nil
    }

    func double(_ scalar: Scalar) -> Double? {
        if case .double(let value) = scalar { return value }
        return nil
    }

    @Test func integers() {
        #expect(integer(parse("1337")) == 1337)
        #expect(integer(parse("+1337")) == 1337)
        #expect(integer(parse("-1337")) == -1337)
        #expect(integer(parse("0xdeadbeef")) == 3_735_928_559)
        #expect(integer(parse("deadbeef", base: 16)) == 3_735_928_559)
        #expect(integer(parse("0xDEADBEEF", base: 16)) == 3_735_928_559)
        #expect(integer(parse("101", base: 2)) == 5)
        #expect(integer(parse("9223372036854775807")) == Int64.max)
        #expect(integer(parse("-9223372036854775808")) == Int64.min)
    }

    @Test func floats() {
        #expect(double(parse("42.5")) == 42.5)
        #expect(double(parse("1e3")) == 1000)
        #expect(double(parse("-.5")) == -0.5)
    }

    @Test func invalidTextIsNull() {
        for text in ["", "abc", "12abc", "inf", "nan", "0x", "1.2.3", "2", "9223372036854775808x"] {
            let base = text == "2" ? 2 : nil
            guard case .null = parse(text, base: base) else {
                Issue.record("expected null for \"\(text)\"")
                continue
            }
        }
    }
}
