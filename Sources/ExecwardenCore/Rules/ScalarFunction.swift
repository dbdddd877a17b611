/// An EQL function whose literal-only parameters are compiled in: the
/// `greedy` flag of `between`, the base of `number` and the patterns of
/// `wildcard`. The other arguments are evaluated for each field value. Any
/// null argument gives null, as in Elasticsearch. Positions and lengths count
/// characters (code points), except `length`, which counts UTF-16 code units
/// as Java does.
// NOTE: Elasticsearch indexes strings as Java UTF-16, so substring, indexOf
// and between positions differ from it for characters outside the Basic
// Multilingual Plane.
enum ScalarFunction: Sendable {
    case length
    case string
    /// `number(text, base)`. A nil base means 10, or 16 after a `0x` prefix.
    case number(base: Int?)
    case concat
    case substring
    case indexOf(caseInsensitive: Bool)
    case between(greedy: Bool, caseInsensitive: Bool)
    case startsWith(caseInsensitive: Bool)
    case endsWith(caseInsensitive: Bool)
    case stringContains(caseInsensitive: Bool)
    /// `wildcard(text, pattern...)` with the patterns compiled.
    case wildcard([WildcardPattern])

    func evaluate(_ arguments: [ValueExpression], value: Scalar?, arena: inout ScratchArena) -> Scalar {
        let first = arguments[0].evaluate(value, arena: &arena)
        switch self {
        case .length:
            return Self.mapText(first) { .integer(Int64(ByteText.utf16Length($0))) }
        case .string:
            return Self.materializeText(first, arena: &arena)
        case .number(let base):
            return NumberParser.number(from: first, base: base)
        case .concat:
            return Self.concatenate(first, arguments.dropFirst(), value: value, arena: &arena)
        case .substring:
            return substring(first, arguments, value: value, arena: &arena)
        case .indexOf(let caseInsensitive):
            return indexOf(first, arguments, value: value, caseInsensitive: caseInsensitive, arena: &arena)
        case .between(let greedy, let caseInsensitive):
            let left = arguments[1].evaluate(value, arena: &arena)
            let right = arguments[2].evaluate(value, arena: &arena)
            let source = Self.materializeText(first, arena: &arena)
            return StringSlicing.between(source, left, right, greedy: greedy, caseInsensitive: caseInsensitive)
        case .startsWith(let caseInsensitive), .endsWith(let caseInsensitive),
             .stringContains(let caseInsensitive):
            let needle = arguments[1].evaluate(value, arena: &arena)
            return Self.mapTexts(first, needle) { text, needle in
                .boolean(search(text, needle, foldingCase: caseInsensitive))
            }
        case .wildcard(let patterns):
            return Self.mapText(first) { text in .boolean(patterns.contains { $0.matches(text) }) }
        }
    }

    private func search(_ text: UnsafeRawBufferPointer, _ needle: UnsafeRawBufferPointer, foldingCase: Bool) -> Bool {
        switch self {
        case .startsWith: return ByteText.hasPrefix(text, needle, foldingCase: foldingCase)
        case .endsWith: return ByteText.hasSuffix(text, needle, foldingCase: foldingCase)
        default:
            // Elasticsearch documents stringContains(x, "") as false.
            return !needle.isEmpty && ByteText.firstOffset(of: needle, in: text, foldingCase: foldingCase) != nil
        }
    }

    private func substring(
        _ source: Scalar, _ arguments: [ValueExpression], value: Scalar?, arena: inout ScratchArena
    ) -> Scalar {
        let start = arguments[1].evaluate(value, arena: &arena)
        let end = arguments.count > 2 ? arguments[2].evaluate(value, arena: &arena) : .null
        return StringSlicing.substring(Self.materializeText(source, arena: &arena), start: start, end: end)
    }

    private func indexOf(
        _ source: Scalar, _ arguments: [ValueExpression], value: Scalar?, caseInsensitive: Bool,
        arena: inout ScratchArena
    ) -> Scalar {
        let needle = arguments[1].evaluate(value, arena: &arena)
        let start = arguments.count > 2 ? arguments[2].evaluate(value, arena: &arena) : .integer(0)
        return StringSlicing.indexOf(source, needle, start: start, caseInsensitive: caseInsensitive)
    }

    // MARK: - Helpers

    /// Applies `body` to the text form of `value`, passing null and unknown through.
    static func mapText(_ value: Scalar, _ body: (UnsafeRawBufferPointer) -> Scalar) -> Scalar {
        if case .unknown = value { return .unknown }
        return value.withText(body) ?? .null
    }

    static func mapTexts(
        _ first: Scalar, _ second: Scalar, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Scalar
    ) -> Scalar {
        mapText(first) { firstText in mapText(second) { secondText in body(firstText, secondText) } }
    }

    /// Returns the text form of `value` as bytes that outlive this call:
    /// bytes stay where they are, and numbers and booleans are rendered into
    /// the arena.
    static func materializeText(_ value: Scalar, arena: inout ScratchArena) -> Scalar {
        switch value {
        case .bytes, .null, .unknown:
            return value
        case .integer, .double, .boolean:
            return value.withText { arena.copy($0) } ?? .null
        }
    }

    /// Concatenates the text forms into one arena region. Each argument may
    /// itself use the arena above the region, so its text is moved down to the
    /// end of the region before the next argument is evaluated.
    private static func concatenate(
        _ first: Scalar, _ rest: ArraySlice<ValueExpression>, value: Scalar?, arena: inout ScratchArena
    ) -> Scalar {
        let start = arena.used
        var length = 0
        var part = first
        var remaining = rest.makeIterator()
        while true {
            if case .unknown = part { return .unknown }
            guard let fits = part.withText({ arena.write($0, at: start + length) }) else { return .null }
            guard let written = fits else { return .unknown }
            length += written
            arena.used = start + length
            guard let next = remaining.next() else { break }
            part = next.evaluate(value, arena: &arena)
        }
        return arena.bytes(from: start, count: length)
    }
}
