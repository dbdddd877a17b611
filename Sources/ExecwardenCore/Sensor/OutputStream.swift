import Glibc
import Synchronization

/// A reason lines could not be written.
public enum OutputError: Error, CustomStringConvertible, Sendable {
    /// The reader closed the pipe (EPIPE).
    case readerClosed
    case writeFailed(errno: Int32)
    /// A stop was requested while the output could not take more data.
    case stoppedWhileBlocked
    /// The caller stopped waiting for a reader that did not take more
    /// data; the rest of the buffer was dropped, at a line boundary.
    case gaveUp

    public var description: String {
        switch self {
        case .readerClosed:
            return "the reader of the output closed it (EPIPE)"
        case .writeFailed(let errorNumber):
            return "writing output failed: \(String(cString: strerror(errorNumber))) (errno \(errorNumber))"
        case .stoppedWhileBlocked:
            return "stopped while the reader of the output was not reading"
        case .gaveUp:
            return "the reader of the output did not take more in time"
        }
    }
}

/// A buffered writer of JSON lines to a file descriptor.
///
/// Lines collect in memory and go out when `flush` runs, which the sensor
/// does after each batch of records, so the buffer contains at most one
/// batch: what the ring contained when the batch began, and what arrived
/// meanwhile. On a
/// pipe or socket it never blocks for
/// long: it waits for room with poll(2) in 100 ms steps, calling back between
/// steps so the caller can keep its statistics fresh or give up, and it
/// writes whole lines of at most PIPE_BUF bytes at a time, which the kernel
/// keeps whole even when other writers share the pipe. A non-blocking
/// descriptor (EAGAIN) is waited on the same way.
///
/// `append` and `flush` must be called from one thread; the line counts may
/// be read from any.
public final class LineOutput: @unchecked Sendable {
    private let descriptor: Int32
    private let isStream: Bool
    private var buffer: [UInt8] = []
    private var pendingLines: UInt64 = 0
    private var lastReaderCheck = ContinuousClock.now
    private let written = Atomic<UInt64>(0)
    private let lost = Atomic<UInt64>(0)

    public init(descriptor: Int32 = STDOUT_FILENO) {
        self.descriptor = descriptor
        var status = stat()
        let mode = fstat(descriptor, &status) == 0 ? status.st_mode & S_IFMT : 0
        isStream = mode == S_IFIFO || mode == S_IFSOCK
        buffer.reserveCapacity(1 << 20)
    }

    /// Lines handed to the descriptor.
    public var linesWritten: UInt64 { written.load(ordering: .relaxed) }
    /// Lines dropped because a write failed or a stop came while blocked.
    public var linesLost: UInt64 { lost.load(ordering: .relaxed) }

    /// Appends one line to the buffer; `line` must not contain a newline.
    public func append(line: some Collection<UInt8>) {
        buffer.append(contentsOf: line)
        buffer.append(UInt8(ascii: "\n"))
        pendingLines += 1
    }

    /// Writes every buffered line. While the descriptor has no room, calls
    /// `whileWaiting` every 100 ms; when it returns false, drops what is
    /// left and throws `stoppedWhileBlocked`. Between two lines it also
    /// calls `giveUp`. When that returns true, it drops the lines left and
    /// throws `gaveUp`, so no line is cut. With nothing to write, checks
    /// at most every 100 ms whether the reader of a pipe has gone, so that a
    /// sensor whose reader exited stops without waiting for its next line.
    public func flush(
        whileWaiting: () -> Bool = { true }, giveUp: () -> Bool = { false }
    ) throws(OutputError) {
        guard !buffer.isEmpty else {
            try checkReader()
            return
        }
        var offset = 0
        defer { finish(writtenThrough: offset) }
        while offset < buffer.count {
            // A blocking pipe with no room would block write(2) until the
            // reader reads, with no way to stop.
            let atLineStart = offset == 0 || buffer[offset - 1] == UInt8(ascii: "\n")
            if isStream { try waitForRoom(whileWaiting, giveUp: atLineStart ? giveUp : { false }) }
            let length = chunkLength(from: offset)
            let result = buffer.withUnsafeBytes { raw in
                Glibc.write(descriptor, raw.baseAddress! + offset, length)
            }
            if result >= 0 {
                offset += result
                continue
            }
            switch errno {
            case EINTR:
                continue
            case EAGAIN:
                let atLineStart = offset == 0 || buffer[offset - 1] == UInt8(ascii: "\n")
                try waitForRoom(whileWaiting, giveUp: atLineStart ? giveUp : { false })
            case EPIPE:
                throw .readerClosed
            case let failure:
                throw .writeFailed(errno: failure)
            }
        }
    }

    /// Returns the number of bytes to write next. For a file that is
    /// everything. For a pipe or socket it is the whole lines that fit in
    /// PIPE_BUF, or one PIPE_BUF piece of a longer line, because POLLOUT
    /// guarantees room for that much.
    private func chunkLength(from offset: Int) -> Int {
        let remaining = buffer.count - offset
        guard isStream, remaining > Int(PIPE_BUF) else { return remaining }
        let window = buffer[offset..<offset + Int(PIPE_BUF)]
        if let lastNewline = window.lastIndex(of: UInt8(ascii: "\n")) {
            return lastNewline + 1 - offset
        }
        return Int(PIPE_BUF)
    }

    private func waitForRoom(_ whileWaiting: () -> Bool, giveUp: () -> Bool) throws(OutputError) {
        var entry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        while true {
            let ready = poll(&entry, 1, 100)
            if ready > 0 {
                if entry.revents & Int16(POLLERR | POLLHUP) != 0 { throw .readerClosed }
                return
            }
            if ready < 0 && errno != EINTR { throw .writeFailed(errno: errno) }
            if !whileWaiting() { throw .stoppedWhileBlocked }
            if giveUp() { throw .gaveUp }
        }
    }

    /// Drops the buffered bytes and counts which lines made it out whole.
    private func finish(writtenThrough offset: Int) {
        // Every buffered line ends in a newline, so a whole write needs no
        // count.
        let whole = offset == buffer.count
            ? pendingLines
            : UInt64(buffer[..<offset].withUnsafeBytes { bytes in
                bytes.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
            })
        written.add(whole, ordering: .relaxed)
        lost.add(pendingLines - whole, ordering: .relaxed)
        pendingLines = 0
        buffer.removeAll(keepingCapacity: true)
    }

    /// Throws `readerClosed` when the descriptor is a pipe or socket whose
    /// other end is closed (poll reports POLLERR for such a pipe).
    private func checkReader() throws(OutputError) {
        let now = ContinuousClock.now
        guard isStream, now - lastReaderCheck >= .milliseconds(100) else { return }
        lastReaderCheck = now
        var entry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        guard poll(&entry, 1, 0) == 1 else { return }
        if entry.revents & Int16(POLLERR | POLLHUP) != 0 {
            throw .readerClosed
        }
    }
}
