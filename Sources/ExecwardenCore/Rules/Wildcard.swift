/// A compiled EQL wildcard pattern, as used by `:`, `like`, `like~` and
/// `wildcard()`: `*` matches any run of characters (including `/` and the
/// empty run) and `?` exactly one character. Every other byte, backslash
/// included, matches itself, so a pattern cannot match a literal `*` or `?`.
/// Matching is anchored at both ends.
struct WildcardPattern: Hashable, Sendable {
    enum Shape: Hashable, Sendable {
        /// No wildcard: the value must equal `literal`.
        case exact
        /// `literal*`
        case prefix
        /// `*literal`
        case suffix
        /// `*literal*`
        case contains
        /// Any other pattern, matched byte by byte against `pattern`.
        case general
    }

    static let star = UInt8(ascii: "*")
    static let questionMark = UInt8(ascii: "?")

    let shape: Shape
    /// The pattern without its leading and trailing `*`, ASCII-lowercased
    /// when `caseInsensitive`. For `.general` this is the whole pattern.
    let literal: [UInt8]
    let caseInsensitive: Bool

    init(_ pattern: String, caseInsensitive: Bool) {
        self.init(bytes: Array(pattern.utf8), caseInsensitive: caseInsensitive)
    }

    init(bytes pattern: [UInt8], caseInsensitive: Bool) {
        let bytes = caseInsensitive ? ByteText.foldCase(pattern) : pattern
        self.caseInsensitive = caseInsensitive
        if bytes.contains(Self.questionMark) {
            (shape, literal) = (.general, bytes)
            return
        }
        let leading = bytes.prefix { $0 == Self.star }.count
        let trailing = bytes.reversed().prefix { $0 == Self.star }.count
        let core = leading == bytes.count ? [] : Array(bytes[leading..<(bytes.count - trailing)])
        if core.contains(Self.star) {
            (shape, literal) = (.general, bytes)
        } else if leading == bytes.count && !bytes.isEmpty {
            (shape, literal) = (.contains, [])
        } else {
            (shape, literal) = (Self.shape(leading: leading > 0, trailing: trailing > 0), core)
        }
    }

    /// Builds the pattern a `startsWith`, `endsWith` or `stringContains`
    /// needle stands for, keeping `*` and `?` in the needle literal.
    init(literal: [UInt8], shape: Shape, caseInsensitive: Bool) {
        self.shape = shape
        self.literal = caseInsensitive ? ByteText.foldCase(literal) : literal
        self.caseInsensitive = caseInsensitive
    }

    private static func shape(leading: Bool, trailing: Bool) -> Shape {
        switch (leading, trailing) {
        case (false, false): return .exact
        case (false, true): return .prefix
        case (true, false): return .suffix
        case (true, true): return .contains
        }
    }

    func matches(_ text: UnsafeRawBufferPointer) -> Bool {
        literal.withUnsafeBytes { literal in
            switch shape {
            case .exact:
                return ByteText.equal(text, literal, foldingCase: caseInsensitive)
            case .prefix:
                return ByteText.hasPrefix(text, literal, foldingCase: caseInsensitive)
            case .suffix:
                return ByteText.hasSuffix(text, literal, foldingCase: caseInsensitive)
            case .contains:
                return ByteText.firstOffset(of: literal, in: text, foldingCase: caseInsensitive) != nil
            case .general:
                return Self.matchGeneral(text, pattern: literal, foldingCase: caseInsensitive)
            }
        }
    }

    /// Returns whether some text longer than `known` and starting with it
    /// could match. Only the part of the pattern before its first `*` is
    /// checked: exact for the simple shapes, erring towards true for the
    /// general one.
    func mayMatch(extensionOf known: UnsafeRawBufferPointer) -> Bool {
        literal.withUnsafeBytes { literal in
            switch shape {
            case .exact:
                return literal.count > known.count
                    && ByteText.hasPrefix(literal, known, foldingCase: caseInsensitive)
            case .prefix:
                return known.count >= literal.count
                    ? ByteText.hasPrefix(known, literal, foldingCase: caseInsensitive)
                    : ByteText.hasPrefix(literal, known, foldingCase: caseInsensitive)
            case .suffix, .contains:
                return true
            case .general:
                return Self.leadMayMatch(known, pattern: literal, foldingCase: caseInsensitive)
            }
        }
    }

    /// Compares `known` with the pattern up to its first `*`, where `?`
    /// stands for any one character. A pattern without `*` must also be
    /// longer than `known`.
    private static func leadMayMatch(
        _ known: UnsafeRawBufferPointer, pattern: UnsafeRawBufferPointer, foldingCase: Bool
    ) -> Bool {
        let star = pattern.firstIndex(of: UInt8(ascii: "*"))
        let lead = star ?? pattern.count
        if star == nil && lead <= known.count { return false }
        for index in 0..<min(lead, known.count) {
            let expected = pattern[index]
            if expected == UInt8(ascii: "?") { continue }
            let actual = foldingCase ? ByteText.foldCase(known[index]) : known[index]
            if actual != expected { return false }
        }
        return true
    }

    /// Matches with the usual linear backtracking over the last `*`: on a
    /// mismatch the last `*` absorbs one more character and matching resumes
    /// after it. This needs no memory and runs in O(text × pattern).
    private static func matchGeneral(
        _ text: UnsafeRawBufferPointer, pattern: UnsafeRawBufferPointer, foldingCase: Bool
    ) -> Bool {
        var textOffset = 0
        var patternOffset = 0
        var starPatternOffset = -1
        var starTextOffset = 0
        while textOffset < text.count {
            if patternOffset < pattern.count {
                let symbol = pattern[patternOffset]
                if symbol == star {
                    starPatternOffset = patternOffset
                    starTextOffset = textOffset
                    patternOffset += 1
                    continue
                }
                if symbol == questionMark {
                    textOffset += ByteText.characterLength(in: text, at: textOffset)
                    patternOffset += 1
                    continue
                }
                if ByteText.bytesEqual(text[textOffset], symbol, foldingCase: foldingCase) {
                    textOffset += 1
                    patternOffset += 1
                    continue
                }
            }
            guard starPatternOffset >= 0 else { return false }
            starTextOffset += ByteText.characterLength(in: text, at: starTextOffset)
            textOffset = starTextOffset
            patternOffset = starPatternOffset + 1
        }
        while patternOffset < pattern.count && pattern[patternOffset] == star {
            patternOffset += 1
        }
        return patternOffset == pattern.count
    }
}
