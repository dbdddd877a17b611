import Foundation

public enum RuleSeverity: String, Hashable, Sendable {
    case low, medium, high, critical
}

/// A MITRE ATT&CK tactic, technique or subtechnique a rule maps to.
public struct ThreatReference: Hashable, Sendable {
    public let id: String
    public let name: String
    public let reference: String
}

public struct ThreatTechnique: Hashable, Sendable {
    public let id: String
    public let name: String
    public let reference: String
    public let subtechniques: [ThreatReference]
}

/// One entry of a rule's `threat` array.
public struct ThreatMapping: Hashable, Sendable {
    public let framework: String
    public let tactic: ThreatReference
    public let techniques: [ThreatTechnique]
}

/// An EQL detection rule in Kibana's rule JSON format, as Kibana exports it
/// and as Elastic's prebuilt rules package ships it. Keys the sensor does not
/// use (actions, exceptions, timeline ids, ...) are ignored.
public struct DetectionRule: Hashable, Sendable {
    public let ruleID: String
    public let name: String
    /// The rule revision, or 1 when the JSON has no `version`.
    public let version: Int
    public let description: String
    public let severity: RuleSeverity
    /// Kibana's risk score, from 0 to 100.
    public let riskScore: Int
    /// Always `eql`: other rule types are rejected.
    public let type: String
    /// Always `eql`.
    public let language: String
    public let query: String
    public let threat: [ThreatMapping]
    public let references: [String]
    public let author: [String]
    public let license: String?
    public let tags: [String]
    public let maxSignals: Int?
    /// The index patterns the rule searches in Elasticsearch.
    public let index: [String]
    /// How often Kibana runs the rule, such as `5m`.
    public let interval: String?
    /// The start of the window Kibana searches, such as `now-9m`.
    public let from: String?

    /// Parses one rule. The rule may be wrapped in a saved object, as in the
    /// prebuilt rules package, whose rule is under `attributes`.
    public init(json data: Data) throws(RuleError) {
        let document: JSONValue
        do {
            document = try JSONValue.parse(data)
        } catch {
            throw RuleError(.invalidJSON(error.description))
        }
        try self.init(document: document)
    }

    public init(json text: String) throws(RuleError) {
        try self.init(json: Data(text.utf8))
    }

    /// Parses a Kibana rule export: one rule per line, skipping blank lines
    /// and the summary line that carries `exported_count`.
    public static func rules(ndjson text: String) throws(RuleError) -> [DetectionRule] {
        var rules: [DetectionRule] = []
        for line in text.split(whereSeparator: \.isNewline) where !line.allSatisfy(\.isWhitespace) {
            let document: JSONValue
            do {
                document = try JSONValue.parse(Data(line.utf8))
            } catch {
                throw RuleError(.invalidJSON(error.description))
            }
            if case .object(let members) = document, members["exported_count"] != nil, members["rule_id"] == nil {
                continue
            }
            rules.append(try DetectionRule(document: document))
        }
        return rules
    }

    /// Compiles the query. A query that does not parse, or that uses
    /// sequences, pipes, unknown functions or fields outside `catalog`, is
    /// rejected with an error that names the rule.
    public func compile(catalog: FieldCatalog = .sensor) throws(RuleError) -> CompiledRule {
        do {
            return CompiledRule(rule: self, query: try CompiledQuery(query, catalog: catalog))
        } catch {
            throw RuleError(.invalidQuery(error), ruleID: ruleID, ruleName: name)
        }
    }
}
