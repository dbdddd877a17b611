import Foundation
import Testing
@testable import ExecwardenCore

/// One line of `Fixtures/rule-v9-vectors.jsonl`: an ECS event and whether
/// Elasticsearch raises an alert for it with the v9 unshare rule.
struct RuleVector: Sendable, CustomTestStringConvertible {
    let id: String
    let expectedAlert: Bool
    let note: String
    let event: JSONValue

    var testDescription: String { id }

    struct FixtureError: Error, CustomStringConvertible {
        let description: String
    }

    static func loadAll() throws -> [RuleVector] {
        guard let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            throw FixtureError(description: "the Fixtures resource directory is missing from the test bundle")
        }
        let text = try String(contentsOf: directory.appendingPathComponent("rule-v9-vectors.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").enumerated().map { index, line in
            try RuleVector(line: String(line), number: index + 1)
        }
    }

    init(line: String, number: Int) throws {
        guard case .object(let members) = try JSONValue.parse(Data(line.utf8)),
              case .string(let id)? = members["id"],
              case .boolean(let expectedAlert)? = members["expected_alert"],
              let event = members["event"]
        else {
            throw FixtureError(description: "line \(number) of rule-v9-vectors.jsonl lacks id, expected_alert or event")
        }
        self.id = id
        self.expectedAlert = expectedAlert
        self.event = event
        if case .string(let note)? = members["note"] {
            self.note = note
        } else {
            self.note = ""
        }
    }
}

@Suite struct RuleVectorTests {
    static let unshareRule = Result { try BuiltinRules.load()[0] }

    @Test("v9 unshare rule vector", arguments: try RuleVector.loadAll())
    func vectorGivesExpectedAlert(_ vector: RuleVector) throws {
        let rule = try Self.unshareRule.get().compile(catalog: .any)
        let verdict = rule.evaluate(try JSONFieldSource(document: vector.event))
        #expect(verdict == (vector.expectedAlert ? .match : .noMatch), "\(vector.note)")
    }

    @Test func fixtureHasBothOutcomes() throws {
        let vectors = try RuleVector.loadAll()
        #expect(vectors.count == 57)
        #expect(vectors.contains { $0.expectedAlert })
        #expect(vectors.contains { !$0.expectedAlert })
    }

    @Test func vectorsGiveSameVerdictWithSensorCatalog() throws {
        let anyCatalog = try Self.unshareRule.get().compile(catalog: .any)
        let sensorCatalog = try Self.unshareRule.get().compile(catalog: .sensor)
        for vector in try RuleVector.loadAll() {
            let source = try JSONFieldSource(document: vector.event)
            #expect(sensorCatalog.evaluate(source) == anyCatalog.evaluate(source), "\(vector.id)")
        }
    }
}

@Suite struct BuiltinRuleTests {
    static let expectedQuery = """
        process where host.os.type == "linux" and event.type == "start" and event.action : ("exec", "exec_event") and
        process.executable: "/usr/bin/unshare" and
        not process.parent.executable: ("/usr/bin/udevadm", "*/lib/systemd/systemd-udevd", "/usr/bin/unshare") and
        not process.args == "/usr/bin/snap" and not process.parent.name in ("zz-proxmox-boot", "java")
        """

    @Test func unshareRuleMetadata() throws {
        let rules = try BuiltinRules.load()
        #expect(rules.count == 2)
        let rule = try #require(rules.first)
        #expect(rule.ruleID == "d00f33e7-b57d-4023-9952-2db91b1767c4")
        #expect(rule.name == "Namespace Manipulation Using Unshare")
        #expect(rule.version == 9)
        #expect(rule.type == "eql")
        #expect(rule.language == "eql")
        #expect(rule.severity == .medium)
        #expect(rule.riskScore == 47)
        #expect(rule.maxSignals == 100)
        #expect(rule.interval == "5m")
        #expect(rule.from == "now-9m")
        #expect(rule.index == ["auditbeat-*", "logs-endpoint.events.*", "endgame-*"])
        #expect(rule.author == ["Elastic"])
        #expect(rule.license == "Elastic License v2")
        #expect(rule.description.hasPrefix("Identifies suspicious usage of unshare to manipulate system namespaces."))
        #expect(rule.description.hasSuffix("access other resources or escalate privileges."))
        #expect(rule.query == Self.expectedQuery)
    }

    @Test func unshareRuleTagsAndReferences() throws {
        let rule = try #require(try BuiltinRules.load().first)
        #expect(rule.tags == [
            "Domain: Endpoint", "OS: Linux", "Use Case: Threat Detection", "Tactic: Privilege Escalation",
            "Data Source: Elastic Endgame", "Data Source: Elastic Defend",
        ])
        #expect(rule.references == [
            "https://man7.org/linux/man-pages/man1/unshare.1.html",
            "https://www.crowdstrike.com/blog/cve-2022-0185-kubernetes-container-escape-using-linux-kernel-exploit/",
        ])
    }

    @Test func unshareRuleThreatMapping() throws {
        let rule = try #require(try BuiltinRules.load().first)
        #expect(rule.threat.count == 1)
        let mapping = try #require(rule.threat.first)
        #expect(mapping.framework == "MITRE ATT&CK")
        #expect(mapping.tactic == ThreatReference(
            id: "TA0004", name: "Privilege Escalation", reference: "https://attack.mitre.org/tactics/TA0004/"))
        #expect(mapping.techniques == [ThreatTechnique(
            id: "T1543", name: "Create or Modify System Process",
            reference: "https://attack.mitre.org/techniques/T1543/", subtechniques: [])])
    }

    @Test func unshareRuleMetadataForAlerts() throws {
        let compiled = try #require(try BuiltinRules.compiled().first)
        let metadata = compiled.metadata
        #expect(metadata.ruleID == "d00f33e7-b57d-4023-9952-2db91b1767c4")
        #expect(metadata.version == 9)
        #expect(metadata.severity == "medium")
        #expect(metadata.riskScore == 47)
        #expect(metadata.maxSignals == 100)
        #expect(metadata.threats.first?.tactic.url == "https://attack.mitre.org/tactics/TA0004/")
        #expect(metadata.threats.first?.techniques.first?.reference.id == "T1543")
    }

    @Test func unshareRuleCompilesForSensor() throws {
        let compiled = try BuiltinRules.compiled(catalog: .sensor)
        #expect(compiled.count == 2)
        let names = compiled.first?.fields.map(\.name) ?? []
        #expect(names == [
            "event.category", "host.os.type", "event.type", "event.action", "process.executable",
            "process.parent.executable", "process.args", "process.parent.name",
        ])
        #expect(compiled.first?.fields.allSatisfy { $0.execField != nil } == true)
    }
}
