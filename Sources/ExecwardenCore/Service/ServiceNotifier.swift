import Glibc

/// A failure to send a state change to the service manager.
public enum ServiceNotifyError: Error, Equatable, CustomStringConvertible, Sendable {
    /// NOTIFY_SOCKET names neither a path (`/...`) nor an abstract socket
    /// (`@...`), or the name does not fit in `sun_path`.
    case unsupportedAddress(String)
    case socketFailed(errno: Int32)
    case sendFailed(address: String, errno: Int32)
    /// The datagram went out shorter than the message.
    case shortSend(address: String, sent: Int, expected: Int)

    public var description: String {
        switch self {
        case .unsupportedAddress(let address):
            return "unsupported NOTIFY_SOCKET '\(address)': expected an absolute path"
                + " or an abstract socket name starting with '@' that fits in the"
                + " 108 bytes of sun_path"
        case .socketFailed(let number):
            return "creating a datagram socket for NOTIFY_SOCKET failed: \(errorText(number))"
        case .sendFailed(let address, let number):
            return "sending to NOTIFY_SOCKET '\(address)' failed: \(errorText(number))"
        case .shortSend(let address, let sent, let expected):
            return "sending to NOTIFY_SOCKET '\(address)' sent \(sent) of \(expected) bytes"
        }
    }
}

private func errorText(_ number: Int32) -> String {
    "\(String(cString: strerror(number))) (errno \(number))"
}

/// Sends state changes to systemd over the datagram socket named in
/// NOTIFY_SOCKET, as `sd_notify(3)` does, for units of `Type=notify`.
///
/// Each call opens a socket, sends one datagram and closes it, so the
/// notifier keeps no descriptor between calls. Thread-safe.
public struct ServiceNotifier: Sendable {
    /// The NOTIFY_SOCKET value: a path, or `@` and an abstract name.
    public let address: String

    /// Creates a notifier for `address`, or returns nil when it is nil or
    /// empty, which means no service manager is listening.
    public init?(address: String?) {
        guard let address, !address.isEmpty else { return nil }
        self.address = address
    }

    /// Creates a notifier from this process's NOTIFY_SOCKET, or returns nil
    /// when it is unset or empty.
    public static func fromEnvironment() -> ServiceNotifier? {
        guard let value = getenv("NOTIFY_SOCKET") else { return nil }
        return ServiceNotifier(address: String(cString: value))
    }

    /// Tells the service manager that startup finished, with a status line
    /// that `systemctl status` shows.
    public func notifyReady(status: String) throws(ServiceNotifyError) {
        try send("READY=1\nSTATUS=\(Self.singleLine(status))\n")
    }

    /// Tells the service manager that the service is stopping.
    public func notifyStopping(status: String) throws(ServiceNotifyError) {
        try send("STOPPING=1\nSTATUS=\(Self.singleLine(status))\n")
    }

    /// Sends `message`, newline-separated `KEY=VALUE` assignments, in one
    /// datagram. Retries when interrupted by a signal.
    public func send(_ message: String) throws(ServiceNotifyError) {
        var socketAddress = try Self.socketAddress(address)
        let socket = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw .socketFailed(errno: errno) }
        defer { close(socket) }

        let bytes = Array(message.utf8)
        var sent = -1
        repeat {
            sent = bytes.withUnsafeBytes { buffer in
                withUnsafePointer(to: &socketAddress.address) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(socket, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), $0,
                               socketAddress.length)
                    }
                }
            }
        } while sent < 0 && errno == EINTR
        guard sent >= 0 else { throw .sendFailed(address: address, errno: errno) }
        guard sent == bytes.count else {
            throw .shortSend(address: address, sent: sent, expected: bytes.count)
        }
    }

    /// Builds the `sockaddr_un` for a NOTIFY_SOCKET value. An abstract name
    /// (`@name`) becomes a leading NUL byte, and its length counts no
    /// trailing NUL, because every byte of an abstract name is significant.
    static func socketAddress(
        _ address: String
    ) throws(ServiceNotifyError) -> (address: sockaddr_un, length: socklen_t) {
        var name = Array(address.utf8)
        let isAbstract = name.first == UInt8(ascii: "@")
        guard isAbstract || name.first == UInt8(ascii: "/") else {
            throw .unsupportedAddress(address)
        }
        if isAbstract { name[0] = 0 }

        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: socketAddress.sun_path)
        // A path also needs room for its terminating NUL.
        let fits = isAbstract ? name.count <= capacity : name.count < capacity && !name.contains(0)
        guard fits else { throw .unsupportedAddress(address) }
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { path in
            path.copyBytes(from: name)
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        let length = pathOffset + name.count + (isAbstract ? 0 : 1)
        return (socketAddress, socklen_t(length))
    }

    /// Replaces line breaks, which would end the assignment early.
    private static func singleLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
