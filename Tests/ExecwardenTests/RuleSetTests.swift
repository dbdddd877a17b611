import Foundation
import Testing
@testable import ExecwardenCore

/// A scratch directory under /tmp, removed by `remove()`.
private struct ScratchDirectory {
    let path: String

    init() throws {
        path = "/tmp/rules-files-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws {
        let file = (path as NSString).appendingPathComponent(name)
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

private func fixturePath(_ name: String) throws -> String {
    guard let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
        throw RuleVector.FixtureError(description: "the Fixtures resource directory is missing from the test bundle")
    }
    return directory.appendingPathComponent(name).path
}

/// Rule JSON with the required keys and `query`.
private func ruleJSON(id: String, query: String, version: Int = 1, extra: String = "") -> String {
    let escaped = query.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    return #"{"rule_id": "\#(id)", "name": "Rule \#(id)", "description": "d", "severity": "low", "risk_score": 21, "#
        + #""type": "eql", "language": "eql", "version": \#(version), "query": "\#(escaped)"\#(extra)}"#
}

@Suite struct RuleSetTests {
    @Test func kibanaExportLoadsAndExplainsSkips() throws {
        let path = try fixturePath("rules/linux-export.ndjson")
        let ruleSet = RuleSet.load(paths: [path], includeBuiltins: false)
        #expect(ruleSet.loaded.map(\.rule.rule.name) == [
            "Linux init (PID 1) Secret Dump via GDB", "Potential Linux Hack Tool Launched",
            "Manual Memory Dumping via Proc Filesystem",
        ])
        #expect(ruleSet.loaded.map(\.origin.line) == [1, 2, 3])
        let reasons = Dictionary(uniqueKeysWithValues: ruleSet.skipped.map { ($0.origin.line ?? 0, $0) })
        #expect(ruleSet.skipped.count == 7)
        #expect(reasons[4]?.reason.contains("sequence queries are not supported") == true)
        #expect(reasons[5]?.reason.contains(#"rule type "query" is not supported"#) == true)
        #expect(reasons[6]?.reason.contains(#"rule type "esql" is not supported"#) == true)
        #expect(reasons[7]?.reason == "the rule is disabled in Kibana")
        #expect(reasons[8]?.reason.contains("selects file events") == true)
        #expect(reasons[9]?.reason == "the query can never match an exec: its condition on event.type is false for every exec, because the sensor reports event.type start")
        #expect(reasons[10]?.isInvalid == true)
        #expect(ruleSet.invalid.count == 1)
    }

    @Test func publishedQueriesLoadWithHandles() throws {
        let path = try fixturePath("rules/linux-more.ndjson")
        let ruleSet = RuleSet.load(paths: [path], includeBuiltins: false)
        #expect(ruleSet.loaded.map(\.rule.rule.ruleID) == [
            "linux-more-fw", "linux-more-cpio", "linux-more-touch", "linux-more-grep",
            "linux-more-setfacl",
        ])
        #expect(ruleSet.skipped.map(\.origin.line) == [6, 7])
        #expect(ruleSet.invalid.isEmpty)
        #expect(!ruleSet.prefilter.passAll)
        #expect(ruleSet.prefilter.executableNames.isEmpty)
        #expect(ruleSet.prefilter.processNames == Set([
            "chkconfig", "ip6tables", "iptables", "service", "systemctl", "ufw", "cpio", "touch",
            "grep", "egrep", "fgrep", "rgrep", "setfacl",
        ].map { Array($0.utf8) }))
    }

    @Test func syntaxErrorNamesFileLineAndPosition() throws {
        let path = try fixturePath("rules/linux-export.ndjson")
        let broken = try #require(RuleSet.load(paths: [path], includeBuiltins: false).invalid.first)
        #expect(broken.origin == RuleOrigin(path: path, line: 10))
        #expect(broken.ruleName == "Broken Query")
        #expect(broken.reason.hasPrefix("invalid query at line 2, column 24:"))
        #expect(broken.description.hasPrefix("\(path):10: rule \"Broken Query\" (5a1c0b8e-0000-4000-8000-000000000004): "))
    }

    @Test func directoryReadsJSONAndSavedObjects() throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        try directory.write("a.json", ruleJSON(id: "a", query: #"process where process.name == "nc""#))
        try directory.write("sub/b.json", #"{"type": "security-rule", "attributes": "#
            + ruleJSON(id: "b", query: #"process where process.executable : "*/bin/socat""#) + "}")
        try directory.write("c.ndjson", ruleJSON(id: "c", query: "process where true") + "\n\n"
            + #"{"exported_count": 1}"# + "\n")
        try directory.write("README.md", "not a rule")
        try directory.write(".hidden.json", "{")
        try directory.write("d.toml", "[rule]")

        let ruleSet = RuleSet.load(paths: [directory.path], includeBuiltins: false)
        #expect(ruleSet.loaded.map(\.rule.rule.ruleID) == ["a", "c", "b"])
        #expect(ruleSet.skipped.count == 1)
        #expect(ruleSet.skipped.first?.reason.contains("TOML rule sources") == true)
        #expect(ruleSet.invalid.isEmpty)
        #expect(ruleSet.prefilter.passAll)
    }

    @Test func directoryLinksAreReadOnce() throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        try directory.write("a.json", ruleJSON(id: "a", query: #"process where process.name == "nc""#))
        try directory.write("sub/b.json", ruleJSON(id: "b", query: #"process where process.name == "socat""#))
        // A link back to the top, and a second name for the subdirectory.
        try FileManager.default.createSymbolicLink(
            atPath: directory.path + "/sub/loop", withDestinationPath: directory.path)
        try FileManager.default.createSymbolicLink(
            atPath: directory.path + "/alias", withDestinationPath: directory.path + "/sub")

        let ruleSet = RuleSet.load(paths: [directory.path], includeBuiltins: false)
        #expect(ruleSet.loaded.map(\.rule.rule.ruleID).sorted() == ["a", "b"])
        #expect(ruleSet.invalid.isEmpty)
        #expect(ruleSet.skipped.isEmpty)
    }

    @Test func invalidJSONAndMissingPathAreInvalid() throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        try directory.write("bad.json", #"{"rule_id": "#)
        try directory.write("lines.ndjson", ruleJSON(id: "a", query: "process where true") + "\n{oops\n")

        let ruleSet = RuleSet.load(
            paths: [directory.path, directory.path + "/missing.json"], includeBuiltins: false)
        #expect(ruleSet.loaded.count == 1)
        let origins = ruleSet.invalid.map(\.origin.description)
        #expect(origins == [
            directory.path + "/bad.json", directory.path + "/lines.ndjson:2", directory.path + "/missing.json",
        ])
        #expect(ruleSet.invalid.last?.reason == "no such file or directory")
    }

    @Test func duplicateVersionIsSkippedOtherVersionLoads() throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let query = #"process where process.name == "nc""#
        try directory.write("1.json", ruleJSON(id: "x", query: query, version: 3))
        try directory.write("2.json", ruleJSON(id: "x", query: query, version: 3))
        try directory.write("3.json", ruleJSON(id: "x", query: query, version: 4))

        let ruleSet = RuleSet.load(paths: [directory.path], includeBuiltins: false)
        #expect(ruleSet.loaded.map(\.rule.rule.version) == [3, 4])
        #expect(ruleSet.skipped.map(\.origin.path) == [directory.path + "/2.json"])
        #expect(ruleSet.skipped.first?.reason.contains("already loaded from \(directory.path)/1.json") == true)
        #expect(ruleSet.skipped.first?.isInvalid == false)
    }

    @Test func builtinsLoadAlongsideFiles() throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        try directory.write("a.json", ruleJSON(id: "a", query: #"process where process.name : "NC""#))

        let ruleSet = RuleSet.load(paths: [directory.path], includeBuiltins: true)
        #expect(ruleSet.loaded.map(\.origin) == [.builtin, .builtin, RuleOrigin(path: directory.path + "/a.json")])
        #expect(ruleSet.prefilter == KernelPrefilter(
            executableNames: [Array("unshare".utf8)], processNames: [Array("nc".utf8)]))
    }

    @Test func exportExtrasAreNamed() throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let withExceptions = ruleJSON(
            id: "a", query: #"process where process.name == "nc""#,
            extra: #", "exceptions_list": [{"id": "l1", "list_id": "l1", "type": "detection"}]"#)
        try directory.write("export.ndjson", [
            withExceptions,
            #"{"list_id": "l1", "type": "detection", "name": "Exceptions", "namespace_type": "single"}"#,
            #"{"item_id": "i1", "list_id": "l1", "type": "simple", "entries": []}"#,
        ].joined(separator: "\n"))
        try directory.write("tag.json", #"{"type": "tag", "id": "t", "attributes": {"name": "Linux"}}"#)

        let ruleSet = RuleSet.load(paths: [directory.path], includeBuiltins: false)
        #expect(ruleSet.loaded.count == 1)
        #expect(ruleSet.loaded.first?.warnings == [
            "its 1 exception list(s) are not applied, so it may alert where Kibana would not",
        ])
        #expect(ruleSet.invalid.isEmpty)
        #expect(ruleSet.skipped.map(\.origin.description) == [
            directory.path + "/export.ndjson:2", directory.path + "/export.ndjson:3", directory.path + "/tag.json",
        ])
        #expect(ruleSet.skipped.last?.reason == "a saved object of type tag, not a rule")
    }

    @Test func objectWithoutRuleIDIsInvalid() throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        try directory.write("a.json", #"{"name": "x", "type": "eql", "query": "process where true"}"#)
        let ruleSet = RuleSet.load(paths: [directory.path], includeBuiltins: false)
        #expect(ruleSet.invalid.first?.reason == #"missing required key "rule_id""#)
    }

    @Test func windowsRuleNamesItsExcludingCondition() throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        try directory.write("w.json", ruleJSON(
            id: "w", query: #"process where host.os.type == "windows" and process.name : "cmd.exe""#))
        try directory.write("o.json", ruleJSON(
            id: "o", query: #"process where event.action == "fork" or event.type == "end""#))

        let ruleSet = RuleSet.load(paths: [directory.path], includeBuiltins: false)
        #expect(ruleSet.skipped.map(\.reason) == [
            "the query can never match an exec: for every exec the sensor reports event.category process, event.type start, event.action exec, event.kind event and host.os.type linux",
            "the query can never match an exec: its condition on host.os.type is false for every exec, because the sensor reports host.os.type linux",
        ])
    }

    @Test func optionalUnknownFieldLoads() throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        try directory.write("a.json", ruleJSON(
            id: "a", query: #"process where process.name == "nc" and not ?process.command_line : "*-z*""#))

        let ruleSet = RuleSet.load(paths: [directory.path], includeBuiltins: false)
        #expect(ruleSet.loaded.count == 1)
        #expect(ruleSet.loaded.first?.handle == .names(executableNames: [], processNames: [Array("nc".utf8)]))
    }
}
