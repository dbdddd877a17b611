/// The descriptive part of a detection rule, as Kibana rule JSON carries it,
/// rendered into each alert as ECS `rule.*` and `threat.*` fields.
public struct RuleMetadata: Sendable, Equatable {
    /// Kibana's `rule_id`, stable across versions of the rule.
    public var ruleID: String
    public var name: String
    public var version: Int
    public var description: String
    /// `low`, `medium`, `high` or `critical`.
    public var severity: String
    /// 0 to 100.
    public var riskScore: Double
    public var author: [String]
    public var license: String?
    public var references: [String]
    public var tags: [String]
    public var threats: [Threat]
    /// Kibana's `max_signals`: alerts per rule run.
    public var maxSignals: Int?

    public init(
        ruleID: String, name: String, version: Int, description: String,
        severity: String, riskScore: Double, author: [String] = [],
        license: String? = nil, references: [String] = [], tags: [String] = [],
        threats: [Threat] = [], maxSignals: Int? = nil
    ) {
        self.ruleID = ruleID
        self.name = name
        self.version = version
        self.description = description
        self.severity = severity
        self.riskScore = riskScore
        self.author = author
        self.license = license
        self.references = references
        self.tags = tags
        self.threats = threats
        self.maxSignals = maxSignals
    }

    /// One entry of a rule's `threat` array.
    public struct Threat: Sendable, Equatable {
        public var framework: String
        public var tactic: Reference
        public var techniques: [Technique]

        public init(framework: String, tactic: Reference, techniques: [Technique]) {
            self.framework = framework
            self.tactic = tactic
            self.techniques = techniques
        }
    }

    public struct Technique: Sendable, Equatable {
        public var reference: Reference
        public var subtechniques: [Reference]

        public init(reference: Reference, subtechniques: [Reference] = []) {
            self.reference = reference
            self.subtechniques = subtechniques
        }
    }

    /// A MITRE ATT&CK tactic, technique or subtechnique.
    public struct Reference: Sendable, Equatable {
        public var id: String
        public var name: String
        public var url: String

        public init(id: String, name: String, url: String) {
            self.id = id
            self.name = name
            self.url = url
        }
    }
}
