/// Byte-level text operations shared by the matchers. Values are UTF-8 that
/// may be invalid, so each byte that does not start a valid UTF-8 sequence
/// counts as one character. Case folding maps only ASCII A-Z to a-z, as
/// Elasticsearch's case-insensitive term and wildcard queries do (its
/// `AutomatonQueries` folds only code points below 128).
enum ByteText {
    @inline(__always)
    static func foldCase(_ byte: UInt8) -> UInt8 {
        byte &- 0x41 < 26 ? byte | 0x20 : byte
    }

    static func foldCase(_ bytes: [UInt8]) -> [UInt8] {
        bytes.map(foldCase)
    }

    @inline(__always)
    static func bytesEqual(_ left: UInt8, _ right: UInt8, foldingCase: Bool) -> Bool {
        foldingCase ? foldCase(left) == foldCase(right) : left == right
    }

    /// Checks whether `needle` occurs in `text` starting at byte `offset`.
    static func matches(
        _ needle: UnsafeRawBufferPointer, in text: UnsafeRawBufferPointer, at offset: Int, foldingCase: Bool
    ) -> Bool {
        guard offset >= 0, offset + needle.count <= text.count else { return false }
        for i in 0..<needle.count where !bytesEqual(text[offset + i], needle[i], foldingCase: foldingCase) {
            return false
        }
        return true
    }

    static func equal(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer, foldingCase: Bool) -> Bool {
        left.count == right.count && matches(right, in: left, at: 0, foldingCase: foldingCase)
    }

    static func hasPrefix(_ text: UnsafeRawBufferPointer, _ prefix: UnsafeRawBufferPointer, foldingCase: Bool) -> Bool {
        matches(prefix, in: text, at: 0, foldingCase: foldingCase)
    }

    static func hasSuffix(_ text: UnsafeRawBufferPointer, _ suffix: UnsafeRawBufferPointer, foldingCase: Bool) -> Bool {
        matches(suffix, in: text, at: text.count - suffix.count, foldingCase: foldingCase)
    }

    /// Returns the byte offset of the first occurrence of `needle` at or after
    /// `start`, or nil.
    static func firstOffset(
        of needle: UnsafeRawBufferPointer, in text: UnsafeRawBufferPointer, from start: Int = 0, foldingCase: Bool
    ) -> Int? {
        guard start <= text.count - needle.count else { return nil }
        for offset in max(0, start)...(text.count - needle.count)
        where matches(needle, in: text, at: offset, foldingCase: foldingCase) {
            return offset
        }
        return nil
    }

    /// Returns the byte offset of the last occurrence of `needle`, or nil.
    static func lastOffset(
        of needle: UnsafeRawBufferPointer, in text: UnsafeRawBufferPointer, foldingCase: Bool
    ) -> Int? {
        guard needle.count <= text.count else { return nil }
        for offset in stride(from: text.count - needle.count, through: 0, by: -1)
        where matches(needle, in: text, at: offset, foldingCase: foldingCase) {
            return offset
        }
        return nil
    }

    /// Lexicographic byte order, the order of Elasticsearch keyword fields.
    static func compare(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Int {
        for i in 0..<min(left.count, right.count) where left[i] != right[i] {
            return left[i] < right[i] ? -1 : 1
        }
        return left.count == right.count ? 0 : (left.count < right.count ? -1 : 1)
    }
}

// MARK: - Characters

extension ByteText {
    /// Code points at or above this value stand for an invalid byte: the
    /// decoder returns `invalidByteBase + byte` for it.
    static let invalidByteBase: UInt32 = 0x11_0000

    /// Decodes the character at `offset`: its code point and its length in
    /// bytes. A byte that does not start a valid, shortest-form UTF-8 sequence
    /// is one character of length 1.
    static func decodeCharacter(in text: UnsafeRawBufferPointer, at offset: Int) -> (codePoint: UInt32, length: Int) {
        let lead = text[offset]
        if lead < 0x80 {
            return (UInt32(lead), 1)
        }
        let invalid = (invalidByteBase + UInt32(lead), 1)
        let length: Int
        let minimum: UInt32
        var value: UInt32
        switch lead {
        case 0xC2...0xDF: (length, minimum, value) = (2, 0x80, UInt32(lead & 0x1F))
        case 0xE0...0xEF: (length, minimum, value) = (3, 0x800, UInt32(lead & 0x0F))
        case 0xF0...0xF4: (length, minimum, value) = (4, 0x1_0000, UInt32(lead & 0x07))
        default: return invalid
        }
        guard offset + length <= text.count else { return invalid }
        for i in 1..<length {
            let continuation = text[offset + i]
            guard continuation & 0xC0 == 0x80 else { return invalid }
            value = value << 6 | UInt32(continuation & 0x3F)
        }
        guard value >= minimum, value <= 0x10_FFFF, !(0xD800...0xDFFF).contains(value) else {
            return invalid
        }
        return (value, length)
    }

    @inline(__always)
    static func characterLength(in text: UnsafeRawBufferPointer, at offset: Int) -> Int {
        text[offset] < 0x80 ? 1 : decodeCharacter(in: text, at: offset).length
    }

    static func characterCount(_ text: UnsafeRawBufferPointer) -> Int {
        var count = 0
        var offset = 0
        while offset < text.count {
            offset += characterLength(in: text, at: offset)
            count += 1
        }
        return count
    }

    /// Counts UTF-16 code units, the length Java's `String.length()` reports
    /// and so the one Elasticsearch's `length` function returns.
    static func utf16Length(_ text: UnsafeRawBufferPointer) -> Int {
        var count = 0
        var offset = 0
        while offset < text.count {
            let (codePoint, length) = decodeCharacter(in: text, at: offset)
            count += (0x1_0000..<invalidByteBase).contains(codePoint) ? 2 : 1
            offset += length
        }
        return count
    }

    /// Returns the byte offset of character `index`, or `text.count` when the
    /// text has `index` or fewer characters.
    static func byteOffset(ofCharacter index: Int, in text: UnsafeRawBufferPointer) -> Int {
        var offset = 0
        var remaining = index
        while remaining > 0 && offset < text.count {
            offset += characterLength(in: text, at: offset)
            remaining -= 1
        }
        return offset
    }

    /// Returns the character index of byte `offset`, which must be a
    /// character boundary.
    static func characterIndex(ofByte offset: Int, in text: UnsafeRawBufferPointer) -> Int {
        characterCount(UnsafeRawBufferPointer(rebasing: text[0..<offset]))
    }
}
