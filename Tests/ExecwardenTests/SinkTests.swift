import Foundation
import Glibc
import Synchronization
import Testing
@testable import ExecwardenCore

/// Lines and scratch space for the sink tests.
enum SinkFixture {
    static let rule = RuleMetadata(
        ruleID: "rule-1", name: "Test Rule", version: 2, description: "A rule for tests.",
        severity: "medium", riskScore: 47)

    static func event(pid: UInt32 = 4242, marker: String = "marker") -> ExecEvent {
        ExecEvent(
            pid: pid, uid: 1000, name: Array("unshare".utf8),
            args: [Array("unshare".utf8), Array(marker.utf8)],
            executable: Array("/usr/bin/unshare".utf8))
    }

    /// Returns a line whose JSON is `text`.
    static func line(_ text: String, alert: Bool = false, pid: UInt32 = 4242) -> SensorLine {
        SensorLine(
            kind: alert ? .alert(rule: rule, verdict: .match) : .event,
            json: ArraySlice(text.utf8), event: event(pid: pid, marker: text))
    }

    /// Creates a fresh directory under /tmp; the caller removes it.
    static func directory(_ tag: String) throws -> String {
        let path = "/tmp/service-\(tag)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func contents(_ path: String) -> String? {
        (try? Data(contentsOf: URL(fileURLWithPath: path))).map { String(decoding: $0, as: UTF8.self) }
    }

    static func mode(_ path: String) -> mode_t {
        var status = stat()
        return stat(path, &status) == 0 ? status.st_mode & 0o7777 : 0
    }
}

/// Collects what a router reports.
final class RouterLog: Sendable {
    let messages = Mutex<[String]>([])
    let undelivered = Mutex<[UndeliveredAlert]>([])

    func router(alerts: [any LineSink], events: [any LineSink]) -> OutputRouter {
        OutputRouter(
            alertSinks: alerts, eventSinks: events,
            report: { [self] message in messages.withLock { $0.append(message) } },
            undelivered: { [self] alert in undelivered.withLock { $0.append(alert) } })
    }

    func count(containing text: String) -> Int {
        messages.withLock { $0.filter { $0.contains(text) }.count }
    }
}

extension UndeliveredAlert: @unchecked Sendable {}

@Suite("File sink")
struct FileSinkTests {
    @Test("New file is 0600 and appended to")
    func createsPrivateFile() throws {
        let directory = try SinkFixture.directory("file")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/alerts.log"
        let previousMask = umask(0)
        defer { umask(previousMask) }

        let first = try FileSink(path: path)
        first.append(SinkFixture.line("one"))
        #expect(first.flush(whileWaiting: { true }).failedLines.isEmpty)
        let second = try FileSink(path: path)
        second.append(SinkFixture.line("two"))
        #expect(second.flush(whileWaiting: { true }).failedLines.isEmpty)

        #expect(SinkFixture.mode(path) == 0o600)
        #expect(SinkFixture.contents(path) == "one\ntwo\n")
    }

    @Test("Rotation keeps N files of whole lines")
    func rotatesBySize() throws {
        let directory = try SinkFixture.directory("rotate")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/alerts.log"
        let sink = try FileSink(path: path, rotation: FileRotation(maximumBytes: 100, keep: 2))
        // Each line is 30 bytes with its newline, so three fit in a file.
        let lines = (0..<10).map { String(format: "line-%02d-", $0) + String(repeating: "x", count: 21) }
        for batch in [lines[0..<4], lines[4..<5], lines[5...]] {
            batch.forEach { sink.append(SinkFixture.line($0)) }
            #expect(sink.flush(whileWaiting: { true }).failedLines.isEmpty)
        }

        let current = try #require(SinkFixture.contents(path))
        let newer = try #require(SinkFixture.contents("\(path).1"))
        let older = try #require(SinkFixture.contents("\(path).2"))
        #expect(!FileManager.default.fileExists(atPath: "\(path).3"))
        #expect(current == lines[9...].map { $0 + "\n" }.joined())
        #expect(newer == lines[6..<9].map { $0 + "\n" }.joined())
        #expect(older == lines[3..<6].map { $0 + "\n" }.joined())
        for file in [current, newer, older] {
            #expect(file.utf8.count <= 100)
        }
    }

    @Test("Reopen follows a renamed file")
    func reopensAfterRename() throws {
        let directory = try SinkFixture.directory("reopen")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/alerts.log"
        let sink = try FileSink(path: path)
        sink.append(SinkFixture.line("before"))
        _ = sink.flush(whileWaiting: { true })

        #expect(rename(path, "\(path).moved") == 0)
        sink.reopen()
        sink.append(SinkFixture.line("after"))
        #expect(sink.flush(whileWaiting: { true }).failedLines.isEmpty)

        #expect(SinkFixture.contents("\(path).moved") == "before\n")
        #expect(SinkFixture.contents(path) == "after\n")
        #expect(SinkFixture.mode(path) == 0o600)
    }

    @Test("Unfinished last line is ended")
    func endsPartialLine() throws {
        let directory = try SinkFixture.directory("partial")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/alerts.log"
        try Data("whole\npartial".utf8).write(to: URL(fileURLWithPath: path))
        let sink = try FileSink(path: path)
        sink.append(SinkFixture.line("next"))
        #expect(sink.flush(whileWaiting: { true }).failedLines.isEmpty)
        #expect(SinkFixture.contents(path) == "whole\npartial\nnext\n")
    }

    @Test("Symlink and FIFO are rejected")
    func rejectsSymlinkAndFIFO() throws {
        let directory = try SinkFixture.directory("reject")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(symlink("\(directory)/target", "\(directory)/link") == 0)
        #expect(mkfifo("\(directory)/fifo", 0o600) == 0)
        #expect(throws: FileSinkError.self) { try FileSink(path: "\(directory)/link") }
        #expect(throws: FileSinkError.self) { try FileSink(path: "\(directory)/fifo") }
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/target"))
    }

    @Test("/dev/full fails every line, counted once")
    func devFullFails() throws {
        let log = RouterLog()
        let sink = try FileSink(path: "/dev/full")
        let router = log.router(alerts: [sink], events: [sink])
        for round in 0..<3 {
            router.emit(SinkFixture.line("event-\(round)"))
            router.emit(SinkFixture.line("alert-\(round)", alert: true))
            try router.flush(whileWaiting: { true })
        }
        let statistics = try #require(router.statistics.first)
        #expect(statistics.linesFailed == 6)
        #expect(statistics.linesWritten == 0)
        #expect(statistics.failing)
        #expect(log.count(containing: "No space left on device") == 1)
        #expect(log.undelivered.withLock { $0.count } == 3)
        #expect(router.undeliveredAlerts == 3)
    }
}

/// A tmpfs of 64 KiB mounted for one test, to fill the disk for real.
final class SmallFilesystem {
    let path: String

    init() throws {
        path = try SinkFixture.directory("tmpfs")
        let outcome = try Shell.run(executable: "/bin/mount", arguments: [
            "-t", "tmpfs", "-o", "size=64k,mode=0755", "service-test", path,
        ])
        guard outcome.status == 0 else {
            try? FileManager.default.removeItem(atPath: path)
            throw SensorStartError(standardError: "mount tmpfs failed: \(outcome.errorOutput)")
        }
    }

    deinit {
        _ = try? Shell.run(executable: "/bin/umount", arguments: [path])
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Fills the filesystem with a file named `filler`.
    func fill() throws {
        try Shell.run("dd if=/dev/zero of=\(path)/filler bs=4096 2>/dev/null; sync")
    }

    func free() {
        unlink("\(path)/filler")
    }
}

@Suite("Full disk", .serialized)
struct FullDiskTests {
    @Test("Full tmpfs loses no line silently")
    func fullDiskRecovers() throws {
        let filesystem = try SmallFilesystem()
        let path = "\(filesystem.path)/alerts.log"
        let log = RouterLog()
        let sink = try FileSink(path: path)
        let router = log.router(alerts: [sink], events: [sink])
        router.emit(SinkFixture.line("first", alert: true))
        try router.flush(whileWaiting: { true })

        try filesystem.fill()
        let long = String(repeating: "y", count: 6000)
        for round in 0..<3 {
            router.emit(SinkFixture.line("full-\(round)-\(long)", alert: true))
            router.emit(SinkFixture.line("event-\(round)"))
            try router.flush(whileWaiting: { true })
        }
        let failing = try #require(router.statistics.first)
        #expect(failing.failing)
        #expect(failing.linesFailed == 6)
        #expect(log.count(containing: "No space left on device") == 1)
        let undelivered = log.undelivered.withLock { $0 }
        #expect(undelivered.count == 3)
        #expect(undelivered.first?.rule.ruleID == "rule-1")
        #expect(undelivered.first?.event.pid == 4242)

        filesystem.free()
        router.emit(SinkFixture.line("recovered", alert: true))
        try router.flush(whileWaiting: { true })

        let recovered = try #require(router.statistics.first)
        #expect(!recovered.failing)
        #expect(recovered.linesWritten == 2)
        #expect(log.count(containing: "writable again") == 1)
        #expect(SinkFixture.contents(path) == "first\nrecovered\n")
    }
}

@Suite("Output router")
struct OutputRouterTests {
    @Test("Alerts and events go apart")
    func routesByKind() throws {
        let directory = try SinkFixture.directory("route")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let alerts = try FileSink(path: "\(directory)/alerts.log")
        let events = try FileSink(path: "\(directory)/events.log")
        let log = RouterLog()
        let router = log.router(alerts: [alerts], events: [events, alerts])
        router.emit(SinkFixture.line("a1", alert: true))
        router.emit(SinkFixture.line("e1"))
        try router.flush(whileWaiting: { true })

        #expect(SinkFixture.contents("\(directory)/alerts.log") == "a1\ne1\n")
        #expect(SinkFixture.contents("\(directory)/events.log") == "e1\n")
        #expect(router.statistics.map(\.linesWritten) == [2, 1])
        #expect(router.alertsByRule == [RuleAlertCount(ruleID: "rule-1", name: "Test Rule", alerts: 1)])
    }

    @Test("Alert written once is delivered")
    func oneWorkingSinkSuffices() throws {
        let directory = try SinkFixture.directory("deliver")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let working = try FileSink(path: "\(directory)/alerts.log")
        let broken = try FileSink(path: "/dev/full")
        let log = RouterLog()
        let router = log.router(alerts: [broken, working], events: [])
        router.emit(SinkFixture.line("a1", alert: true))
        try router.flush(whileWaiting: { true })

        #expect(log.undelivered.withLock { $0.isEmpty })
        #expect(router.statistics.map(\.linesFailed) == [1, 0])
        #expect(SinkFixture.contents("\(directory)/alerts.log") == "a1\n")
    }

    @Test("Closed stdout stops after other sinks")
    func closedReaderStops() throws {
        let directory = try SinkFixture.directory("epipe")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        signal(SIGPIPE, SIG_IGN)
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        close(ends[0])
        defer { close(ends[1]) }
        let stream = StreamSink(name: "stdout", descriptor: ends[1])
        let file = try FileSink(path: "\(directory)/alerts.log")
        let log = RouterLog()
        let router = log.router(alerts: [stream, file], events: [stream])
        router.emit(SinkFixture.line("a1", alert: true))
        router.emit(SinkFixture.line("e1"))

        #expect(throws: OutputError.readerClosed) { try router.flush(whileWaiting: { true }) }
        #expect(SinkFixture.contents("\(directory)/alerts.log") == "a1\n")
        #expect(log.undelivered.withLock { $0.isEmpty })
        #expect(router.statistics.map(\.linesFailed) == [2, 0])
    }

    @Test("Stream write failure keeps going")
    func streamFailureIsCounted() throws {
        let descriptor = open("/dev/full", O_WRONLY | O_CLOEXEC)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        let log = RouterLog()
        let router = log.router(alerts: [StreamSink(name: "stdout", descriptor: descriptor)], events: [])
        router.emit(SinkFixture.line("a1", alert: true))
        try router.flush(whileWaiting: { true })
        router.emit(SinkFixture.line("a2", alert: true))
        try router.flush(whileWaiting: { true })

        #expect(router.statistics.first?.linesFailed == 2)
        #expect(log.undelivered.withLock { $0.count } == 2)
        #expect(log.count(containing: "writing to stdout failed") == 1)
    }
}

extension OutputError: Equatable {
    public static func == (left: OutputError, right: OutputError) -> Bool {
        switch (left, right) {
        case (.readerClosed, .readerClosed), (.stoppedWhileBlocked, .stoppedWhileBlocked), (.gaveUp, .gaveUp):
            return true
        case (.writeFailed(let a), .writeFailed(let b)): return a == b
        default: return false
        }
    }
}
