extension JSONWriter {
    /// Writes a UTC RFC 3339 timestamp with nine fractional digits, such as
    /// `"2026-12-04T17:06:11.123456789Z"`.
    public mutating func timestamp(nanosecondsSinceEpoch nanoseconds: Int64) {
        let (seconds, fraction) = Self.floorDivide(nanoseconds, 1_000_000_000)
        let (days, secondOfDay) = Self.floorDivide(seconds, 86_400)
        let date = CivilDate(daysSinceEpoch: days)

        writeCommaIfNeeded()
        appendRaw(UInt8(ascii: "\""))
        appendPadded(date.year, width: 4)
        appendRaw(UInt8(ascii: "-"))
        appendPadded(date.month, width: 2)
        appendRaw(UInt8(ascii: "-"))
        appendPadded(date.day, width: 2)
        appendRaw(UInt8(ascii: "T"))
        appendPadded(secondOfDay / 3600, width: 2)
        appendRaw(UInt8(ascii: ":"))
        appendPadded(secondOfDay / 60 % 60, width: 2)
        appendRaw(UInt8(ascii: ":"))
        appendPadded(secondOfDay % 60, width: 2)
        appendRaw(UInt8(ascii: "."))
        appendPadded(fraction, width: 9)
        appendRaw(UInt8(ascii: "Z"))
        appendRaw(UInt8(ascii: "\""))
        didWriteValue()
    }

    public mutating func field(_ key: StaticString, timestampNanoseconds nanoseconds: Int64) {
        self.key(key)
        timestamp(nanosecondsSinceEpoch: nanoseconds)
    }

    /// Writes bytes as a base64 string (RFC 4648 standard alphabet, with
    /// padding).
    public mutating func base64<Bytes: Collection>(_ value: Bytes) where Bytes.Element == UInt8 {
        writeCommaIfNeeded()
        appendRaw(UInt8(ascii: "\""))
        var group: UInt32 = 0
        var count = 0
        for byte in value {
            group = group << 8 | UInt32(byte)
            count += 1
            if count == 3 {
                appendBase64Group(group, significantBytes: 3)
                group = 0
                count = 0
            }
        }
        if count > 0 {
            appendBase64Group(group << (8 * UInt32(3 - count)), significantBytes: count)
        }
        appendRaw(UInt8(ascii: "\""))
        didWriteValue()
    }

    /// Writes the words as one string of lowercase hexadecimal digits, most
    /// significant first.
    public mutating func hexadecimal(_ high: UInt64, _ low: UInt64) {
        writeCommaIfNeeded()
        appendRaw(UInt8(ascii: "\""))
        appendHexadecimalDigits(high)
        appendHexadecimalDigits(low)
        appendRaw(UInt8(ascii: "\""))
        didWriteValue()
    }

    private mutating func appendHexadecimalDigits(_ word: UInt64) {
        for shift in stride(from: 60, through: 0, by: -4) {
            appendRaw(Self.hexDigits[Int(word >> UInt64(shift) & 0xF)])
        }
    }

    private mutating func appendBase64Group(_ group: UInt32, significantBytes: Int) {
        for position in 0..<4 {
            if position > significantBytes {
                appendRaw(UInt8(ascii: "="))
            } else {
                let index = Int(group >> UInt32(18 - 6 * position) & 0x3F)
                appendRaw(Self.base64Alphabet[index])
            }
        }
    }

    private mutating func appendPadded(_ value: Int64, width: Int) {
        var divisor: Int64 = 1
        for _ in 1..<width {
            divisor *= 10
        }
        var rest = value
        while divisor > 0 {
            appendRaw(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let remainder = value % divisor
        if remainder < 0 {
            return (value / divisor - 1, remainder + divisor)
        }
        return (value / divisor, remainder)
    }

    static let base64Alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
}

/// A proleptic Gregorian calendar date.
struct CivilDate: Equatable {
    var year: Int64
    var month: Int64
    var day: Int64

    /// Converts days since 1970-01-01, after `civil_from_days` in Howard
    /// Hinnant's "chrono-Compatible Low-Level Date Algorithms"
    /// (howardhinnant.github.io/date_algorithms.html).
    init(daysSinceEpoch days: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }
}
