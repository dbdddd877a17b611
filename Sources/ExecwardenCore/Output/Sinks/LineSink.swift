import Glibc

/// The outcome of one `LineSink.flush`.
public struct SinkFlushResult: Sendable {
    /// Positions, in append order since the previous flush, of the lines
    /// that were not written whole. Ascending.
    public var failedLines: [Int] = []
    /// A description of the failure, with the path or socket and the
    /// errno, when some line failed.
    public var failure: String?
    /// A problem that lost no line, such as a failed rotation.
    public var warning: String?
    /// Set when the sensor must stop: the reader closed the pipe, or a stop
    /// came while the sink could not take more.
    public var stop: OutputError?

    public init() {}

    /// Marks the lines from `first` up to `count` as failed.
    mutating func fail(from first: Int, count: Int, because failure: String) {
        failedLines.append(contentsOf: first..<count)
        self.failure = failure
    }
}

/// A destination for JSON lines: stdout, a file or syslog.
///
/// The sensor calls `append` for each line of a batch of records, then
/// `flush` once. A sink never throws: it reports the lines it could not
/// write, and the caller counts them, logs and retries with the next batch.
/// `append` and `flush` are called from the sensor's thread only; `reopen`
/// may be called from any thread.
public protocol LineSink: AnyObject {
    /// The sink as written on the command line, such as `file:/var/log/x`.
    var name: String { get }

    /// Buffers one line; `line.json` contains no newline.
    func append(_ line: SensorLine)

    /// Writes the buffered lines and empties the buffer. While the sink
    /// cannot take more, it calls `whileWaiting` about every 100 ms and
    /// gives up when that returns false. Between lines it also calls
    /// `giveUp`, and when that returns true it drops the lines left, as
    /// failed, without a stop.
    func flush(whileWaiting: () -> Bool, giveUp: () -> Bool) -> SinkFlushResult

    /// Requests that the destination be closed and reopened before the next
    /// write, so that a renamed log file is replaced by a new one.
    func reopen()
}

extension LineSink {
    /// Flushes, waiting as long as `whileWaiting` allows.
    public func flush(whileWaiting: () -> Bool) -> SinkFlushResult {
        flush(whileWaiting: whileWaiting, giveUp: { false })
    }
}

/// Formats an errno for a message: "No space left on device (errno 28)".
func errnoText(_ number: Int32) -> String {
    "\(String(cString: strerror(number))) (errno \(number))"
}
