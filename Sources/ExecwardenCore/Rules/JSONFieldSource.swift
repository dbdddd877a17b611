import Foundation

/// A `FieldSource` over an ECS JSON document, indexed the way Elasticsearch
/// indexes one. Nested objects and dotted keys name the same field, so
/// `{"process":{"name":"x"}}` and `{"process.name":"x"}` both set
/// `process.name`, and a document that mixes them merges the values. Arrays
/// are flattened, including arrays of objects, and null or `[]` give no values.
public struct JSONFieldSource: FieldSource, Sendable {
    enum Value: Hashable, Sendable {
        case bytes([UInt8])
        case integer(Int64)
        case double(Double)
        case boolean(Bool)
    }

    private let values: [String: [Value]]

    /// The names of the fields that have at least one value, sorted.
    public var fieldNames: [String] {
        values.keys.sorted()
    }

    /// Parses a JSON object. Throws `JSONDocumentError` when the data is not
    /// JSON or its top level is not an object.
    public init(json data: Data) throws(JSONDocumentError) {
        let document: JSONValue
        do {
            document = try JSONValue.parse(data)
        } catch {
            throw JSONDocumentError(message: error.description)
        }
        try self.init(document: document)
    }

    public init(json text: String) throws(JSONDocumentError) {
        try self.init(json: Data(text.utf8))
    }

    init(document: JSONValue) throws(JSONDocumentError) {
        guard case .object = document else {
            throw JSONDocumentError(message: "expected a JSON object at the top level, found \(document.typeName)")
        }
        var values: [String: [Value]] = [:]
        Self.flatten(document, path: "", into: &values)
        self.values = values
    }

    private static func flatten(_ value: JSONValue, path: String, into values: inout [String: [Value]]) {
        switch value {
        case .null:
            return
        case .object(let members):
            for (key, member) in members {
                flatten(member, path: path.isEmpty ? key : path + "." + key, into: &values)
            }
        case .array(let elements):
            for element in elements {
                flatten(element, path: path, into: &values)
            }
        case .string(let string):
            values[path, default: []].append(.bytes(Array(string.utf8)))
        case .integer(let number):
            values[path, default: []].append(.integer(number))
        case .double(let number):
            values[path, default: []].append(.double(number))
        case .boolean(let flag):
            values[path, default: []].append(.boolean(flag))
        }
    }

    public func visitValues(of field: FieldReference, _ visit: (FieldValue) -> Bool) -> FieldVisit {
        guard let fieldValues = values[field.name] else { return .exhausted }
        for value in fieldValues where Self.visit(value, visit) {
            return .matched
        }
        return .exhausted
    }

    private static func visit(_ value: Value, _ visit: (FieldValue) -> Bool) -> Bool {
        switch value {
        case .bytes(let bytes): return bytes.withUnsafeBytes { visit(.bytes($0)) }
        case .integer(let number): return visit(.integer(number))
        case .double(let number): return visit(.double(number))
        case .boolean(let flag): return visit(.bool(flag))
        }
    }
}

/// A JSON document that cannot be used as an event.
public struct JSONDocumentError: Error, Hashable, Sendable, CustomStringConvertible {
    public let message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String {
        message
    }
}
