import Foundation
import Glibc
import Synchronization
import Testing

/// The installed shape of the product: the `execwarden` executable, started
/// as a user would start it, reading the real kernel.
@Suite("Sensor binary")
struct SensorBinaryTests {
    /// The executable SwiftPM built beside the test bundle.
    static let executable: String = {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0])
        return bundle.deletingLastPathComponent().appendingPathComponent("execwarden").path
    }()

    @Test("Help prints usage and exits 0")
    func help() throws {
        let outcome = try Shell.run(executable: Self.executable, arguments: ["--help"])
        #expect(outcome.status == 0)
        #expect(outcome.output.contains("USAGE: execwarden"))
        #expect(outcome.output.contains("--events"))
    }

    @Test("Invalid options exit 2", arguments: [
        ["--bogus"], ["--ring-size"], ["--ring-size", "3000"], ["--ring-size", "8X"],
        ["--ring-size", "512K"], ["--ring-size", "2G"], ["--ring-size", "1T"],
        ["--stats-interval", "-1"], ["--builtin-rules"], ["--alert-window", "-1"], ["--rules"],
        ["rules"], ["rules", "check"], ["rules", "list", "x"],
    ])
    func invalidOptions(arguments: [String]) throws {
        let outcome = try Shell.run(executable: Self.executable, arguments: arguments)
        #expect(outcome.status == 2)
    }

    @Test("Unprivileged start names the fix")
    func unprivilegedStart() throws {
        let directory = try Shell.makeDirectory("unprivileged")
        defer { Shell.remove(directory) }
        let copy = "\(directory)/execwarden"
        try FileManager.default.copyItem(atPath: Self.executable, toPath: copy)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)

        let outcome = try Shell.run(executable: "/usr/bin/setpriv", arguments: [
            "--reuid=65534", "--regid=65534", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", copy,
        ])
        #expect(outcome.status == 1)
        #expect(outcome.errorOutput.contains("CAP_BPF"))
        #expect(outcome.errorOutput.contains("root"))
        #expect(outcome.output.isEmpty)
    }

    @Test("List rules shows both built-in revisions")
    func listRules() throws {
        let outcome = try Shell.run(executable: Self.executable, arguments: ["--list-rules"])
        #expect(outcome.status == 0)
        #expect(outcome.output.contains("d00f33e7-b57d-4023-9952-2db91b1767c4"))
        #expect(outcome.output.contains("v9"))
        #expect(outcome.output.contains("v10"))
    }

    @Test("unshare alerts once per revision, a java parent only in v10")
    func alertsOnUnshare() async throws {
        let sensor = try RunningSensor(arguments: [])
        defer { sensor.stop() }
        let marker = Shell.marker("binary")
        let directory = try Shell.makeDirectory("binary")
        defer { Shell.remove(directory) }
        let java = "\(directory)/java"
        try FileManager.default.copyItem(
            atPath: URL(fileURLWithPath: "/usr/bin/python3").resolvingSymlinksInPath().path,
            toPath: java)

        try Shell.run("unshare --uts true \(marker)")
        try Shell.run(executable: java, arguments: [
            "-c", "import subprocess; subprocess.run(['/bin/unshare', '--uts', 'true', '\(marker)-java'])",
        ])

        // v9 and v10 alert on the plain exec; under the java parent only
        // v10 does, because there java cancels just the snap exclusion.
        let alerts = await sensor.lines(count: 3, containing: marker)
        try #require(alerts.count == 3)
        let documents = try alerts.map { line in
            try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        let plain = documents.filter { ($0["process"] as? [String: Any])?["args"] as? [String] == ["unshare", "--uts", "true", marker] }
        try #require(plain.count == 2)
        let document = try #require(plain.first { ($0["rule"] as? [String: Any])?["version"] as? String == "9" })
        let event = try #require(document["event"] as? [String: Any])
        let process = try #require(document["process"] as? [String: Any])
        let rule = try #require(document["rule"] as? [String: Any])
        #expect(event["kind"] as? String == "alert")
        #expect(process["executable"] as? String == "/usr/bin/unshare")
        #expect(rule["id"] as? String == "d00f33e7-b57d-4023-9952-2db91b1767c4")
        let versions = plain.compactMap { ($0["rule"] as? [String: Any])?["version"] as? String }
        #expect(versions.sorted() == ["10", "9"])

        let status = sensor.stop()
        #expect(status == 0)
        #expect(sensor.standardError.contains("totals:"))
        let javaAlerts = sensor.lines(containing: "\(marker)-java")
        #expect(javaAlerts.count == 1)
        #expect(javaAlerts.first?.contains(#""version":"10""#) == true)
        // The shell and python execs above match no rule: the kernel
        // prefilter drops them before they reach user space.
        let totals = sensor.standardError.split(separator: "\n").last { $0.contains("totals: records=") } ?? ""
        let filtered = totals.split(separator: " ").first { $0.hasPrefix("filtered=") }
            .flatMap { UInt64($0.dropFirst("filtered=".count)) } ?? 0
        #expect(filtered >= 2)
    }

    @Test("Events mode emits every exec")
    func eventsMode() async throws {
        let sensor = try RunningSensor(arguments: ["--events"])
        defer { sensor.stop() }
        let marker = Shell.marker("events")
        try Shell.run(executable: "/bin/true", arguments: [marker])

        let lines = await sensor.lines(count: 1, containing: marker)
        try #require(lines.count == 1)
        let document = try #require(
            JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        let event = try #require(document["event"] as? [String: Any])
        #expect(event["kind"] as? String == "event")
        #expect(event["action"] as? String == "exec")
        #expect(event["category"] as? [String] == ["process"])
        #expect(event["type"] as? [String] == ["start"])
        #expect(sensor.stop() == 0)
    }
}

extension SensorBinaryTests {
    @Test("A parent older than the sensor has its argv from /proc")
    func parentOlderThanSensor() async throws {
        let directory = try Shell.makeDirectory("older")
        defer { Shell.remove(directory) }
        let fifo = "\(directory)/go"
        try #require(mkfifo(fifo, 0o600) == 0)
        let marker = Shell.marker("older")
        let program = """
            import subprocess
            open("\(fifo)").read()
            subprocess.run(["/bin/true", "\(marker)"])
            """
        let parent = Process()
        parent.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        parent.arguments = ["-c", program, "started-first"]
        try parent.run()
        defer { parent.terminate() }
        // Let the parent's exec finish before the sensor starts.
        try await Task.sleep(for: .milliseconds(300))

        let sensor = try RunningSensor(arguments: ["--events"])
        defer { sensor.stop() }
        try Data().write(to: URL(fileURLWithPath: fifo))
        parent.waitUntilExit()

        let lines = await sensor.lines(count: 1, containing: marker)
        let line = try #require(lines.first)
        let document = try #require(
            JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let process = try #require(document["process"] as? [String: Any])
        let parentFields = try #require(process["parent"] as? [String: Any])
        #expect(parentFields["pid"] as? Int == Int(parent.processIdentifier))
        #expect(parentFields["args"] as? [String] == ["/usr/bin/python3", "-c", program, "started-first"])
        #expect(parentFields["args_count"] as? Int == 4)
    }
}

/// An `execwarden` process whose stdout lines are collected as they come.
final class RunningSensor: Sendable {
    private let process: Process
    private let output = TextBuffer()
    private let errors = TextBuffer()

    init(arguments: [String], executable: String = SensorBinaryTests.executable) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        let output = self.output
        let errors = self.errors
        stdout.fileHandleForReading.readabilityHandler = { handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            output.text.withLock { $0 += text }
        }
        stderr.fileHandleForReading.readabilityHandler = { handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            errors.text.withLock { $0 += text }
        }
        try process.run()

        let deadline = Date().addingTimeInterval(30)
        while !errors.text.withLock({ $0.contains("watching execs") }) {
            guard process.isRunning, Date() < deadline else {
                throw SensorStartError(standardError: errors.text.withLock { $0 })
            }
            usleep(10_000)
        }
    }

    var standardError: String { errors.text.withLock { $0 } }
    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// Waits up to ten seconds for stderr to contain `text`.
    func waitForError(containing text: String) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if standardError.contains(text) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return standardError.contains(text)
    }

    func lines(containing text: String) -> [String] {
        output.text.withLock { $0 }.split(separator: "\n").filter { $0.contains(text) }.map(String.init)
    }

    /// Waits up to ten seconds for `count` lines that contain `text`.
    func lines(count: Int, containing text: String) async -> [String] {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let found = lines(containing: text)
            if found.count >= count { return found }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return lines(containing: text)
    }

    /// Sends `number` to the sensor process.
    func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }

    /// Sends SIGINT, waits for the exit and returns its status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning {
            kill(process.processIdentifier, SIGINT)
        }
        process.waitUntilExit()
        // Let the readability handlers take the last bytes.
        usleep(50_000)
        return process.terminationStatus
    }
}

private final class TextBuffer: Sendable {
    let text = Mutex("")
}

struct SensorStartError: Error, CustomStringConvertible {
    let standardError: String
    var description: String { "execwarden did not start: \(standardError)" }
}
