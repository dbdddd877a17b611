/// The EQL functions that locate or cut substrings, following the examples
/// in Elasticsearch's EQL function reference. Slices point into the source
/// bytes, so the source must be materialized (see
/// `ScalarFunction.materializeText`).
enum StringSlicing {
    /// `substring(source, start, end)` with Python slice rules: negative
    /// positions count from the end, positions are clamped to the text, and
    /// a start at or after the end gives "".
    static func substring(_ source: Scalar, start: Scalar, end: Scalar) -> Scalar {
        guard case .bytes(let text) = source else { return source }
        guard case .integer(let startIndex) = start else { return start.isUnknown ? .unknown : .null }
        let count = ByteText.characterCount(text)
        let lower = resolve(startIndex, count: count)
        var upper = count
        switch end {
        case .integer(let endIndex): upper = resolve(endIndex, count: count)
        case .unknown: return .unknown
        default: break
        }
        guard lower < upper else { return slice(text, 0, 0) }
        let lowerByte = ByteText.byteOffset(ofCharacter: lower, in: text)
        let upperByte = ByteText.byteOffset(ofCharacter: upper, in: text)
        return slice(text, lowerByte, upperByte)
    }

    private static func resolve(_ position: Int64, count: Int) -> Int {
        let count64 = Int64(count)
        let resolved = position < 0 ? max(0, count64 + position) : min(position, count64)
        return Int(resolved)
    }

    /// `indexOf(source, needle, start)`: the character index of the first
    /// occurrence at or after `start` (negative counts as 0), or null when
    /// there is none or `start` is beyond the end.
    static func indexOf(_ source: Scalar, _ needle: Scalar, start: Scalar, caseInsensitive: Bool) -> Scalar {
        guard case .integer(let startIndex) = start else { return start.isUnknown ? .unknown : .null }
        return ScalarFunction.mapTexts(source, needle) { text, needle in
            let startCharacter = Int(clamping: max(0, startIndex))
            guard startCharacter <= ByteText.characterCount(text) else { return .null }
            let startByte = ByteText.byteOffset(ofCharacter: startCharacter, in: text)
            guard let offset = ByteText.firstOffset(of: needle, in: text, from: startByte, foldingCase: caseInsensitive)
            else { return .null }
            return .integer(Int64(ByteText.characterIndex(ofByte: offset, in: text)))
        }
    }

    /// `between(source, left, right, greedy)`: the text after the first
    /// `left` and before the next `right` (the last `right` when greedy), or ""
    /// when either is missing.
    static func between(_ source: Scalar, _ left: Scalar, _ right: Scalar, greedy: Bool, caseInsensitive: Bool) -> Scalar {
        guard case .bytes(let text) = source else { return source }
        return ScalarFunction.mapTexts(left, right) { left, right in
            guard let leftOffset = ByteText.firstOffset(of: left, in: text, foldingCase: caseInsensitive) else {
                return slice(text, 0, 0)
            }
            let start = leftOffset + left.count
            let end = greedy
                ? ByteText.lastOffset(of: right, in: text, foldingCase: caseInsensitive)
                : ByteText.firstOffset(of: right, in: text, from: start, foldingCase: caseInsensitive)
            guard let end, end >= start else { return slice(text, 0, 0) }
            return slice(text, start, end)
        }
    }

    private static func slice(_ text: UnsafeRawBufferPointer, _ lower: Int, _ upper: Int) -> Scalar {
        .bytes(UnsafeRawBufferPointer(rebasing: text[lower..<upper]))
    }
}

extension Scalar {
    var isUnknown: Bool {
        if case .unknown = self { return true }
        return false
    }
}
