/// A rule with its compiled query, ready to evaluate on every exec.
public struct CompiledRule: Sendable {
    public let rule: DetectionRule
    public let query: CompiledQuery
    /// The rule's descriptive fields in the form alerts render, built once
    /// here so that raising an alert does not convert them again.
    public let metadata: RuleMetadata

    init(rule: DetectionRule, query: CompiledQuery) {
        self.rule = rule
        self.query = query
        self.metadata = rule.metadata
    }

    /// The fields the rule reads.
    public var fields: [FieldReference] {
        query.fields
    }

    public func evaluate<Source: FieldSource>(_ source: Source) -> Verdict {
        query.evaluate(source)
    }
}

extension DetectionRule {
    /// The rule's descriptive fields as `RuleMetadata`, the type the alert
    /// renderer takes.
    public var metadata: RuleMetadata {
        RuleMetadata(
            ruleID: ruleID, name: name, version: version, description: description,
            severity: severity.rawValue, riskScore: Double(riskScore), author: author,
            license: license, references: references, tags: tags,
            threats: threat.map(Self.metadataThreat), maxSignals: maxSignals)
    }

    private static func metadataThreat(_ mapping: ThreatMapping) -> RuleMetadata.Threat {
        RuleMetadata.Threat(
            framework: mapping.framework,
            tactic: metadataReference(mapping.tactic),
            techniques: mapping.techniques.map { technique in
                RuleMetadata.Technique(
                    reference: RuleMetadata.Reference(id: technique.id, name: technique.name, url: technique.reference),
                    subtechniques: technique.subtechniques.map(metadataReference))
            })
    }

    private static func metadataReference(_ reference: ThreatReference) -> RuleMetadata.Reference {
        RuleMetadata.Reference(id: reference.id, name: reference.name, url: reference.reference)
    }
}
