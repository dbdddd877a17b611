extension RuleJSONReader {
    /// Reads Kibana's `threat` array: each entry has a `framework`, a
    /// `tactic` and optional `technique` entries with optional `subtechnique`
    /// entries, all with `id`, `name` and `reference`.
    func threat(_ key: String) throws(RuleError) -> [ThreatMapping] {
        var mappings: [ThreatMapping] = []
        for (index, element) in try array(key).enumerated() {
            let entry = try reader(for: element, path: "\(path)\(key)[\(index)]")
            let techniques = try entry.elements("technique").map { technique throws(RuleError) in
                ThreatTechnique(
                    id: try technique.string("id"),
                    name: try technique.string("name"),
                    reference: try technique.string("reference"),
                    subtechniques: try technique.elements("subtechnique").map { sub throws(RuleError) in
                        try sub.threatReference()
                    })
            }
            mappings.append(ThreatMapping(
                framework: try entry.string("framework"),
                tactic: try entry.object("tactic").threatReference(),
                techniques: techniques))
        }
        return mappings
    }

    /// Returns readers for the objects of an optional array.
    private func elements(_ key: String) throws(RuleError) -> [RuleJSONReader] {
        var readers: [RuleJSONReader] = []
        for (index, element) in try array(key).enumerated() {
            readers.append(try reader(for: element, path: "\(path)\(key)[\(index)]"))
        }
        return readers
    }

    private func threatReference() throws(RuleError) -> ThreatReference {
        ThreatReference(id: try string("id"), name: try string("name"), reference: try string("reference"))
    }
}
