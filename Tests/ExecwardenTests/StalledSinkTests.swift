import Foundation
import Glibc
import Testing
@testable import ExecwardenCore

/// A reader that stops taking events must not hold back alerts: the events
/// it cannot take are dropped and counted, and the alerts go out.
@Suite("Stalled event sink")
struct StalledSinkTests {
    @Test("Alerts reach their file while the events pipe is full")
    func alertsPassAStalledEventPipe() throws {
        let directory = try SinkFixture.directory("stalled")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        // Fill the pipe so that nothing more fits.
        _ = fcntl(ends[1], F_SETFL, fcntl(ends[1], F_GETFL) | O_NONBLOCK)
        let filler = [UInt8](repeating: UInt8(ascii: "x"), count: 4096)
        while filler.withUnsafeBytes({ write(ends[1], $0.baseAddress, $0.count) }) > 0 {}

        let log = RouterLog()
        let alerts = try FileSink(path: "\(directory)/alerts.log")
        let events = StreamSink(name: "events-pipe", descriptor: ends[1])
        let router = log.router(alerts: [alerts], events: [events])
        router.eventWait = .milliseconds(50)

        for round in 0..<3 {
            router.emit(SinkFixture.line(#"{"event":\#(round)}"#))
            router.emit(SinkFixture.line(#"{"alert":\#(round)}"#, alert: true))
            let started = ContinuousClock.now
            try router.flush(whileWaiting: { true })
            // The flush gave up on the events instead of waiting for a
            // reader that never comes.
            #expect(ContinuousClock.now - started < .seconds(5))
        }

        let written = SinkFixture.contents("\(directory)/alerts.log") ?? ""
        #expect(written.split(separator: "\n").count == 3)
        let eventStatistics = try #require(router.statistics.first { $0.name == "events-pipe" })
        #expect(eventStatistics.linesFailed == 3)
        #expect(eventStatistics.linesWritten == 0)
        #expect(log.undelivered.withLock { $0.isEmpty })
        #expect(log.count(containing: "did not keep up") == 1)
    }

    @Test("An alert waits for its own stalled sink until a stop")
    func alertSinkStillWaits() throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        _ = fcntl(ends[1], F_SETFL, fcntl(ends[1], F_GETFL) | O_NONBLOCK)
        let filler = [UInt8](repeating: UInt8(ascii: "x"), count: 4096)
        while filler.withUnsafeBytes({ write(ends[1], $0.baseAddress, $0.count) }) > 0 {}

        let log = RouterLog()
        let sink = StreamSink(name: "alerts-pipe", descriptor: ends[1])
        let router = log.router(alerts: [sink], events: [sink])
        router.eventWait = .milliseconds(10)
        router.emit(SinkFixture.line(#"{"alert":1}"#, alert: true))
        var waits = 0
        #expect(throws: OutputError.stoppedWhileBlocked) {
            try router.flush(whileWaiting: { waits += 1; return waits < 3 })
        }
        // It waited for the caller's stop, not for the event deadline.
        #expect(waits == 3)
    }
}
