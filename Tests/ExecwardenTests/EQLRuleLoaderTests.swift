import Foundation
import Testing
import ExecwardenCore

/// Builds Kibana rule JSON from the minimal valid rule, with keys replaced
/// or removed.
private func ruleJSON(replacing replacements: [String: String] = [:], removing removed: Set<String> = []) -> String {
    var members: [String: String] = [
        "rule_id": #""0001""#,
        "name": #""Test rule""#,
        "description": #""A rule for tests.""#,
        "severity": #""low""#,
        "risk_score": "21",
        "type": #""eql""#,
        "language": #""eql""#,
        "query": #""process where process.name == \"bash\"""#,
    ]
    for (key, value) in replacements {
        members[key] = value
    }
    for key in removed {
        members[key] = nil
    }
    let body = members.keys.sorted().map { "\"\($0)\": \(members[$0]!)" }.joined(separator: ", ")
    return "{\(body)}"
}

private func loadError(_ json: String) -> RuleError? {
    do {
        _ = try DetectionRule(json: json)
        return nil
    } catch {
        return error
    }
}

@Suite struct EQLRuleLoaderTests {
    @Test func minimalRuleLoadsWithDefaults() throws {
        let rule = try DetectionRule(json: ruleJSON())
        #expect(rule.ruleID == "0001")
        #expect(rule.version == 1)
        #expect(rule.severity == .low)
        #expect(rule.riskScore == 21)
        #expect(rule.threat.isEmpty)
        #expect(rule.tags.isEmpty)
        #expect(rule.license == nil)
        #expect(rule.maxSignals == nil)
    }

    @Test("missing required key", arguments: ["rule_id", "name", "description", "severity", "risk_score", "type", "language", "query"])
    func missingKeyIsNamed(_ key: String) throws {
        let error = try #require(loadError(ruleJSON(removing: [key])))
        #expect(error.reason == .missingKey(key))
        #expect(error.description.contains("missing required key \"\(key)\""))
    }

    @Test func errorNamesRuleWhenKnown() throws {
        let error = try #require(loadError(ruleJSON(removing: ["query"])))
        #expect(error.ruleID == "0001")
        #expect(error.ruleName == "Test rule")
        #expect(error.description == #"rule "Test rule" (0001): missing required key "query""#)
    }

    @Test func otherRuleTypesAreRejected() throws {
        let error = try #require(loadError(ruleJSON(replacing: ["type": #""query""#, "language": #""kuery""#])))
        #expect(error.reason == .unsupportedType("query"))
    }

    @Test func otherLanguagesAreRejected() throws {
        let error = try #require(loadError(ruleJSON(replacing: ["language": #""kuery""#])))
        #expect(error.reason == .unsupportedLanguage("kuery"))
    }

    @Test func wrongValueTypesAreNamed() throws {
        let riskAsString = try #require(loadError(ruleJSON(replacing: ["risk_score": #""47""#])))
        #expect(riskAsString.reason == .invalidValue(key: "risk_score", expected: "an integer from 0 to 100", found: "a string"))
        let riskTooHigh = try #require(loadError(ruleJSON(replacing: ["risk_score": "101"])))
        #expect(riskTooHigh.reason == .invalidValue(key: "risk_score", expected: "an integer from 0 to 100", found: "101"))
        let badSeverity = try #require(loadError(ruleJSON(replacing: ["severity": #""severe""#])))
        #expect(badSeverity.reason == .invalidValue(key: "severity", expected: "low, medium, high or critical", found: #""severe""#))
        let badTags = try #require(loadError(ruleJSON(replacing: ["tags": "[1]"])))
        #expect(badTags.reason == .invalidValue(key: "tags", expected: "an array of strings", found: "an array containing a number"))
    }

    @Test func threatEntriesNeedTactic() throws {
        let threat = #"[{"framework": "MITRE ATT&CK", "technique": []}]"#
        let error = try #require(loadError(ruleJSON(replacing: ["threat": threat])))
        #expect(error.reason == .missingKey("threat[0].tactic"))
    }

    @Test func threatSubtechniquesLoad() throws {
        let threat = #"""
            [{"framework": "MITRE ATT&CK",
              "tactic": {"id": "TA0004", "name": "Privilege Escalation", "reference": "https://attack.mitre.org/tactics/TA0004/"},
              "technique": [{"id": "T1611", "name": "Escape to Host", "reference": "https://attack.mitre.org/techniques/T1611/",
                             "subtechnique": [{"id": "T1611.001", "name": "Sub", "reference": "https://example.invalid/"}]}]}]
            """#
        let rule = try DetectionRule(json: ruleJSON(replacing: ["threat": threat]))
        let technique = try #require(rule.threat.first?.techniques.first)
        #expect(technique.id == "T1611")
        #expect(technique.subtechniques.map(\.id) == ["T1611.001"])
    }

    @Test func subtechniqueErrorsNameThePath() throws {
        let threat = #"""
            [{"framework": "MITRE ATT&CK",
              "tactic": {"id": "TA0004", "name": "Privilege Escalation", "reference": "r"},
              "technique": [{"id": "T1611", "name": "Escape to Host", "reference": "r", "subtechnique": [{"id": "x", "name": "y"}]}]}]
            """#
        let error = try #require(loadError(ruleJSON(replacing: ["threat": threat])))
        #expect(error.reason == .missingKey("threat[0].technique[0].subtechnique[0].reference"))
    }

    @Test func invalidJSONIsReported() throws {
        let error = try #require(loadError("{\"rule_id\": "))
        guard case .invalidJSON(let message) = error.reason else {
            Issue.record("expected invalidJSON, found \(error.reason)")
            return
        }
        #expect(message.hasPrefix("invalid JSON"))
        let array = try #require(loadError("[]"))
        #expect(array.reason == .invalidJSON("expected a rule object at the top level, found an array"))
    }

    @Test func savedObjectWrapperIsUnwrapped() throws {
        let wrapped = #"{"id": "x", "type": "security-rule", "attributes": "# + ruleJSON() + "}"
        let rule = try DetectionRule(json: wrapped)
        #expect(rule.ruleID == "0001")
    }

    @Test func kibanaExportSkipsSummaryLine() throws {
        let export = ruleJSON() + "\n\n" + ruleJSON(replacing: ["rule_id": #""0002""#]) + "\n"
            + #"{"exported_count": 2, "missing_rules": [], "missing_rules_count": 0}"# + "\n"
        let rules = try DetectionRule.rules(ndjson: export)
        #expect(rules.map(\.ruleID) == ["0001", "0002"])
    }

    @Test func sequenceRuleIsRejectedNamingRule() throws {
        let sequence = #""sequence by process.entity_id [process where true] [process where true]""#
        let rule = try DetectionRule(json: ruleJSON(replacing: ["query": sequence]))
        #expect(throws: RuleError.self) { _ = try rule.compile() }
        do {
            _ = try rule.compile()
        } catch {
            guard case .invalidQuery(let syntaxError) = error.reason else {
                Issue.record("expected invalidQuery, found \(error.reason)")
                return
            }
            #expect(syntaxError.position == SourcePosition(line: 1, column: 1))
            #expect(error.description.hasPrefix(#"rule "Test rule" (0001): invalid query at line 1, column 1: sequence queries are not supported"#))
        }
    }

    @Test func pipeRuleIsRejectedNamingRule() throws {
        let piped = #""process where true | head 1""#
        let rule = try DetectionRule(json: ruleJSON(replacing: ["query": piped]))
        do {
            _ = try rule.compile()
            Issue.record("a query with a pipe compiled")
        } catch {
            #expect(error.ruleName == "Test rule")
            #expect(error.description.contains("pipes are not supported"))
        }
    }
}

@Suite struct EQLJSONFieldSourceTests {
    func values(_ source: JSONFieldSource, _ name: String) -> [String] {
        var texts: [String] = []
        _ = source.visitValues(of: FieldReference(name: name)) { value in
            switch value {
            case .bytes(let bytes): texts.append(String(decoding: bytes, as: UTF8.self))
            case .prefix(let bytes): texts.append("prefix \(String(decoding: bytes, as: UTF8.self))")
            case .integer(let number): texts.append("int \(number)")
            case .double(let number): texts.append("double \(number)")
            case .bool(let flag): texts.append("bool \(flag)")
            }
            return false
        }
        return texts
    }

    @Test func flattensNestedDottedAndArrays() throws {
        let source = try JSONFieldSource(json: #"""
            {"process": {"name": "a", "parent": [{"pid": 1}, {"pid": 2.5}], "args": [null, "x", []]},
             "process.name": "b", "host": {"os.type": "linux"}, "flag": true, "empty": {}}
            """#)
        #expect(values(source, "process.name").sorted() == ["a", "b"])
        #expect(values(source, "process.parent.pid") == ["int 1", "double 2.5"])
        #expect(values(source, "process.args") == ["x"])
        #expect(values(source, "host.os.type") == ["linux"])
        #expect(values(source, "flag") == ["bool true"])
        #expect(values(source, "empty").isEmpty)
        #expect(source.fieldNames == ["flag", "host.os.type", "process.args", "process.name", "process.parent.pid"])
    }

    @Test func visitStopsAtFirstMatch() throws {
        let source = try JSONFieldSource(json: #"{"a": ["x", "y", "z"]}"#)
        var visited = 0
        let result = source.visitValues(of: FieldReference(name: "a")) { _ in
            visited += 1
            return visited == 2
        }
        #expect(result == .matched)
        #expect(visited == 2)
        #expect(source.visitValues(of: FieldReference(name: "missing")) { _ in true } == .exhausted)
    }

    @Test func topLevelMustBeObject() {
        #expect(throws: JSONDocumentError(message: "expected a JSON object at the top level, found an array")) {
            _ = try JSONFieldSource(json: "[1]")
        }
        #expect(throws: JSONDocumentError.self) {
            _ = try JSONFieldSource(json: "{")
        }
    }
}
