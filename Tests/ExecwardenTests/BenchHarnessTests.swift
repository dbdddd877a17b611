import Foundation
import Testing
@testable import execwarden_bench

/// execwarden-bench: its parsers, and short real runs of its storm
/// generator and its comparison with the control program.
@Suite("Bench harness")
struct BenchHarnessTests {
    static let executable: String = {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0])
        return bundle.deletingLastPathComponent().appendingPathComponent("execwarden-bench").path
    }()

    @Test("Totals line parsed by key")
    func totalsParsedByKey() {
        let stderr = """
            execwarden: watching execs with 1 rule(s): x v9
            execwarden: stats: records=5 lost_ring_full=1
            execwarden: totals: records=10 alerts=2 kernel_sent=10 lost_ring_full=3 lost_telemetry_ring=4 output_lost=1
            """
        let totals = parseTotals(stderr)
        #expect(totals["records"] == 10)
        #expect(totals["alerts"] == 2)
        #expect(totals["lost_ring_full"] == 3)
        #expect(totals["lost_telemetry_ring"] == 4)
        #expect(totals["output_lost"] == 1)
        #expect(parseTotals("execwarden: stats: records=5") == [:])
    }

    @Test("Peer loss lines summed")
    func peerLossSummed() {
        let text = """
            Lost 12 events on CPU #0!
            PCOMM PID PPID RET ARGS
            Lost 3 events on CPU #1!
            Lost 1 event
            Lost many events
            """
        #expect(sumOfLostEvents(text) == 16)
        #expect(sumOfLostEvents("") == 0)
    }

    @Test("Quantiles by nearest rank")
    func quantilesByNearestRank() {
        let values = (1...100).map(Double.init)
        #expect(quantile(values, 0.99) == 99)
        #expect(quantile(values, 1) == 100)
        #expect(quantile([], 0.5) == nil)
        #expect(median([3, 1, 2]) == 2)
        #expect(median([4, 1, 2, 3]) == 2.5)
    }

    @Test("Marker line matched by number")
    func markerMatchedByNumber() {
        let ledger = MarkerLedger(prefix: "ewb-1-2-mark-")
        let alert = #"{"@timestamp":"2026-12-04T19:15:27.123456789Z","args":["unshare","-V","ewb-1-2-mark-0"]}"#
        // 2026-12-04T19:15:27Z is 1796411727 s after the epoch; read 2 ms later.
        let readAt: Int64 = 1_796_411_727_125_456_789
        ledger.observe(line: Array(alert.utf8)[...], at: 5, wallNanoseconds: readAt)
        ledger.observe(line: Array(#"{"args":["ewb-1-2-storm"]}"#.utf8)[...], at: 6, wallNanoseconds: readAt)
        #expect(ledger.seenCount == 1)
        ledger.send(.idle)
        #expect(ledger.sentCount == 1)
        #expect(ledger.latenciesSinceEvent(.idle) == [2.0])
        #expect(ledger.latenciesSinceEvent(.storm) == [])
    }

    @Test("Invalid options exit 2", arguments: [
        ["--bogus"], ["storm", "--method", "clone"], ["storm", "--count", "0"],
        ["storm", "--count", "5", "--duration", "1"], ["storm", "--workers", "1,2"],
        ["--count", "5"], ["--duration", "-1"], ["--subjects", "none,perf"], ["launch"],
    ])
    func invalidOptions(arguments: [String]) throws {
        let outcome = try Shell.run(executable: Self.executable, arguments: arguments)
        #expect(outcome.status == 2)
        #expect(outcome.errorOutput.contains("usage: execwarden-bench"))
    }

    @Test("Storm runs the requested count", arguments: StormMethod.allCases)
    func stormRunsCount(method: StormMethod) throws {
        let outcome = try Shell.run(
            executable: Self.executable,
            arguments: ["storm", "--method", method.rawValue, "--workers", "3", "--count", "40"])
        #expect(outcome.status == 0)
        #expect(outcome.output.contains(" execs=40 "))
        #expect(outcome.output.contains(" failures=0 "))
    }

    @Test("Storm targets all run", arguments: StormTarget.allCases)
    func stormTargetsRun(target: StormTarget) throws {
        let outcome = try Shell.run(
            executable: Self.executable,
            arguments: ["storm", "--target", target.rawValue, "--workers", "1", "--count", "5"])
        #expect(outcome.status == 0)
        #expect(outcome.output.contains(" execs=5 "))
    }

    @Test("Debug build refuses to compare")
    func debugBuildRefuses() throws {
        #if DEBUG
        let outcome = try Shell.run(
            executable: Self.executable, arguments: ["--subjects", "none", "--rounds", "1"])
        #expect(outcome.status == 1)
        #expect(outcome.errorOutput.contains("WARNING: execwarden-bench is a debug build"))
        #expect(outcome.errorOutput.contains("--allow-debug-build"))
        #endif
    }

    @Test("Control comparison writes results")
    func controlComparison() throws {
        let directory = try Shell.makeDirectory("bench-results")
        defer { Shell.remove(directory) }
        let outcome = try Shell.run(
            executable: Self.executable,
            arguments: [
                "--subjects", "none,control", "--rounds", "1", "--workers", "1,2",
                "--duration", "0.3", "--output-dir", directory, "--allow-debug-build",
            ])
        #expect(outcome.status == 0, "stderr: \(outcome.errorOutput)")
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/results.json"))
        let results = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let samples = try #require(results["samples"] as? [[String: Any]])
        #expect(samples.count == 4)
        for sample in samples where sample["subject"] as? String == "control" {
            let generated = try #require(sample["generated"] as? Int)
            let delivered = try #require(sample["delivered"] as? Int)
            #expect(generated > 0)
            // The control counts every exec on the host, the storm's included.
            #expect(delivered >= generated)
            #expect((sample["bpf_nanoseconds_per_exec"] as? Double ?? 0) > 0)
            #expect(sample["ratio_to_none"] is Double)
        }
        let svg = try String(contentsOfFile: "\(directory)/results.svg", encoding: .utf8)
        #expect(svg.contains("<polyline"))
        let table = try String(contentsOfFile: "\(directory)/results.txt", encoding: .utf8)
        #expect(table.contains("| 2 | control |"))
    }
}
