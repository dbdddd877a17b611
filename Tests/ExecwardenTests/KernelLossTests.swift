import Foundation
import Glibc
import Synchronization
import Testing

/// Loss accounting of the `execwarden` binary under an exec storm with a
/// small ring and a reader that does not read stdout, from the totals
/// printed at exit.
@Suite("Kernel loss accounting")
struct KernelLossTests {
    @Test("Storm with a stalled reader counts every lost exec")
    func stormWithStalledReader() async throws {
        let directory = try Shell.makeDirectory("loss")
        defer { Shell.remove(directory) }
        let stormBinary = "\(directory)/storm-true"
        try FileManager.default.copyItem(atPath: "/usr/bin/true", toPath: stormBinary)
        let marker = Shell.marker("loss")
        let execs = 1500
        // Each storm record carries this argument, so about 250 records
        // fill the ring.
        let filler = String(repeating: "F", count: 4000)

        // With --events every exec is a line. The full stdout pipe makes the
        // sensor drop the events it cannot write (after a short wait), and
        // while it waits its 1 MiB ring may overflow: either way the loss
        // is counted.
        let sensor = try StalledSensor(arguments: ["--events", "--ring-size", "1M"])
        defer { sensor.stop() }
        let storm = try Shell.run("""
            seq 1 \(execs) | xargs -P 2 -n 250 sh -c 'for i; do "$0" \(marker) \(filler); done' \(stormBinary) &
            sleep 0.5
            /usr/bin/unshare --uts -- /bin/true \(marker) unshare
            wait
            """)
        try #require(storm.status == 0, "\(storm.errorOutput)")

        sensor.startReading()
        // Records are read in order, so once an exec after the storm is out,
        // every record of the storm was read or counted lost. The ring may
        // still be full for the first tries, which are then lost too.
        var last: [String] = []
        for _ in 0..<15 where last.isEmpty {
            try Shell.run(executable: "/bin/true", arguments: [marker, "last"])
            last = await sensor.lines(count: 1, timeout: .seconds(2)) {
                $0.contains(marker) && $0.contains("\"last\"")
            }
        }
        try #require(!last.isEmpty)
        #expect(sensor.stop() == 0)

        let totals = try #require(sensor.totals())
        let lost = try #require(totals["lost_events_ring_full"]) + (totals["lost_rules_ring_full"] ?? 0)
            + (totals["lost_no_scratch"] ?? 0)
            + (totals["lost_recursion"] ?? 0)
            + (totals["output_lost"] ?? 0)
        #expect(lost > 0)
        #expect(totals["records"] == totals["kernel_sent"])

        let documents = sensor.lines { $0.contains(marker) }.compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let processes = documents.compactMap { $0["process"] as? [String: Any] }
        let delivered = processes.filter { $0["executable"] as? String == stormBinary }.count
        #expect(delivered <= execs)
        #expect(UInt64(delivered) + lost >= UInt64(execs))

        // The storm fills only the events ring. The marked unshare travels
        // on the rules ring, so it alerts, once per built-in revision.
        let unshareAlerts = documents.filter {
            ($0["event"] as? [String: Any])?["kind"] as? String == "alert"
                && ($0["process"] as? [String: Any])?["name"] as? String == "unshare"
        }
        #expect(totals["lost_rules_ring_full"] == 0)
        #expect(unshareAlerts.count == 2)
    }
}

/// An `execwarden` process whose stdout is left unread until
/// `startReading`, so its output pipe fills and it stops draining the ring.
final class StalledSensor: Sendable {
    private let process: Process
    private let standardOutput: Pipe
    private let output = ByteBuffer()
    private let errors = ByteBuffer()

    init(arguments: [String]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: SensorBinaryTests.executable)
        process.arguments = arguments
        standardOutput = Pipe()
        let standardError = Pipe()
        process.standardOutput = standardOutput
        process.standardError = standardError
        process.standardInput = FileHandle.nullDevice
        let errors = self.errors
        standardError.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            errors.bytes.withLock { $0.append(data) }
        }
        try process.run()

        let deadline = Date().addingTimeInterval(30)
        while !standardErrorText.contains("watching execs") {
            guard process.isRunning, Date() < deadline else {
                throw SensorStartError(standardError: standardErrorText)
            }
            usleep(10_000)
        }
    }

    var standardErrorText: String {
        errors.bytes.withLock { String(decoding: $0, as: UTF8.self) }
    }

    func startReading() {
        let output = self.output
        standardOutput.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            output.bytes.withLock { $0.append(data) }
        }
    }

    /// Returns the complete stdout lines read so far that satisfy `predicate`.
    func lines(where predicate: (Substring) -> Bool) -> [String] {
        let text = output.bytes.withLock { String(decoding: $0, as: UTF8.self) }
        guard let end = text.lastIndex(of: "\n") else { return [] }
        return text[..<end].split(separator: "\n").filter(predicate).map(String.init)
    }

    /// Waits up to `timeout` for `count` lines that satisfy `predicate`.
    func lines(
        count: Int, timeout: Duration, where predicate: (Substring) -> Bool
    ) async -> [String] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let found = lines(where: predicate)
            if found.count >= count { return found }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return lines(where: predicate)
    }

    /// Sends SIGINT, reads the rest of stdout, waits for the exit and
    /// returns its status.
    @discardableResult
    func stop() -> Int32 {
        startReading()
        if process.isRunning {
            kill(process.processIdentifier, SIGINT)
        }
        process.waitUntilExit()
        // Let the readability handlers take the last bytes.
        usleep(100_000)
        return process.terminationStatus
    }

    /// Returns the counts of the `totals:` line printed at exit, by name.
    func totals() -> [String: UInt64]? {
        guard let line = standardErrorText.split(separator: "\n").last(where: { $0.contains("totals:") })
        else { return nil }
        var counts: [String: UInt64] = [:]
        for pair in line.split(separator: " ") {
            let parts = pair.split(separator: "=")
            if parts.count == 2, let value = UInt64(parts[1]) {
                counts[String(parts[0])] = value
            }
        }
        return counts
    }
}

private final class ByteBuffer: Sendable {
    let bytes = Mutex(Data())
}
