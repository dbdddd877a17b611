import Foundation

/// The EQL `number` function: parses text as an integer or a float, without
/// allocating. Surrounding whitespace is ignored, `+` and `-` are accepted,
/// and a `0x` prefix selects base 16 unless another base is given.
enum NumberParser {
    /// Maximum length in bytes of a float text. Longer texts give null.
    static let maximumFloatLength = 64

    static func number(from value: Scalar, base: Int?) -> Scalar {
        switch value {
        case .integer, .double, .null, .unknown:
            return value
        case .boolean:
            return .null
        case .bytes(let text):
            return parse(trimmed(text), base: base)
        }
    }

    static func parse(_ text: UnsafeRawBufferPointer, base: Int?) -> Scalar {
        var offset = 0
        var negative = false
        if offset < text.count && (text[offset] == UInt8(ascii: "+") || text[offset] == UInt8(ascii: "-")) {
            negative = text[offset] == UInt8(ascii: "-")
            offset += 1
        }
        var radix = base ?? 10
        if (base == nil || base == 16) && hasHexPrefix(text, at: offset) {
            radix = 16
            offset += 2
        }
        let digits = UnsafeRawBufferPointer(rebasing: text[offset...])
        if let integer = parseInteger(digits, radix: radix, negative: negative) {
            return .integer(integer)
        }
        return radix == 10 ? parseFloat(text) : .null
    }

    private static func hasHexPrefix(_ text: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        offset + 1 < text.count && text[offset] == UInt8(ascii: "0") && ByteText.foldCase(text[offset + 1]) == UInt8(ascii: "x")
    }

    private static func parseInteger(_ digits: UnsafeRawBufferPointer, radix: Int, negative: Bool) -> Int64? {
        guard !digits.isEmpty, (2...36).contains(radix) else { return nil }
        var value: Int64 = 0
        for byte in digits {
            guard let digit = digitValue(byte), digit < radix else { return nil }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: Int64(radix))
            let (sum, overflow2) = negative
                ? shifted.subtractingReportingOverflow(Int64(digit))
                : shifted.addingReportingOverflow(Int64(digit))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return value
    }

    private static func digitValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return Int(byte - UInt8(ascii: "A")) + 10
        default: return nil
        }
    }

    /// Parses `[+-]digits[.digits][e[+-]digits]` with strtod on a
    /// NUL-terminated stack copy. The character check keeps strtod from
    /// accepting forms EQL does not, such as `inf` or hexadecimal floats.
    private static func parseFloat(_ text: UnsafeRawBufferPointer) -> Scalar {
        guard !text.isEmpty, text.count <= maximumFloatLength, text.allSatisfy(isFloatCharacter) else {
            return .null
        }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: text.count + 1) { buffer in
            for (index, byte) in text.enumerated() {
                buffer[index] = CChar(bitPattern: byte)
            }
            buffer[text.count] = 0
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(buffer.baseAddress!, &end)
            guard end == buffer.baseAddress! + text.count, value.isFinite else { return .null }
            return .double(value)
        }
    }

    private static func isFloatCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"),
             UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"):
            return true
        default:
            return false
        }
    }

    private static func trimmed(_ text: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var lower = 0
        var upper = text.count
        while lower < upper && isWhitespace(text[lower]) {
            lower += 1
        }
        while upper > lower && isWhitespace(text[upper - 1]) {
            upper -= 1
        }
        return UnsafeRawBufferPointer(rebasing: text[lower..<upper])
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }
}
