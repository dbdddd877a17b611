/// A plain reading of the JSON writer's UTF-8 repair, written apart from
/// it to check it: a well-formed sequence (the Unicode Standard, table 3-7) passes
/// through, and each byte that does not start one becomes U+FFFD.
enum ReferenceUTF8 {
    static func repaired(_ bytes: UnsafeRawBufferPointer) -> String {
        var scalars = String.UnicodeScalarView()
        var index = 0
        while index < bytes.count {
            if let (scalar, length) = wellFormed(bytes, at: index) {
                scalars.append(scalar)
                index += length
            } else {
                scalars.append("\u{FFFD}")
                index += 1
            }
        }
        return String(scalars)
    }

    /// Decodes the well-formed sequence starting at `index`, if there is one.
    private static func wellFormed(
        _ bytes: UnsafeRawBufferPointer, at index: Int
    ) -> (Unicode.Scalar, Int)? {
        let lead = bytes[index]
        let length: Int
        // The allowed range of the second byte, which table 3-7 narrows
        // after E0, ED, F0 and F4.
        var second: ClosedRange<UInt8> = 0x80...0xBF
        var value: UInt32
        switch lead {
        case 0x00...0x7F: return (Unicode.Scalar(lead), 1)
        case 0xC2...0xDF: length = 2; value = UInt32(lead & 0x1F)
        case 0xE0: length = 3; value = 0; second = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3; value = UInt32(lead & 0x0F)
        case 0xED: length = 3; value = 0x0D; second = 0x80...0x9F
        case 0xF0: length = 4; value = 0; second = 0x90...0xBF
        case 0xF1...0xF3: length = 4; value = UInt32(lead & 0x07)
        case 0xF4: length = 4; value = 4; second = 0x80...0x8F
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        for offset in 1..<length {
            let byte = bytes[index + offset]
            let allowed = offset == 1 ? second : 0x80...0xBF
            guard allowed.contains(byte) else { return nil }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        guard let scalar = Unicode.Scalar(value) else { return nil }
        return (scalar, length)
    }
}
