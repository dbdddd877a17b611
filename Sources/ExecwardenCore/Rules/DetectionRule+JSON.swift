extension DetectionRule {
    init(document: JSONValue) throws(RuleError) {
        guard case .object(var members) = document else {
            throw RuleError(.invalidJSON("expected a rule object at the top level, found \(document.typeName)"))
        }
        if members["rule_id"] == nil, case .object(let attributes)? = members["attributes"] {
            members = attributes
        }
        var reader = RuleJSONReader(members: members)
        ruleID = try reader.string("rule_id")
        reader.ruleID = ruleID
        name = try reader.string("name")
        reader.ruleName = name
        type = try reader.string("type")
        guard type == "eql" else { throw reader.error(.unsupportedType(type)) }
        language = try reader.string("language")
        guard language == "eql" else { throw reader.error(.unsupportedLanguage(language)) }
        query = try reader.string("query")
        description = try reader.string("description")
        severity = try reader.severity("severity")
        riskScore = try reader.integer("risk_score", in: 0...100)
        version = try reader.optionalInteger("version", in: 1...Int.max) ?? 1
        maxSignals = try reader.optionalInteger("max_signals", in: 1...Int.max)
        references = try reader.strings("references")
        author = try reader.strings("author")
        tags = try reader.strings("tags")
        index = try reader.strings("index")
        license = try reader.optionalString("license")
        interval = try reader.optionalString("interval")
        from = try reader.optionalString("from")
        threat = try reader.threat("threat")
    }
}

/// Reads typed values from a rule object, throwing errors that name the key
/// and the rule.
struct RuleJSONReader {
    let members: [String: JSONValue]
    /// The path of this object within the rule, such as `threat[0].`, which
    /// error messages put before the key.
    let path: String
    var ruleID: String?
    var ruleName: String?

    init(members: [String: JSONValue], path: String = "") {
        self.members = members
        self.path = path
    }

    func error(_ reason: RuleError.Reason) -> RuleError {
        RuleError(reason, ruleID: ruleID, ruleName: ruleName)
    }

    func string(_ key: String) throws(RuleError) -> String {
        guard let value = try optionalString(key) else { throw error(.missingKey(path + key)) }
        return value
    }

    func optionalString(_ key: String) throws(RuleError) -> String? {
        switch members[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let other?: throw error(.invalidValue(key: path + key, expected: "a string", found: other.typeName))
        }
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws(RuleError) -> Int {
        guard let value = try optionalInteger(key, in: range) else { throw error(.missingKey(path + key)) }
        return value
    }

    func optionalInteger(_ key: String, in range: ClosedRange<Int>) throws(RuleError) -> Int? {
        let expected = range.upperBound == Int.max
            ? "an integer of at least \(range.lowerBound)"
            : "an integer from \(range.lowerBound) to \(range.upperBound)"
        switch members[key] {
        case nil, .null?:
            return nil
        case .integer(let value)? where range.contains(Int(value)):
            return Int(value)
        case .integer(let value)?:
            throw error(.invalidValue(key: path + key, expected: expected, found: "\(value)"))
        case let other?:
            throw error(.invalidValue(key: path + key, expected: expected, found: other.typeName))
        }
    }

    func severity(_ key: String) throws(RuleError) -> RuleSeverity {
        let value = try string(key)
        guard let severity = RuleSeverity(rawValue: value) else {
            throw error(.invalidValue(key: path + key, expected: "low, medium, high or critical", found: "\"\(value)\""))
        }
        return severity
    }

    /// Reads an optional array of strings, giving [] for a missing key.
    func strings(_ key: String) throws(RuleError) -> [String] {
        var strings: [String] = []
        for element in try array(key) {
            guard case .string(let string) = element else {
                throw error(.invalidValue(
                    key: path + key, expected: "an array of strings", found: "an array containing \(element.typeName)"))
            }
            strings.append(string)
        }
        return strings
    }

    /// Reads an optional array, giving [] for a missing key.
    func array(_ key: String) throws(RuleError) -> [JSONValue] {
        switch members[key] {
        case nil, .null?: return []
        case .array(let elements)?: return elements
        case let other?: throw error(.invalidValue(key: path + key, expected: "an array", found: other.typeName))
        }
    }

    /// Returns a reader for the object under `key`, which must be present.
    func object(_ key: String) throws(RuleError) -> RuleJSONReader {
        guard let value = members[key] else { throw error(.missingKey(path + key)) }
        return try reader(for: value, path: path + key)
    }

    /// Returns a reader for an object found at `path`, such as an array element.
    func reader(for value: JSONValue, path: String) throws(RuleError) -> RuleJSONReader {
        guard case .object(let members) = value else {
            throw error(.invalidValue(key: path, expected: "an object", found: value.typeName))
        }
        var reader = RuleJSONReader(members: members, path: path + ".")
        reader.ruleID = ruleID
        reader.ruleName = ruleName
        return reader
    }
}
