extension ECSDocumentWriter {
    /// Returns the `event.severity` for a rule severity: the risk score
    /// Kibana's rule editor suggests for it (`defaultRiskScoreBySeverity`).
    static func eventSeverity(_ severity: String) -> Int? {
        switch severity {
        case "low": 21
        case "medium": 47
        case "high": 73
        case "critical": 99
        default: nil
        }
    }

    /// Writes `message`, such as "Namespace Manipulation Using Unshare:
    /// /usr/bin/unshare (pid 123) started by bash (pid 100)". The process
    /// is named by its executable path, else by the dentry name of a file
    /// without a path, else by its comm.
    mutating func writeMessage(_ event: ExecEvent, rule: RuleMetadata) {
        writer.key("message")
        writer.beginString()
        writer.appendStringContent(rule.name)
        writer.appendStringContent(": ")
        if !event.executable.isEmpty {
            writer.appendStringContent(event.executable)
        } else {
            writer.appendStringContent(event.name)
        }
        writeMessagePID(event.pid)
        writer.appendStringContent(" started by ")
        writer.appendStringContent(event.parentName)
        writeMessagePID(event.parentPID)
        writer.endString()
    }

    private mutating func writeMessagePID(_ pid: UInt32) {
        writer.appendStringContent(" (pid \(pid))")
    }

    /// Writes the alert's `event.severity` and `event.risk_score` into the
    /// open `event` object.
    mutating func writeEventRisk(_ rule: RuleMetadata) {
        if let severity = Self.eventSeverity(rule.severity) {
            writer.field("severity", severity)
        }
        writer.field("risk_score", rule.riskScore)
    }

    /// Writes the `rule` and `threat` members.
    mutating func writeRuleSections(_ rule: RuleMetadata) {
        writer.beginObject("rule")
        writer.field("id", rule.ruleID)
        writer.field("name", rule.name)
        writer.field("version", decimalString: rule.version)
        writer.field("description", rule.description)
        if !rule.author.isEmpty {
            writer.field("author", strings: rule.author)
        }
        if let license = rule.license {
            writer.field("license", license)
        }
        if let reference = rule.references.first {
            writer.field("reference", reference)
        }
        writer.endObject()
        writeThreat(rule.threats)
    }

    /// Writes the `execwarden.rule` members.
    mutating func writeExecwardenRule(_ rule: RuleMetadata, isUncertain: Bool) {
        writer.beginObject("rule")
        writer.field("severity", rule.severity)
        writer.field("verdict", constant: isUncertain ? "uncertain" : "match")
        if !rule.references.isEmpty {
            writer.field("references", strings: rule.references)
        }
        if !rule.tags.isEmpty {
            writer.field("tags", strings: rule.tags)
        }
        writer.endObject()
    }

    private mutating func writeThreat(_ threats: [RuleMetadata.Threat]) {
        guard let framework = threats.first?.framework else { return }
        let tactics = Self.distinct(threats.map(\.tactic))
        let techniques = Self.distinct(threats.flatMap { $0.techniques.map(\.reference) })
        let subtechniques = Self.distinct(threats.flatMap { $0.techniques.flatMap(\.subtechniques) })

        writer.beginObject("threat")
        writer.field("framework", framework)
        writer.beginObject("tactic")
        writeReferenceArrays(tactics)
        writer.endObject()
        if !techniques.isEmpty {
            writer.beginObject("technique")
            writeReferenceArrays(techniques)
            if !subtechniques.isEmpty {
                writer.beginObject("subtechnique")
                writeReferenceArrays(subtechniques)
                writer.endObject()
            }
            writer.endObject()
        }
        writer.endObject()
    }

    private mutating func writeReferenceArrays(_ references: [RuleMetadata.Reference]) {
        writer.field("id", strings: references.map(\.id))
        writer.field("name", strings: references.map(\.name))
        writer.field("reference", strings: references.map(\.url))
    }

    /// Returns `references` without repeated ids, in first-seen order.
    private static func distinct(_ references: [RuleMetadata.Reference]) -> [RuleMetadata.Reference] {
        var seen = Set<String>()
        return references.filter { seen.insert($0.id).inserted }
    }
}
