/// A detection rule that cannot be loaded, with the rule's id and name when
/// they were read before the error.
public struct RuleError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Reason: Hashable, Sendable {
        case invalidJSON(String)
        case missingKey(String)
        case invalidValue(key: String, expected: String, found: String)
        case unsupportedType(String)
        case unsupportedLanguage(String)
        /// The query does not parse or uses what the engine cannot evaluate.
        case invalidQuery(EQLSyntaxError)
    }

    public let reason: Reason
    public let ruleID: String?
    public let ruleName: String?

    public init(_ reason: Reason, ruleID: String? = nil, ruleName: String? = nil) {
        self.reason = reason
        self.ruleID = ruleID
        self.ruleName = ruleName
    }

    public var description: String {
        let message: String
        switch reason {
        case .invalidJSON(let detail):
            message = detail
        case .missingKey(let key):
            message = "missing required key \"\(key)\""
        case .invalidValue(let key, let expected, let found):
            message = "key \"\(key)\" must be \(expected), found \(found)"
        case .unsupportedType(let type):
            message = "rule type \"\(type)\" is not supported: only eql rules can be evaluated"
        case .unsupportedLanguage(let language):
            message = "query language \"\(language)\" is not supported: an eql rule must have language eql"
        case .invalidQuery(let error):
            message = "invalid query at \(error)"
        }
        return ruleLabel.map { "\($0): \(message)" } ?? message
    }

    private var ruleLabel: String? {
        switch (ruleName, ruleID) {
        case let (name?, id?): return "rule \"\(name)\" (\(id))"
        case let (name?, nil): return "rule \"\(name)\""
        case let (nil, id?): return "rule \(id)"
        case (nil, nil): return nil
        }
    }
}
