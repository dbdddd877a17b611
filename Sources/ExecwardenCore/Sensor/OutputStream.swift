import Glibc

/// Why a line could not be written.
public enum OutputError: Error, CustomStringConvertible, Sendable {
    /// The reader closed the pipe (EPIPE).
    case readerClosed
    case writeFailed(errno: Int32)

    public var description: String {
        switch self {
        case .readerClosed:
            return "the reader of the output closed it (EPIPE)"
        case .writeFailed(let errorNumber):
            return "writing output failed: \(String(cString: strerror(errorNumber))) (errno \(errorNumber))"
        }
    }
}

/// A buffered writer of JSON lines to a file descriptor.
///
/// Lines collect in memory and go out in one write(2) per `flush`, which
/// the sensor calls after each batch of records, so a line waits at most one
/// poll interval. Not thread-safe.
public final class LineOutput {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    /// Past this many buffered bytes, `append` flushes by itself.
    private let flushThreshold: Int

    public private(set) var linesWritten: UInt64 = 0
    /// Lines lost because a write failed.
    public private(set) var linesLost: UInt64 = 0
    private var pendingLines: UInt64 = 0
    private var lastReaderCheck = ContinuousClock.now

    public init(descriptor: Int32 = STDOUT_FILENO, flushThreshold: Int = 64 * 1024) {
        self.descriptor = descriptor
        self.flushThreshold = flushThreshold
        buffer.reserveCapacity(flushThreshold * 2)
    }

    /// Appends one line; `line` must not contain a newline.
    public func append(line: some Collection<UInt8>) throws(OutputError) {
        buffer.append(contentsOf: line)
        buffer.append(UInt8(ascii: "\n"))
        pendingLines += 1
        if buffer.count >= flushThreshold {
            try flush()
        }
    }

    /// Writes every buffered byte, retrying short writes and EINTR. With
    /// nothing to write, checks at most every 100 ms whether the reader of
    /// a pipe has gone, so that a sensor whose reader exited stops without
    /// waiting for its next alert. On failure the buffered lines are
    /// dropped and counted in `linesLost`.
    public func flush() throws(OutputError) {
        guard !buffer.isEmpty else {
            try checkReader()
            return
        }
        var written = 0
        while written < buffer.count {
            let result = buffer.withUnsafeBytes { raw in
                Glibc.write(descriptor, raw.baseAddress! + written, raw.count - written)
            }
            if result < 0 {
                let failure = errno
                if failure == EINTR { continue }
                dropBuffer()
                throw failure == EPIPE ? .readerClosed : .writeFailed(errno: failure)
            }
            written += result
        }
        buffer.removeAll(keepingCapacity: true)
        linesWritten += pendingLines
        pendingLines = 0
    }

    private func dropBuffer() {
        buffer.removeAll(keepingCapacity: true)
        linesLost += pendingLines
        pendingLines = 0
    }

    /// Throws `readerClosed` when the descriptor is a pipe or socket whose
    /// other end is closed (poll reports POLLERR for such a pipe).
    private func checkReader() throws(OutputError) {
        let now = ContinuousClock.now
        guard now - lastReaderCheck >= .milliseconds(100) else { return }
        lastReaderCheck = now
        var entry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        guard poll(&entry, 1, 0) == 1 else { return }
        if entry.revents & Int16(POLLERR | POLLHUP) != 0 {
            throw .readerClosed
        }
    }
}
