import Foundation

/// A parsed JSON value that keeps integers, doubles and booleans apart,
/// which `JSONSerialization` does not do portably.
// NOTE: JSONDecoder reads an integral float such as `4.0` as the integer 4,
// so its text form is "4", where Elasticsearch indexes "4.0" in a keyword field.
enum JSONValue: Hashable, Sendable, Decodable {
    case null
    case boolean(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .boolean(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    struct ParseError: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ data: Data) throws(ParseError) -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch let DecodingError.dataCorrupted(context) {
            let underlying = context.underlyingError.map { " (\($0.localizedDescription))" } ?? ""
            throw ParseError(description: "invalid JSON: \(context.debugDescription)\(underlying)")
        } catch {
            throw ParseError(description: "invalid JSON: \(error)")
        }
    }

    /// A short description of the value's type, for error messages.
    var typeName: String {
        switch self {
        case .null: return "null"
        case .boolean: return "a boolean"
        case .integer, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
