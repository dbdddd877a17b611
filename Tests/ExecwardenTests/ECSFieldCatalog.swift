import Foundation

/// The ECS field list from `Fixtures/ecs-fields.tsv`, and a check of parsed
/// JSON documents against it.
///
/// Usage: `try ECSFieldCatalog.load().violations(in: document)`, where
/// `document` comes from `JSONSerialization`. An empty result means every
/// leaf is an ECS field of a compatible JSON type, or sits under
/// `execwarden.`.
struct ECSFieldCatalog: Sendable {
    struct Field: Sendable, Equatable {
        /// The Elasticsearch type, such as `keyword` or `long`.
        var type: String
        /// True when ECS marks the field as an array (normalization `array`).
        var isArray: Bool
    }

    enum LoadError: Error, CustomStringConvertible {
        case fixtureMissing
        case malformedLine(number: Int, text: String)

        var description: String {
            switch self {
            case .fixtureMissing:
                return "Fixtures/ecs-fields.tsv not found in the test bundle; check the test target's resources"
            case .malformedLine(let number, let text):
                return "ecs-fields.tsv line \(number) has fewer than 2 tab-separated columns: \(text)"
            }
        }
    }

    /// Fields by dotted name.
    let fields: [String: Field]

    init(fields: [String: Field]) {
        self.fields = fields
    }

    /// Loads the fixture from the test bundle.
    static func load() throws -> ECSFieldCatalog {
        guard let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            throw LoadError.fixtureMissing
        }
        let text = try String(contentsOf: directory.appendingPathComponent("ecs-fields.tsv"), encoding: .utf8)
        return try ECSFieldCatalog(parsing: text)
    }

    /// Parses the TSV: columns field, type, level, normalization; lines
    /// starting with `#` and the `field` header line are skipped.
    init(parsing text: String) throws {
        var fields: [String: Field] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("field\t") {
                continue
            }
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard columns.count >= 2 else {
                throw LoadError.malformedLine(number: index + 1, text: String(line))
            }
            let normalization = columns.count >= 4 ? columns[3] : ""
            fields[String(columns[0])] = Field(type: String(columns[1]), isArray: normalization == "array")
        }
        self.fields = fields
    }

    /// Returns one message per leaf of `document` that is not an ECS field
    /// or whose JSON type does not fit the field's type. Arrays are allowed
    /// for every field, and no field is required.
    func violations(in document: [String: Any]) -> [String] {
        var found: [String] = []
        check(object: document, prefix: "", into: &found)
        return found
    }

    // MARK: Walking

    private func check(object: [String: Any], prefix: String, into found: inout [String]) {
        for key in object.keys.sorted() {
            let path = prefix.isEmpty ? key : prefix + "." + key
            check(value: object[key]!, path: path, into: &found)
        }
    }

    private func check(value: Any, path: String, into found: inout [String]) {
        if path == "execwarden" || path.hasPrefix("execwarden.") || value is NSNull {
            return
        }
        if let array = value as? [Any] {
            for element in array {
                check(value: element, path: path, into: &found)
            }
            return
        }
        let field = fields[path]
        if let field, Self.acceptsAnyContent.contains(field.type) {
            return
        }
        if let object = value as? [String: Any] {
            if let field, field.type != "object", field.type != "nested" {
                found.append("\(path): is a JSON object, but ECS types it \(field.type)")
                return
            }
            check(object: object, prefix: path, into: &found)
            return
        }
        guard let field else {
            if !isInsideOpenObject(path) {
                found.append("\(path): not an ECS field")
            }
            return
        }
        if let problem = Self.typeProblem(value, type: field.type) {
            found.append("\(path): \(problem)")
        }
    }

    /// True when an ancestor of `path` is an ECS `object` or `flattened`
    /// field, such as `labels`, whose keys ECS leaves open.
    private func isInsideOpenObject(_ path: String) -> Bool {
        var ancestor = Substring(path)
        while let dot = ancestor.lastIndex(of: ".") {
            ancestor = ancestor[..<dot]
            if let type = fields[String(ancestor)]?.type, type == "object" || type == "flattened" {
                return true
            }
        }
        return false
    }

    // MARK: Types

    private static let acceptsAnyContent: Set<String> = ["flattened", "geo_point"]
    private static let stringTypes: Set<String> = [
        "keyword", "wildcard", "match_only_text", "text", "constant_keyword", "ip", "version",
    ]
    private static let integerTypes: Set<String> = ["long", "integer", "short", "byte", "unsigned_long"]
    private static let floatTypes: Set<String> = ["float", "double", "scaled_float", "half_float"]

    /// Returns why `value` does not fit an ECS `type`, or nil when it does.
    static func typeProblem(_ value: Any, type: String) -> String? {
        let kind = JSONKind(value)
        let fits: Bool
        if stringTypes.contains(type) {
            fits = kind == .string
        } else if integerTypes.contains(type) {
            fits = kind == .integer
        } else if floatTypes.contains(type) {
            fits = kind == .integer || kind == .float
        } else if type == "boolean" {
            fits = kind == .bool
        } else if type == "object" || type == "nested" {
            fits = kind == .object
        } else if type == "date" {
            guard kind == .string, let text = value as? String else {
                return "is a JSON \(kind), but a date must be an RFC 3339 string"
            }
            return isRFC3339(text) ? nil : "\"\(text)\" is not an RFC 3339 date"
        } else {
            return "has ECS type \(type), which this check does not support"
        }
        return fits ? nil : "is a JSON \(kind), but ECS types it \(type)"
    }

    static func isRFC3339(_ text: String) -> Bool {
        text.wholeMatch(of: rfc3339Pattern) != nil
    }

    nonisolated(unsafe) private static let rfc3339Pattern = try! Regex(
        #"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)"#)
}

extension ECSFieldCatalog {
    /// The JSON type of a value from `JSONSerialization`.
    enum JSONKind: CustomStringConvertible, Equatable {
        case string, integer, float, bool, object, array, null, other

        init(_ value: Any) {
            switch value {
            case is String:
                self = .string
            case let number as NSNumber:
                // Foundation marks booleans with the C type "c" and numbers
                // parsed with a fraction or exponent with "d".
                switch String(cString: number.objCType) {
                case "c", "B": self = .bool
                case "d", "f": self = .float
                default: self = .integer
                }
            case is [String: Any]:
                self = .object
            case is [Any]:
                self = .array
            case is NSNull:
                self = .null
            default:
                self = .other
            }
        }

        var description: String {
            switch self {
            case .string: "string"
            case .integer: "integer"
            case .float: "non-integer number"
            case .bool: "boolean"
            case .object: "object"
            case .array: "array"
            case .null: "null"
            case .other: "value of unknown type"
            }
        }
    }
}
