import Foundation
import Glibc
import Testing

/// A directory under /tmp for one test's rule files and executables.
private struct RuleDirectory {
    let path: String

    init(_ tag: String) throws {
        path = "/tmp/rules-files-\(tag)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Writes a rule JSON file matching execs whose comm is `processName`.
    func writeRule(_ file: String, id: String, processName: String, maxSignals: Int = 100) throws {
        let rule: [String: Any] = [
            "rule_id": id, "name": "Test rule \(id)", "description": "Matches \(processName).",
            "severity": "low", "risk_score": 21, "type": "eql", "language": "eql", "version": 1,
            "max_signals": maxSignals,
            "query": "process where event.type == \"start\" and process.name == \"\(processName)\"",
        ]
        let data = try JSONSerialization.data(withJSONObject: rule)
        try data.write(to: URL(fileURLWithPath: "\(path)/\(file)"))
    }

    /// Copies /bin/true to a file named `name`, whose execs then have the
    /// comm `name`; returns its path.
    func makeExecutable(_ name: String) throws -> String {
        let target = "\(path)/\(name)"
        try FileManager.default.copyItem(atPath: "/bin/true", toPath: target)
        return target
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

@Suite("Rule files through the binary")
struct RuleFilesBinaryTests {
    private func fixture(_ name: String) throws -> String {
        guard let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            throw RuleVector.FixtureError(description: "the Fixtures resource directory is missing from the test bundle")
        }
        return directory.appendingPathComponent(name).path
    }

    @Test("rules check fails when no rule would run")
    func rulesCheckWithoutRules() throws {
        let directory = "/tmp/ew-empty-rules-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outcome = try Shell.run(
            executable: SensorBinaryTests.executable, arguments: ["rules", "check", directory])
        #expect(outcome.status == 1)
        #expect(outcome.output.hasSuffix("no rule would run, so the sensor would not start with these paths\n"))
    }

    @Test("rules check lists loads, skips and errors")
    func rulesCheckExplainsEachRule() throws {
        let path = try fixture("rules/linux-export.ndjson")
        let outcome = try Shell.run(executable: SensorBinaryTests.executable, arguments: ["rules", "check", path])
        let lines = outcome.output.split(separator: "\n").map(String.init)
        #expect(outcome.status == 1)
        #expect(lines.filter { $0.hasPrefix("load ") }.count == 3)
        #expect(lines.filter { $0.hasPrefix("skip ") }.count == 6)
        #expect(lines.contains { $0.hasPrefix("error  \(path):10: ") && $0.contains("line 2, column 24") })
        #expect(lines.contains { $0.contains(":1: ") && $0.contains("kernel prefilter on process names gdb") })
        #expect(lines.last == "3 rule(s) would load, 6 skipped, 1 invalid")
    }

    @Test("rules check of valid rules exits 0")
    func rulesCheckValid() throws {
        let directory = try RuleDirectory("check")
        defer { directory.remove() }
        try directory.writeRule("a.json", id: "a", processName: "x")
        let outcome = try Shell.run(
            executable: SensorBinaryTests.executable, arguments: ["rules", "check", directory.path])
        #expect(outcome.status == 0)
        #expect(outcome.output.hasSuffix("1 rule(s) would load, 0 skipped, 0 invalid\n"))
    }

    @Test("list rules shows the rules of --rules")
    func listRulesFromFiles() throws {
        let directory = try RuleDirectory("list")
        defer { directory.remove() }
        try directory.writeRule("a.json", id: "listed-rule", processName: "x")
        let outcome = try Shell.run(
            executable: SensorBinaryTests.executable, arguments: ["--list-rules", "--rules", directory.path])
        #expect(outcome.status == 0)
        #expect(outcome.output.hasPrefix("listed-rule  v1  low  Test rule listed-rule\n"))
        #expect(!outcome.output.contains("d00f33e7"))
        #expect(!outcome.errorOutput.contains("skipped"))
    }

    @Test("list rules counts the skipped ones")
    func listRulesCountsSkipped() throws {
        let directory = try RuleDirectory("list-skipped")
        defer { directory.remove() }
        try directory.writeRule("a.json", id: "listed-rule", processName: "x")
        try "[rule]".write(toFile: "\(directory.path)/b.toml", atomically: true, encoding: .utf8)
        let outcome = try Shell.run(
            executable: SensorBinaryTests.executable, arguments: ["--list-rules", "--rules", directory.path])
        #expect(outcome.status == 0)
        #expect(outcome.errorOutput.contains("1 rule(s) skipped; run 'execwarden rules check PATH' for the reasons"))
    }

    @Test("invalid rule file stops the start")
    func invalidRulesStopStart() throws {
        let path = try fixture("rules/linux-export.ndjson")
        let outcome = try Shell.run(executable: SensorBinaryTests.executable, arguments: ["--rules", path])
        #expect(outcome.status == 1)
        #expect(outcome.errorOutput.contains("invalid: \(path):10:"))
        #expect(outcome.errorOutput.contains("not started"))
        #expect(outcome.output.isEmpty)
    }

    @Test("--rules runs file rules, limits alerts and counts per rule")
    func rulesFromDirectory() async throws {
        let directory = try RuleDirectory("run")
        defer { directory.remove() }
        let name = "ewrf\(UInt32.random(in: 0...UInt32.max))"
        try directory.writeRule("limited.json", id: "limited", processName: name, maxSignals: 2)
        let program = try directory.makeExecutable(name)

        let sensor = try RunningSensor(arguments: ["--rules", directory.path])
        defer { sensor.stop() }
        #expect(sensor.standardError.contains("1 rule(s)"))
        for round in 0..<4 {
            try Shell.run(executable: program, arguments: ["round-\(round)"])
        }
        let alerts = await sensor.lines(count: 2, containing: name)
        #expect(alerts.count == 2)
        #expect(alerts.allSatisfy { $0.contains(#""id":"limited""#) })
        #expect(sensor.lines(containing: "d00f33e7").isEmpty)

        #expect(sensor.stop() == 0)
        #expect(sensor.lines(containing: name).count == 2)
        let errors = sensor.standardError
        #expect(errors.contains("rule=limited version=1"))
        #expect(errors.contains("matches=4 suppressed=2"))
    }

    @Test("SIGHUP swaps rules, and an invalid set keeps the old one")
    func reloadOnHangup() async throws {
        let directory = try RuleDirectory("reload")
        defer { directory.remove() }
        let suffix = UInt32.random(in: 0...UInt32.max)
        let first = try directory.makeExecutable("ewa\(suffix)")
        let second = try directory.makeExecutable("ewb\(suffix)")
        try directory.writeRule("rule.json", id: "first", processName: "ewa\(suffix)")

        let sensor = try RunningSensor(arguments: ["--rules", directory.path])
        defer { sensor.stop() }
        try Shell.run(executable: first, arguments: [])
        #expect(await sensor.lines(count: 1, containing: "ewa\(suffix)").count == 1)

        try directory.writeRule("rule.json", id: "second", processName: "ewb\(suffix)")
        try await hangUp(sensor, until: "reloaded 1 rule(s)")
        try Shell.run(executable: first, arguments: ["after"])
        try Shell.run(executable: second, arguments: ["after"])
        #expect(await sensor.lines(count: 1, containing: "ewb\(suffix)").count == 1)

        try Data("{".utf8).write(to: URL(fileURLWithPath: "\(directory.path)/broken.json"))
        try await hangUp(sensor, until: "reload failed")
        try Shell.run(executable: second, arguments: ["again"])
        #expect(await sensor.lines(count: 2, containing: "ewb\(suffix)").count == 2)

        #expect(sensor.stop() == 0)
        #expect(sensor.lines(containing: "ewa\(suffix)").count == 1)
        #expect(sensor.standardError.contains("previous rules keep running"))
    }

    private func hangUp(_ sensor: RunningSensor, until message: String) async throws {
        let before = sensor.standardError.components(separatedBy: message).count
        sensor.signal(SIGHUP)
        let deadline = ContinuousClock.now + .seconds(10)
        while sensor.standardError.components(separatedBy: message).count == before {
            try #require(ContinuousClock.now < deadline, "no \"\(message)\" after SIGHUP: \(sensor.standardError)")
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
