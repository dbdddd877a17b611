import Foundation
import Glibc
import Testing
@testable import ExecwardenCore

@Suite("Prometheus text")
struct PrometheusTextTests {
    @Test("Families render with labels escaped")
    func rendersFamilies() {
        let families = [
            MetricFamily(name: "a_total", help: "Help with \\ and\nbreak.", kind: .counter, value: 3),
            MetricFamily(name: "b", help: "Labelled.", kind: .gauge, samples: [
                .init(labels: [("sink", "file:/x\"y\\z\n")], value: 0.5),
                .init(labels: [("sink", "stdout"), ("kind", "k")], value: 12),
            ]),
        ]
        #expect(PrometheusText.render(families) == """
            # HELP a_total Help with \\\\ and\\nbreak.
            # TYPE a_total counter
            a_total 3
            # HELP b Labelled.
            # TYPE b gauge
            b{sink="file:/x\\"y\\\\z\\n"} 0.5
            b{sink="stdout",kind="k"} 12

            """)
    }

    @Test("Sensor counts map to metrics")
    func sensorMetrics() {
        var statistics = SensorStatistics()
        statistics.recordsReceived = 100
        statistics.alerts = 7
        statistics.kernel.rulesSent = 101
        statistics.kernel.eventsSent = 3
        statistics.kernel.rulesRingFull = 4
        statistics.kernel.filtered = 9
        statistics.kernel.eventsRingFill = 65536
        statistics.kernel.recursionMisses = 2
        var v9 = RuleStatistics(ruleID: "id-1", name: "First", version: 9)
        v9.evaluations = 40
        v9.matches = 12
        v9.suppressed = 3
        statistics.rules = [v9, RuleStatistics(ruleID: "id-1", name: "First", version: 10)]
        var sink = SinkStatistics(name: "file:/var/log/a")
        sink.linesWritten = 5
        sink.linesFailed = 2
        sink.failing = true
        let rules = [
            RuleAlertCount(ruleID: "id-1", name: "First", alerts: 5),
            RuleAlertCount(ruleID: "id-2", name: "Second \"quoted\"", alerts: 2),
        ]
        let text = PrometheusText.render(
            SensorMetrics(sensor: statistics, sinks: [sink], alertsByRule: rules, undeliveredAlerts: 1).families)
        let lines = Set(text.split(separator: "\n").map(String.init))

        #expect(lines.contains("execwarden_records_received_total 100"))
        #expect(lines.contains("execwarden_alerts_total 7"))
        #expect(lines.contains(#"execwarden_kernel_records_sent_total{ring="rules"} 101"#))
        #expect(lines.contains(#"execwarden_kernel_records_sent_total{ring="events"} 3"#))
        #expect(lines.contains("execwarden_kernel_execs_filtered_total 9"))
        #expect(lines.contains(#"execwarden_ring_fill_bytes{ring="events"} 65536"#))
        #expect(lines.contains(#"execwarden_ring_fill_bytes{ring="rules"} 0"#))
        #expect(lines.contains("# TYPE execwarden_ring_fill_bytes gauge"))
        #expect(lines.contains(#"execwarden_rule_suppressed_total{rule_id="id-1",version="9",rule_name="First"} 3"#))
        #expect(lines.contains(#"execwarden_rule_suppressed_total{rule_id="id-1",version="10",rule_name="First"} 0"#))
        #expect(lines.contains(#"execwarden_rule_evaluations_total{rule_id="id-1",version="9",rule_name="First"} 40"#))
        #expect(lines.contains(#"execwarden_rule_matches_total{rule_id="id-1",version="9",rule_name="First"} 12"#))
        #expect(lines.contains(#"execwarden_kernel_records_lost_total{cause="rules_ring_full"} 4"#))
        #expect(lines.contains(#"execwarden_kernel_records_lost_total{cause="events_ring_full"} 0"#))
        #expect(lines.contains(#"execwarden_kernel_records_lost_total{cause="no_scratch"} 0"#))
        #expect(lines.contains(#"execwarden_kernel_records_lost_total{cause="recursion"} 2"#))
        #expect(lines.contains(#"execwarden_output_lines_written_total{sink="file:/var/log/a"} 5"#))
        #expect(lines.contains(#"execwarden_output_lines_failed_total{sink="file:/var/log/a"} 2"#))
        #expect(lines.contains(#"execwarden_output_failing{sink="file:/var/log/a"} 1"#))
        #expect(lines.contains("execwarden_alerts_undelivered_total 1"))
        #expect(lines.contains(#"execwarden_rule_alerts_total{rule_id="id-1",rule_name="First"} 5"#))
        #expect(lines.contains(#"execwarden_rule_alerts_total{rule_id="id-2",rule_name="Second \"quoted\""} 2"#))
    }

    @Test("Every family has HELP and TYPE once")
    func familiesAreWellFormed() {
        let families = SensorMetrics(sensor: SensorStatistics()).families
        let names = families.map(\.name)
        #expect(Set(names).count == names.count)
        for family in families {
            #expect(family.name.wholeMatch(of: #/execwarden_[a-z_]+/#) != nil)
            #expect(family.kind == .gauge || family.name.hasSuffix("_total"))
        }
    }
}

@Suite("Statistics file")
struct StatisticsFileTests {
    @Test("Write replaces the file whole")
    func replacesAtomically() throws {
        let directory = try SinkFixture.directory("prom")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/execwarden.prom"
        let file = StatisticsFile(path: path)
        let previousMask = umask(0o077)
        defer { umask(previousMask) }

        try file.write("first 1\n")
        let before = try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int
        try file.write("second 2\n")
        let after = try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int

        #expect(SinkFixture.contents(path) == "second 2\n")
        #expect(before != after)
        #expect(SinkFixture.mode(path) == 0o644)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["execwarden.prom"])
    }

    @Test("Missing directory throws")
    func missingDirectory() {
        let file = StatisticsFile(path: "/tmp/service-no-such-dir/execwarden.prom")
        #expect(throws: StatisticsFileError.self) { try file.write("x 1\n") }
    }
}

@Suite("Kernel preflight")
struct KernelPreflightTests {
    /// Raw BTF with no types and the given strings.
    static func btf(strings: [String]) -> [UInt8] {
        var table: [UInt8] = [0]
        for string in strings { table += Array(string.utf8) + [0] }
        // Host byte order, as the kernel writes it.
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt16(0xEB9F)) { bytes += $0 }
        bytes += [1, 0]
        for word in [24, 0, 0, 0, UInt32(table.count)] as [UInt32] {
            withUnsafeBytes(of: word) { bytes += $0 }
        }
        return bytes + table
    }

    static func preflight(in directory: String, btf: [UInt8]?, lockdown: String?) throws -> KernelPreflight {
        var preflight = KernelPreflight()
        preflight.btfPath = "\(directory)/vmlinux"
        preflight.lockdownPath = "\(directory)/lockdown"
        if let btf { try Data(btf).write(to: URL(fileURLWithPath: preflight.btfPath)) }
        if let lockdown { try Data(lockdown.utf8).write(to: URL(fileURLWithPath: preflight.lockdownPath)) }
        return preflight
    }

    @Test("This host passes")
    func hostPasses() throws {
        try KernelPreflight().check()
    }

    @Test("Fake kernels fail with a hint", arguments: [
        (nil, nil, "CONFIG_DEBUG_INFO_BTF"),
        ([0x01, 0x02, 0x03], nil, "not valid BTF"),
        (btf(strings: ["task_struct", "btf_trace_sched_process_fork"]), nil, "sched_process_exec"),
        (btf(strings: ["btf_trace_sched_process_exec"]), "none integrity [confidentiality]\n", "lockdown"),
    ] as [([UInt8]?, String?, String)])
    func fakeKernelFails(btf: [UInt8]?, lockdown: String?, hint: String) throws {
        let directory = try SinkFixture.directory("preflight")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let preflight = try Self.preflight(in: directory, btf: btf, lockdown: lockdown)
        let error = try #require(throws: ProbeError.self) { try preflight.check() }
        #expect(error.stage == .precheck)
        #expect(error.description.contains(hint))
        #expect(!error.description.contains("\n"))
    }

    @Test("Integrity lockdown and a full BTF pass")
    func integrityPasses() throws {
        let directory = try SinkFixture.directory("preflight")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let btf = Self.btf(strings: ["task_struct", "btf_trace_sched_process_exec", "x"])
        let preflight = try Self.preflight(in: directory, btf: btf, lockdown: "none [integrity] confidentiality\n")
        try preflight.check()
        #expect(preflight.lockdownMode() == "integrity")
    }
}
