import Glibc
import Synchronization

/// A socket that could not be reached.
public struct SyslogSinkError: Error, CustomStringConvertible {
    public let socketPath: String
    public let errorNumber: Int32

    public var description: String {
        "cannot connect to the syslog socket \(socketPath): \(errnoText(errorNumber))"
    }
}

/// Sends each line as one RFC 5424 message over the local syslog socket (a
/// Unix datagram socket), with the ECS JSON as MSG.
///
/// Messages use facility daemon; alerts take their severity from the rule
/// (critical 2, high 3, medium 4, low 5) and events are informational (6).
/// MSGID is `alert` or `event`, and there is no structured data. When the
/// syslog daemon restarts, the next message reconnects.
///
/// NOTE: a line longer than the socket's send buffer fails with EMSGSIZE,
/// and syslog daemons cut long messages at their own limit (rsyslog's
/// default is 8 KiB), so very long argument lists suit the file sink better.
public final class SyslogSink: LineSink {
    public static let defaultSocketPath = "/dev/log"
    static let facilityDaemon = 3

    public let name: String
    public let socketPath: String
    private var descriptor: Int32 = -1
    private var messages: [[UInt8]] = []
    private let hostName: String
    private let processID = getpid()
    private let reconnectRequested = Atomic<Bool>(false)

    /// Connects to `socketPath`; throws when that fails, so that a host
    /// without a syslog daemon is reported at startup.
    public init(socketPath: String = SyslogSink.defaultSocketPath) throws(SyslogSinkError) {
        self.socketPath = socketPath
        name = socketPath == Self.defaultSocketPath ? "syslog" : "syslog:\(socketPath)"
        hostName = Self.currentHostName()
        if let errorNumber = connect() {
            throw SyslogSinkError(socketPath: socketPath, errorNumber: errorNumber)
        }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    public func append(_ line: SensorLine) {
        messages.append(message(for: line, at: timespec.now()))
    }

    /// Reconnects before the next message. May be called from any thread.
    public func reopen() {
        reconnectRequested.store(true, ordering: .relaxed)
    }

    private func disconnect() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    public func flush(whileWaiting: () -> Bool, giveUp: () -> Bool) -> SinkFlushResult {
        var result = SinkFlushResult()
        defer { messages.removeAll(keepingCapacity: true) }
        if reconnectRequested.exchange(false, ordering: .relaxed) {
            disconnect()
        }
        // Once the socket had no room and the wait ended, the rest of the
        // batch fails at once instead of waiting again for each message.
        var stoppedWaiting = false
        for index in messages.indices {
            let wait = { !stoppedWaiting && whileWaiting() && !giveUp() }
            if let errorNumber = send(messages[index], whileWaiting: wait) {
                if errorNumber == EAGAIN { stoppedWaiting = true }
                result.failedLines.append(index)
                result.failure = "sending to the syslog socket \(socketPath) failed: \(errnoText(errorNumber))"
            }
        }
        return result
    }

    /// Builds `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG`.
    func message(for line: SensorLine, at time: timespec) -> [UInt8] {
        let severity: Int
        let messageID: String
        switch line.kind {
        case .alert(let rule, _):
            severity = Self.severity(ofRule: rule.severity)
            messageID = "alert"
        case .event:
            severity = 6
            messageID = "event"
        }
        let priority = Self.facilityDaemon * 8 + severity
        let header = "<\(priority)>1 \(Self.timestamp(time)) \(hostName) execwarden \(processID) \(messageID) - "
        var bytes = Array(header.utf8)
        bytes.append(contentsOf: line.json)
        return bytes
    }

    static func severity(ofRule severity: String) -> Int {
        switch severity.lowercased() {
        case "critical": return 2
        case "high": return 3
        case "medium": return 4
        default: return 5
        }
    }

    /// Formats `time` as an RFC 3339 UTC timestamp with microseconds.
    static func timestamp(_ time: timespec) -> String {
        var seconds = time.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(Int(parts.tm_year) + 1900, 4) + "-" + pad(Int(parts.tm_mon) + 1, 2)
            + "-" + pad(Int(parts.tm_mday), 2) + "T" + pad(Int(parts.tm_hour), 2)
            + ":" + pad(Int(parts.tm_min), 2) + ":" + pad(Int(parts.tm_sec), 2)
            + "." + pad(time.tv_nsec / 1000, 6) + "Z"
    }

    /// Returns the host name as RFC 5424 allows it: printable ASCII without spaces,
    /// at most 255 bytes, or "-" when there is none.
    static func currentHostName() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "-" }
        let bytes = name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            .filter { $0 > 32 && $0 < 127 }
        return bytes.isEmpty ? "-" : String(decoding: bytes, as: UTF8.self)
    }

    /// Sends one datagram, reconnecting once when the daemon went away and
    /// waiting while its queue is full. Returns the errno when it fails.
    private func send(_ message: [UInt8], whileWaiting: () -> Bool) -> Int32? {
        var reconnected = false
        while true {
            if descriptor < 0 {
                if let errorNumber = connect() { return errorNumber }
                reconnected = true
            }
            let sent = message.withUnsafeBytes { raw in
                Glibc.send(descriptor, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
            }
            if sent >= 0 { return nil }
            let errorNumber = errno
            switch errorNumber {
            case EINTR:
                continue
            case EAGAIN:
                var entry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                if !whileWaiting() { return errorNumber }
                if poll(&entry, 1, 100) == 0 && !whileWaiting() { return errorNumber }
            case ECONNREFUSED, ENOTCONN, ENOENT, EPIPE:
                if reconnected { return errorNumber }
                disconnect()
            default:
                return errorNumber
            }
        }
    }

    /// Opens a datagram socket connected to `socketPath`; returns the errno
    /// when that fails.
    private func connect() -> Int32? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            return ENAMETOOLONG
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let socket = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { return errno }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            let errorNumber = errno
            close(socket)
            return errorNumber
        }
        descriptor = socket
        return nil
    }
}

extension timespec {
    static func now() -> timespec {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return time
    }
}
