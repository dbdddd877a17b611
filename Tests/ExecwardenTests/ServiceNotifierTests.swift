import Foundation
import Glibc
import Testing
@testable import ExecwardenCore

/// A datagram socket bound for one test, standing in for systemd's notify
/// socket.
final class NotifySocket {
    let descriptor: Int32
    /// The NOTIFY_SOCKET value that reaches this socket.
    let address: String
    private let path: String?

    /// Binds a socket at a fresh path under /tmp, or at a fresh abstract
    /// name when `abstract` is true.
    init(abstract: Bool) throws {
        let name = "install-notify-\(getpid())-\(UUID().uuidString.prefix(8))"
        address = abstract ? "@\(name)" : "/tmp/\(name).sock"
        path = abstract ? nil : address
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(descriptor >= 0)

        // Bounds a receive that never comes, so that a failure cannot hang
        // the suite. No test measures time with it.
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        var (socketAddress, length) = try ServiceNotifier.socketAddress(address)
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        try #require(bound == 0, "bind \(address): errno \(errno)")
    }

    deinit {
        close(descriptor)
        if let path { unlink(path) }
    }

    /// Receives one datagram, or returns nil when none came in 30 seconds.
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }
}

@Suite("Service notifier")
struct ServiceNotifierTests {
    @Test("Ready reaches a path socket")
    func readyToPath() throws {
        let listener = try NotifySocket(abstract: false)
        let notifier = try #require(ServiceNotifier(address: listener.address))
        try notifier.notifyReady(status: "watching execs with 1 rule(s)")
        #expect(listener.receive() == "READY=1\nSTATUS=watching execs with 1 rule(s)\n")
    }

    @Test("Ready reaches an abstract socket")
    func readyToAbstract() throws {
        let listener = try NotifySocket(abstract: true)
        let notifier = try #require(ServiceNotifier(address: listener.address))
        try notifier.notifyReady(status: "up")
        #expect(listener.receive() == "READY=1\nSTATUS=up\n")
    }

    @Test("Stopping sends STOPPING=1")
    func stopping() throws {
        let listener = try NotifySocket(abstract: true)
        let notifier = try #require(ServiceNotifier(address: listener.address))
        try notifier.notifyStopping(status: "stopping")
        #expect(listener.receive() == "STOPPING=1\nSTATUS=stopping\n")
    }

    @Test("Status line breaks become spaces")
    func statusLineBreaks() throws {
        let listener = try NotifySocket(abstract: true)
        let notifier = try #require(ServiceNotifier(address: listener.address))
        try notifier.notifyReady(status: "one\ntwo\r\nthree")
        #expect(listener.receive() == "READY=1\nSTATUS=one two three\n")
    }

    @Test("Unset or empty address gives no notifier")
    func unsetAddress() {
        #expect(ServiceNotifier(address: nil) == nil)
        #expect(ServiceNotifier(address: "") == nil)
    }

    @Test("Abstract length counts no NUL")
    func abstractLength() throws {
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        let abstract = try ServiceNotifier.socketAddress("@abc")
        #expect(Int(abstract.length) == pathOffset + 4)
        let path = try ServiceNotifier.socketAddress("/run/x")
        #expect(Int(path.length) == pathOffset + 7)
        let first = withUnsafeBytes(of: abstract.address.sun_path) { $0[0] }
        #expect(first == 0)
    }

    @Test("Unsupported addresses are rejected", arguments: [
        "relative/socket", "vsock:2:1234", "/" + String(repeating: "a", count: 107),
        "@" + String(repeating: "b", count: 108),
    ])
    func unsupportedAddress(address: String) throws {
        let notifier = try #require(ServiceNotifier(address: address))
        #expect(throws: ServiceNotifyError.unsupportedAddress(address)) {
            try notifier.send("READY=1\n")
        }
    }

    @Test("Longest names fit")
    func longestNames() throws {
        let path = try ServiceNotifier.socketAddress("/" + String(repeating: "a", count: 106))
        #expect(Int(path.length) == MemoryLayout<sockaddr_un>.size)
        let abstract = try ServiceNotifier.socketAddress("@" + String(repeating: "b", count: 107))
        #expect(Int(abstract.length) == MemoryLayout<sockaddr_un>.size)
    }

    @Test("Missing socket reports ENOENT")
    func missingSocket() throws {
        let address = "/tmp/install-notify-missing-\(UUID().uuidString.prefix(8)).sock"
        let notifier = try #require(ServiceNotifier(address: address))
        #expect(throws: ServiceNotifyError.sendFailed(address: address, errno: ENOENT)) {
            try notifier.send("READY=1\n")
        }
    }

    /// The sensor itself, started as systemd starts a `Type=notify` unit:
    /// it must send READY=1 once its probe is attached and STOPPING=1 after
    /// SIGTERM.
    @Test("Sensor sends ready and stopping")
    func sensorNotifies() throws {
        let listener = try NotifySocket(abstract: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: SensorBinaryTests.executable)
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = listener.address
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        defer {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }

        let ready = listener.receive()
        let builtinCount = try BuiltinRules.compiled().count
        #expect(ready == "READY=1\nSTATUS=watching execs with \(builtinCount) rule(s)\n")
        kill(process.processIdentifier, SIGTERM)
        let stopping = listener.receive()
        #expect(stopping == "STOPPING=1\nSTATUS=stopping\n")
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let standardError = String(
            decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(standardError.contains("watching execs"))
        #expect(!standardError.contains("NOTIFY_SOCKET"))
    }
}
