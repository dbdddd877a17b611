/// The operating system fields of `os-release(5)`, as rendered into ECS
/// `host.os.*`.
public struct OSRelease: Sendable, Equatable {
    /// `NAME`, such as "Debian GNU/Linux".
    public var name: String?
    /// `VERSION_ID`, such as "12".
    public var version: String?
    /// `PRETTY_NAME`, rendered as `host.os.full`.
    public var prettyName: String?
    /// `ID`, such as "debian", rendered as `host.os.platform`.
    public var id: String?
    /// The first word of `ID_LIKE`, or `ID` when that is empty, rendered as
    /// `host.os.family`: "debian" for Ubuntu, "rhel" for Rocky Linux.
    public var family: String?

    public init(name: String? = nil, version: String? = nil, prettyName: String? = nil,
                id: String? = nil, family: String? = nil) {
        self.name = name
        self.version = version
        self.prettyName = prettyName
        self.id = id
        self.family = family
    }

    /// Parses os-release text: `KEY=value` lines, where the value may be
    /// in single or double quotes and a backslash escapes the next
    /// character inside double quotes.
    public init(parsing text: String) {
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let (key, value) = Self.parseAssignment(line) else { continue }
            values[key] = value
        }
        self.init(
            name: values["NAME"].flatMap(Self.nonEmpty),
            version: values["VERSION_ID"].flatMap(Self.nonEmpty),
            prettyName: values["PRETTY_NAME"].flatMap(Self.nonEmpty),
            id: values["ID"].flatMap(Self.nonEmpty),
            family: Self.family(like: values["ID_LIKE"], id: values["ID"]))
    }

    private static func parseAssignment(_ line: Substring) -> (String, String)? {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        guard !trimmed.hasPrefix("#"), let equals = trimmed.firstIndex(of: "=") else {
            return nil
        }
        let key = String(trimmed[..<equals])
        return (key, unquote(trimmed[trimmed.index(after: equals)...]))
    }

    private static func unquote(_ raw: Substring) -> String {
        let value = raw.trimmingSuffix { $0 == " " || $0 == "\t" }
        guard let quote = value.first, quote == "\"" || quote == "'" else {
            return String(value)
        }
        var result = ""
        var escaped = false
        for character in value.dropFirst() {
            if escaped {
                result.append(character)
                escaped = false
            } else if quote == "\"" && character == "\\" {
                escaped = true
            } else if character == quote {
                break
            } else {
                result.append(character)
            }
        }
        return result
    }

    private static func family(like: String?, id: String?) -> String? {
        if let first = like?.split(separator: " ").first {
            return String(first)
        }
        return id.flatMap(nonEmpty)
    }

    private static func nonEmpty(_ value: String) -> String? {
        value.isEmpty ? nil : value
    }
}

extension Substring {
    fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> Substring {
        var end = endIndex
        while end > startIndex, predicate(self[index(before: end)]) {
            end = index(before: end)
        }
        return self[startIndex..<end]
    }
}
