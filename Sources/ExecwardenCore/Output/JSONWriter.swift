/// A builder of JSON text, one line at a time, into a reusable byte buffer.
///
/// The writer tracks only whether a comma is due, so the caller is
/// responsible for nesting: every `beginObject` needs an `endObject`, and a
/// value inside an object needs a `key` first. Keys are static strings
/// written as they are, so they must not need escaping.
///
/// String values are bytes of any kind. Every output is one line of valid
/// JSON: well-formed UTF-8 passes through, each byte of an ill-formed
/// sequence becomes U+FFFD, and `"`, `\`, U+0000 to U+001F, U+007F, U+2028
/// and U+2029 are escaped, so no raw line break can appear.
public struct JSONWriter {
    /// The JSON text written since the last `reset()`.
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    public init(capacity: Int = 4096) {
        bytes.reserveCapacity(capacity)
    }

    /// Empties the buffer, keeping its capacity.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = false
    }

    /// Appends the line feed that ends a JSON line.
    public mutating func endLine() {
        bytes.append(UInt8(ascii: "\n"))
        needsComma = false
    }

    // MARK: Structure

    /// Writes an object member's key and the colon after it.
    public mutating func key(_ key: StaticString) {
        writeCommaIfNeeded()
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { name in
            assert(!name.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 >= 0x7F },
                   "JSON key \(key) needs escaping")
            bytes.append(contentsOf: name)
        }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func beginObject() {
        writeCommaIfNeeded()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func beginObject(_ key: StaticString) {
        self.key(key)
        beginObject()
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func beginArray() {
        writeCommaIfNeeded()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func beginArray(_ key: StaticString) {
        self.key(key)
        beginArray()
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Appends object members that were rendered earlier, without their
    /// enclosing braces, such as a section that is the same in every line.
    /// `members` must be valid JSON members and must not be empty.
    public mutating func appendMembers(_ members: [UInt8]) {
        writeCommaIfNeeded()
        bytes.append(contentsOf: members)
        needsComma = true
    }

    // MARK: Scalar values

    /// Writes a string value from bytes of any encoding.
    public mutating func value<Bytes: Collection>(bytes value: Bytes) where Bytes.Element == UInt8 {
        beginString()
        appendStringContent(value)
        endString()
    }

    public mutating func value(_ value: String) {
        beginString()
        appendStringContent(value)
        endString()
    }

    public mutating func value<Integer: BinaryInteger>(_ value: Integer) {
        writeCommaIfNeeded()
        appendDecimal(value)
        needsComma = true
    }

    /// Writes a string value from a static string, without allocating.
    public mutating func value(constant value: StaticString) {
        beginString()
        value.withUTF8Buffer { appendEscaped($0) }
        endString()
    }

    /// Writes an integer as a string of decimal digits, the form ECS uses
    /// for numeric ids in keyword fields such as `user.id`.
    public mutating func value<Integer: BinaryInteger>(decimalString value: Integer) {
        beginString()
        appendDecimal(value)
        endString()
    }

    /// Writes a number, or `null` for an infinity or NaN, which JSON
    /// cannot represent.
    public mutating func value(_ value: Double) {
        writeCommaIfNeeded()
        if value.isFinite {
            bytes.append(contentsOf: value.description.utf8)
        } else {
            bytes.append(contentsOf: "null".utf8)
        }
        needsComma = true
    }

    public mutating func value(_ value: Bool) {
        writeCommaIfNeeded()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
        needsComma = true
    }

    public mutating func null() {
        writeCommaIfNeeded()
        bytes.append(contentsOf: "null".utf8)
        needsComma = true
    }

    // MARK: Strings built from parts

    /// Opens a string value, to be filled by `appendStringContent` calls
    /// and closed by `endString`.
    public mutating func beginString() {
        writeCommaIfNeeded()
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends escaped bytes to an open string. Each part is checked as
    /// UTF-8 on its own, so a sequence split across two parts becomes
    /// U+FFFD characters.
    public mutating func appendStringContent<Bytes: Collection>(_ content: Bytes) where Bytes.Element == UInt8 {
        let handled: Void? = content.withContiguousStorageIfAvailable { appendEscaped($0) }
        if handled == nil {
            Array(content).withUnsafeBufferPointer { appendEscaped($0) }
        }
    }

    public mutating func appendStringContent(_ content: String) {
        var content = content
        content.withUTF8 { appendEscaped($0) }
    }

    public mutating func endString() {
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    // MARK: Keyed shorthands

    public mutating func field<Bytes: Collection>(_ key: StaticString, bytes value: Bytes) where Bytes.Element == UInt8 {
        self.key(key)
        self.value(bytes: value)
    }

    public mutating func field(_ key: StaticString, _ value: String) {
        self.key(key)
        self.value(value)
    }

    public mutating func field(_ key: StaticString, constant value: StaticString) {
        self.key(key)
        self.value(constant: value)
    }

    public mutating func field<Integer: BinaryInteger>(_ key: StaticString, _ value: Integer) {
        self.key(key)
        self.value(value)
    }

    public mutating func field<Integer: BinaryInteger>(_ key: StaticString, decimalString value: Integer) {
        self.key(key)
        self.value(decimalString: value)
    }

    public mutating func field(_ key: StaticString, _ value: Double) {
        self.key(key)
        self.value(value)
    }

    public mutating func field(_ key: StaticString, _ value: Bool) {
        self.key(key)
        self.value(value)
    }

    /// Writes an array of string values from bytes of any encoding.
    public mutating func field(_ key: StaticString, byteStrings values: [[UInt8]]) {
        beginArray(key)
        for element in values {
            value(bytes: element)
        }
        endArray()
    }

    public mutating func field(_ key: StaticString, strings values: [String]) {
        beginArray(key)
        for element in values {
            value(element)
        }
        endArray()
    }

    // MARK: Internals

    mutating func writeCommaIfNeeded() {
        if needsComma {
            bytes.append(UInt8(ascii: ","))
        }
    }

    mutating func appendRaw(_ byte: UInt8) {
        bytes.append(byte)
    }

    /// Marks the value that the caller appended by hand as complete.
    mutating func didWriteValue() {
        needsComma = true
    }

    private mutating func appendDecimal<Integer: BinaryInteger>(_ value: Integer) {
        withDecimalText(magnitude: UInt64(value.magnitude), isNegative: value < 0) { digits in
            bytes.append(contentsOf: digits)
        }
    }

    private mutating func appendEscaped(_ input: UnsafeBufferPointer<UInt8>) {
        var index = 0
        while index < input.count {
            let runEnd = Self.endOfPlainRun(input, from: index)
            if runEnd > index {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: input[index..<runEnd]))
                index = runEnd
                continue
            }
            index += appendSpecial(input, at: index)
        }
    }

    /// Returns the end of the run from `start` of well-formed UTF-8 that
    /// needs no escaping.
    private static func endOfPlainRun(_ input: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        while index < input.count {
            let byte = input[index]
            if byte < 0x80 {
                guard byte >= 0x20, byte != 0x7F, byte != 0x22, byte != 0x5C else { return index }
                index += 1
                continue
            }
            let length = UTF8Validation.sequenceLength(input, at: index)
            guard length > 0, !isLineOrParagraphSeparator(input, at: index, length: length) else {
                return index
            }
            index += length
        }
        return index
    }

    /// Writes the escape or replacement for the character at `index` and
    /// returns the number of input bytes it consumed.
    private mutating func appendSpecial(_ input: UnsafeBufferPointer<UInt8>, at index: Int) -> Int {
        let byte = input[index]
        if byte < 0x80 {
            appendASCIIEscape(byte)
            return 1
        }
        let length = UTF8Validation.sequenceLength(input, at: index)
        if length == 0 {
            // U+FFFD in UTF-8.
            bytes.append(0xEF)
            bytes.append(0xBF)
            bytes.append(0xBD)
            return 1
        }
        // U+2028 is E2 80 A8 and U+2029 is E2 80 A9.
        bytes.append(contentsOf: (input[index + 2] == 0xA8 ? "\\u2028" : "\\u2029").utf8)
        return length
    }

    private static func isLineOrParagraphSeparator(_ input: UnsafeBufferPointer<UInt8>, at index: Int, length: Int) -> Bool {
        length == 3 && input[index] == 0xE2 && input[index + 1] == 0x80
            && (input[index + 2] == 0xA8 || input[index + 2] == 0xA9)
    }

    private mutating func appendASCIIEscape(_ byte: UInt8) {
        let short: UInt8? = switch byte {
        case 0x08: UInt8(ascii: "b")
        case 0x09: UInt8(ascii: "t")
        case 0x0A: UInt8(ascii: "n")
        case 0x0C: UInt8(ascii: "f")
        case 0x0D: UInt8(ascii: "r")
        case 0x22: UInt8(ascii: "\"")
        case 0x5C: UInt8(ascii: "\\")
        default: nil
        }
        bytes.append(UInt8(ascii: "\\"))
        if let short {
            bytes.append(short)
            return
        }
        bytes.append(contentsOf: "u00".utf8)
        bytes.append(Self.hexDigits[Int(byte >> 4)])
        bytes.append(Self.hexDigits[Int(byte & 0x0F)])
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}

/// UTF-8 well-formedness as Unicode defines it: shortest forms only, no
/// surrogate code points (U+D800 to U+DFFF), nothing above U+10FFFF.
public enum UTF8Validation {
    /// Returns whether every byte belongs to a well-formed sequence.
    public static func isValid<Bytes: Collection>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        if let result = bytes.withContiguousStorageIfAvailable({ isValid(buffer: $0) }) {
            return result
        }
        return Array(bytes).withUnsafeBufferPointer { isValid(buffer: $0) }
    }

    private static func isValid(buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        while index < buffer.count {
            if buffer[index] < 0x80 {
                index += 1
                continue
            }
            let length = sequenceLength(buffer, at: index)
            guard length > 0 else { return false }
            index += length
        }
        return true
    }

    /// Returns the length of the well-formed sequence starting at `index`,
    /// or 0 when the bytes there do not start one.
    static func sequenceLength(_ input: UnsafeBufferPointer<UInt8>, at index: Int) -> Int {
        let lead = input[index]
        let remaining = input.count - index
        func continuation(_ offset: Int, _ lower: UInt8 = 0x80, _ upper: UInt8 = 0xBF) -> Bool {
            offset < remaining && input[index + offset] >= lower && input[index + offset] <= upper
        }
        switch lead {
        case 0x00...0x7F:
            return 1
        case 0xC2...0xDF:
            return continuation(1) ? 2 : 0
        case 0xE0:
            return continuation(1, 0xA0) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF:
            return continuation(1) && continuation(2) ? 3 : 0
        case 0xED:
            return continuation(1, 0x80, 0x9F) && continuation(2) ? 3 : 0
        case 0xF0:
            return continuation(1, 0x90) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3:
            return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4:
            return continuation(1, 0x80, 0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default:
            return 0
        }
    }
}
