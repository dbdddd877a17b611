import Foundation
import Testing
@testable import ExecwardenCore

/// Writes `{"v":<bytes>}` and returns the text.
private func document(_ bytes: [UInt8]) -> [UInt8] {
    var writer = JSONWriter()
    writer.beginObject()
    writer.field("v", bytes: bytes)
    writer.endObject()
    return writer.bytes
}

/// Parses a document written by `document(_:)` and returns its string.
private func parsedString(_ text: [UInt8]) throws -> String? {
    let object = try JSONSerialization.jsonObject(with: Data(text)) as? [String: Any]
    return object?["v"] as? String
}

private func hasLineBreak(_ text: [UInt8]) -> Bool {
    text.contains(0x0A) || text.contains(0x0D)
}

private let replacement = "\u{FFFD}"

/// A deterministic generator, so a failing random case can be replayed.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

@Suite("JSONWriter strings")
struct JSONWriterStringTests {
    @Test("every single byte gives one parseable line", arguments: 0...255)
    func singleByte(byte: Int) throws {
        let text = document([UInt8(byte)])
        #expect(!hasLineBreak(text))
        let parsed = try parsedString(text)
        let expected = byte < 0x80 ? String(UnicodeScalar(UInt8(byte))) : replacement
        #expect(parsed == expected)
    }

    @Test("every byte in a run of three", arguments: 0...255)
    func byteRun(byte: Int) throws {
        let text = document([UInt8](repeating: UInt8(byte), count: 3))
        #expect(!hasLineBreak(text))
        let parsed = try parsedString(text)
        let single = byte < 0x80 ? String(UnicodeScalar(UInt8(byte))) : replacement
        #expect(parsed == String(repeating: single, count: 3))
    }

    @Test("all 256 bytes in one string")
    func allBytes() throws {
        let bytes = (0...255).map { UInt8($0) }
        let text = document(bytes)
        #expect(!hasLineBreak(text))
        let parsed = try #require(try parsedString(text))
        let expected = String((0..<128).map { Character(UnicodeScalar(UInt8($0))) })
            + String(repeating: replacement, count: 128)
        #expect(parsed == expected)
    }

    @Test("ill-formed UTF-8 gives one U+FFFD per byte", arguments: [
        ([0xC0, 0x80], 2),              // overlong NUL
        ([0xC1, 0xBF], 2),              // overlong U+007F
        ([0xE0, 0x80, 0xAF], 3),        // overlong "/"
        ([0xE0, 0x9F, 0xBF], 3),        // overlong U+07FF
        ([0xF0, 0x80, 0x80, 0xAF], 4),  // overlong "/"
        ([0xF0, 0x8F, 0xBF, 0xBF], 4),  // overlong U+FFFF
        ([0xED, 0xA0, 0x80], 3),        // lone high surrogate U+D800
        ([0xED, 0xBF, 0xBF], 3),        // lone low surrogate U+DFFF
        ([0xED, 0xA0, 0xBD, 0xED, 0xB2, 0xA9], 6), // surrogate pair, CESU-8
        ([0xF4, 0x90, 0x80, 0x80], 4),  // above U+10FFFF
        ([0xF5, 0x80, 0x80, 0x80], 4),
        ([0xF8, 0x88, 0x80, 0x80, 0x80], 5), // old five-byte form
        ([0x80], 1),                    // lone continuation byte
        ([0xBF, 0x80], 2),
        ([0xC2], 1),                    // lead byte at the end
        ([0xE2, 0x82], 2),              // truncated three-byte sequence
        ([0xF0, 0x9F, 0x98], 3),        // truncated four-byte sequence
        ([0xFE], 1),
        ([0xFF], 1),
    ] as [([UInt8], Int)])
    func illFormed(bytes: [UInt8], replacements: Int) throws {
        let text = document(bytes)
        #expect(!hasLineBreak(text))
        let parsed = try parsedString(text)
        #expect(parsed == String(repeating: replacement, count: replacements))
        #expect(!UTF8Validation.isValid(bytes))
    }

    @Test("ill-formed bytes between valid text")
    func illFormedInsideText() throws {
        let bytes = Array("a".utf8) + [0xE2, 0x82] + Array("b\n".utf8) + [0xFF] + Array("é".utf8)
        let text = document(bytes)
        #expect(!hasLineBreak(text))
        let parsed = try parsedString(text)
        #expect(parsed == "a\u{FFFD}\u{FFFD}b\n\u{FFFD}é")
    }

    @Test("escapes for quotes, backslashes and controls")
    func escapes() {
        let bytes = Array("q\"b\\n\nt\tr\rb\u{8}f\u{C}z\u{0}e\u{1B}d\u{7F}/".utf8)
        let text = String(decoding: document(bytes), as: UTF8.self)
        #expect(text == #"{"v":"q\"b\\n\nt\tr\rb\bf\fz\u0000e\u001bd\u007f/"}"#)
    }

    @Test("U+2028 and U+2029 are escaped")
    func lineAndParagraphSeparators() throws {
        let bytes = Array("a\u{2028}b\u{2029}c".utf8)
        let text = document(bytes)
        #expect(String(decoding: text, as: UTF8.self) == #"{"v":"a\u2028b\u2029c"}"#)
        #expect(try parsedString(text) == "a\u{2028}b\u{2029}c")
    }

    @Test("valid UTF-8 round-trips exactly", arguments: [
        "plain ascii",
        "héllo wörld",
        "日本語のテキスト",
        "emoji 👍🏽 and flag 🇩🇪",
        "\u{80}\u{7FF}\u{800}\u{D7FF}\u{E000}\u{FFFD}\u{FFFF}\u{10000}\u{10FFFF}",
        "combining e\u{301} and zero width\u{200B}joiner",
        "",
    ])
    func validRoundTrip(text: String) throws {
        let written = document(Array(text.utf8))
        let parsed = try #require(try parsedString(written))
        #expect(Array(parsed.utf8) == Array(text.utf8))
        #expect(UTF8Validation.isValid(Array(text.utf8)))
    }

    @Test("random bytes always parse, one line each")
    func randomBytes() throws {
        var generator = SplitMix64(state: 0x5EED)
        for round in 0..<2000 {
            let count = Int.random(in: 0..<48, using: &generator)
            // Favor bytes that start or continue multi-byte sequences.
            let bytes = (0..<count).map { _ in
                Bool.random(using: &generator)
                    ? UInt8.random(in: 0x80...0xFF, using: &generator)
                    : UInt8.random(in: 0...0xFF, using: &generator)
            }
            let text = document(bytes)
            #expect(!hasLineBreak(text), "round \(round): \(bytes)")
            #expect(try parsedString(text) != nil, "round \(round): \(bytes)")
        }
    }

    @Test("validation agrees with the standard library")
    func validationMatchesStandardLibrary() {
        var generator = SplitMix64(state: 0xC0FFEE)
        for round in 0..<5000 {
            let count = Int.random(in: 1..<8, using: &generator)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0x7E...0xFF, using: &generator) }
            let standard = String(validating: bytes, as: UTF8.self) != nil
            #expect(UTF8Validation.isValid(bytes) == standard, "round \(round): \(bytes)")
        }
    }

    @Test("string parts are escaped each on its own")
    func stringParts() throws {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("v")
        writer.beginString()
        writer.appendStringContent("a\"")
        writer.appendStringContent([0xE2, 0x80])
        writer.appendStringContent([0xA8])
        writer.appendStringContent(CollectionOfOne(UInt8(ascii: " ")))
        writer.endString()
        writer.endObject()
        #expect(try parsedString(writer.bytes) == "a\"\u{FFFD}\u{FFFD}\u{FFFD} ")
    }
}

@Suite("JSONWriter values")
struct JSONWriterValueTests {
    private func text(_ write: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        write(&writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test("integers at their limits")
    func integers() {
        #expect(text { $0.value(0) } == "0")
        #expect(text { $0.value(-7) } == "-7")
        #expect(text { $0.value(Int64.min) } == "-9223372036854775808")
        #expect(text { $0.value(Int64.max) } == "9223372036854775807")
        #expect(text { $0.value(UInt64.max) } == "18446744073709551615")
        #expect(text { $0.value(UInt32.max) } == "4294967295")
        #expect(text { $0.value(decimalString: UInt32(1000)) } == "\"1000\"")
    }

    @Test("doubles, with null for non-finite")
    func doubles() {
        #expect(text { $0.value(47.0) } == "47.0")
        #expect(text { $0.value(0.5) } == "0.5")
        #expect(text { $0.value(Double.nan) } == "null")
        #expect(text { $0.value(-Double.infinity) } == "null")
    }

    @Test("small and large doubles parse as JSON", arguments: [1e-7, 1e300, -2.5e-12, 123456789.125])
    func doubleSyntax(value: Double) throws {
        let written = text { writer in
            writer.beginArray()
            writer.value(value)
            writer.endArray()
        }
        let parsed = try JSONSerialization.jsonObject(with: Data(written.utf8)) as? [Double]
        #expect(parsed == [value])
    }

    @Test("booleans and null")
    func booleans() {
        #expect(text { $0.value(true) } == "true")
        #expect(text { $0.value(false) } == "false")
        #expect(text { $0.null() } == "null")
    }

    @Test("timestamps in RFC 3339", arguments: [
        (Int64(0), "1970-01-01T00:00:00.000000000Z"),
        (1_796_403_971_123_456_789, "2026-12-04T17:06:11.123456789Z"),
        (951_782_400_000_000_001, "2000-02-29T00:00:00.000000001Z"),
        (1_709_164_800_000_000_000, "2024-02-29T00:00:00.000000000Z"),
        (-1, "1969-12-31T23:59:59.999999999Z"),
        (Int64.max, "2262-04-11T23:47:16.854775807Z"),
        (Int64.min, "1677-09-21T00:12:43.145224192Z"),
    ] as [(Int64, String)])
    func timestamps(nanoseconds: Int64, expected: String) {
        #expect(text { $0.timestamp(nanosecondsSinceEpoch: nanoseconds) } == "\"\(expected)\"")
    }

    @Test("timestamps agree with ISO8601DateFormatter")
    func timestampsMatchFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        var generator = SplitMix64(state: 42)
        for _ in 0..<500 {
            // Seconds from 1900 to 2200.
            let seconds = Int64.random(in: -2_208_988_800...7_258_118_400, using: &generator)
            let written = text { $0.timestamp(nanosecondsSinceEpoch: seconds * 1_000_000_000) }
            let expected = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            #expect(written == "\"" + expected.dropLast() + ".000000000Z\"", "seconds \(seconds)")
        }
    }

    @Test("base64 test vectors from RFC 4648", arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ])
    func base64Vectors(input: String, expected: String) {
        #expect(text { $0.base64(Array(input.utf8)) } == "\"\(expected)\"")
    }

    @Test("base64 agrees with Foundation")
    func base64MatchesFoundation() {
        var generator = SplitMix64(state: 7)
        for count in 0..<64 {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(text { $0.base64(bytes) } == "\"\(Data(bytes).base64EncodedString())\"")
        }
    }

    @Test("hexadecimal words")
    func hexadecimal() {
        #expect(text { $0.hexadecimal(0x0123_4567_89AB_CDEF, 0xF) } == "\"0123456789abcdef000000000000000f\"")
    }
}

@Suite("JSONWriter structure")
struct JSONWriterStructureTests {
    @Test("nested objects and arrays get commas")
    func nesting() throws {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("a", 1)
        writer.beginObject("b")
        writer.field("c", "x")
        writer.beginArray("d")
        writer.value(1)
        writer.beginObject()
        writer.field("e", true)
        writer.endObject()
        writer.value("y")
        writer.endArray()
        writer.endObject()
        writer.field("f", byteStrings: [[], Array("g".utf8)])
        writer.endObject()
        let text = String(decoding: writer.bytes, as: UTF8.self)
        #expect(text == #"{"a":1,"b":{"c":"x","d":[1,{"e":true},"y"]},"f":["","g"]}"#)
    }

    @Test("members rendered earlier splice in")
    func appendMembers() {
        var constant = JSONWriter()
        constant.field("k", "v")
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("a", 1)
        writer.appendMembers(constant.bytes)
        writer.field("b", 2)
        writer.endObject()
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #"{"a":1,"k":"v","b":2}"#)
    }

    @Test("reset empties the buffer and comma state")
    func reset() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("long", String(repeating: "x", count: 100))
        writer.reset()
        writer.field("a", 1)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #""a":1"#)
    }

    @Test("endLine appends one line feed")
    func endLine() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.endObject()
        writer.endLine()
        #expect(writer.bytes == Array("{}\n".utf8))
    }
}
