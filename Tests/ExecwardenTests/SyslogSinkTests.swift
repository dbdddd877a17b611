import Foundation
import Glibc
import Testing
@testable import ExecwardenCore

/// A Unix datagram socket bound by the test, standing in for /dev/log.
final class DatagramServer {
    let path: String
    private var descriptor: Int32 = -1

    init(path: String) throws {
        self.path = path
        try bind()
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        unlink(path)
    }

    func bind() throws {
        unlink(path)
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else { throw SensorStartError(standardError: "bind \(path): errno \(errno)") }
    }

    /// Closes the socket and removes its path, as a stopping daemon does.
    func shutDown() {
        close(descriptor)
        descriptor = -1
        unlink(path)
    }

    /// Waits up to `milliseconds` for one datagram.
    func receive(milliseconds: Int32 = 2000) -> String? {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, milliseconds) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 1 << 17)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        return count < 0 ? nil : String(decoding: buffer[..<count], as: UTF8.self)
    }
}

@Suite("Syslog sink")
struct SyslogSinkTests {
    /// PRI, version, timestamp, host name, app name, process id, message
    /// id, no structured data, then the message.
    static var header: Regex<(Substring, Substring, Substring, Substring, Substring, Substring, Substring)> { #/^<(\d+)>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) (\S+) execwarden (\d+) (alert|event) - (.*)$/# }

    @Test("Lines arrive as RFC 5424 messages")
    func formatsMessages() throws {
        let directory = try SinkFixture.directory("syslog")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try DatagramServer(path: "\(directory)/log.sock")
        let sink = try SyslogSink(socketPath: server.path)
        sink.append(SinkFixture.line(#"{"event":{"kind":"alert"}}"#, alert: true))
        sink.append(SinkFixture.line(#"{"event":{"kind":"event"}}"#))
        #expect(sink.flush(whileWaiting: { true }).failedLines.isEmpty)

        let alert = try #require(server.receive())
        let alertParts = try #require(alert.wholeMatch(of: Self.header))
        #expect(alertParts.1 == "28")  // daemon (3) * 8 + warning (4), for a medium rule
        #expect(alertParts.4 == "\(getpid())")
        #expect(alertParts.5 == "alert")
        #expect(alertParts.6 == #"{"event":{"kind":"alert"}}"#)
        let event = try #require(server.receive())
        let eventParts = try #require(event.wholeMatch(of: Self.header))
        #expect(eventParts.1 == "30")  // daemon (3) * 8 + informational (6)
        #expect(eventParts.5 == "event")
        #expect(eventParts.3 == SyslogSink.currentHostName())
    }

    @Test("Timestamp is RFC 3339 UTC")
    func formatsTimestamp() {
        let time = timespec(tv_sec: 1_796_000_000, tv_nsec: 123_456_789)
        #expect(SyslogSink.timestamp(time) == "2026-11-30T00:53:20.123456Z")
    }

    @Test("Restarted daemon gets the next line")
    func reconnects() throws {
        let directory = try SinkFixture.directory("syslog-restart")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try DatagramServer(path: "\(directory)/log.sock")
        let log = RouterLog()
        let sink = try SyslogSink(socketPath: server.path)
        let router = log.router(alerts: [sink], events: [sink])

        server.shutDown()
        router.emit(SinkFixture.line("while-down", alert: true))
        try router.flush(whileWaiting: { true })
        #expect(log.undelivered.withLock { $0.count } == 1)
        #expect(log.count(containing: "failed") == 1)

        try server.bind()
        router.emit(SinkFixture.line("after-restart", alert: true))
        try router.flush(whileWaiting: { true })
        let message = try #require(server.receive())
        #expect(message.hasSuffix(" after-restart"))
        #expect(log.count(containing: "writable again") == 1)
        #expect(router.statistics.first?.linesFailed == 1)
        #expect(router.statistics.first?.linesWritten == 1)
    }

    @Test("Missing socket fails at start")
    func missingSocket() {
        #expect(throws: SyslogSinkError.self) {
            try SyslogSink(socketPath: "/tmp/service-no-such-dir/log.sock")
        }
    }
}
