import Glibc

/// A sink on an inherited descriptor, normally stdout, written through
/// `LineOutput`: whole lines, waiting for a slow pipe reader without
/// blocking the sensor.
///
/// A closed reader (EPIPE) and a stop while blocked end the sensor. Any
/// other write failure, such as a full disk behind a redirect, loses the
/// rest of the batch, and the next batch tries again.
public final class StreamSink: LineSink {
    public let name: String
    private let output: LineOutput
    private var pending = 0

    public init(name: String = "stdout", descriptor: Int32 = STDOUT_FILENO) {
        self.name = name
        output = LineOutput(descriptor: descriptor)
    }

    public func append(_ line: SensorLine) {
        output.append(line: line.json)
        pending += 1
    }

    public func flush(whileWaiting: () -> Bool, giveUp: () -> Bool) -> SinkFlushResult {
        var result = SinkFlushResult()
        let count = pending
        pending = 0
        let writtenBefore = output.linesWritten
        do {
            try output.flush(whileWaiting: whileWaiting, giveUp: giveUp)
        } catch {
            let written = Int(output.linesWritten - writtenBefore)
            switch error {
            case .readerClosed:
                result.fail(from: written, count: count, because: "the reader of \(name) closed it")
                result.stop = error
            case .stoppedWhileBlocked:
                result.fail(from: written, count: count, because: "stopped while \(name) was not being read")
                result.stop = error
            case .gaveUp:
                result.fail(from: written, count: count, because: "the reader of \(name) did not keep up")
            case .writeFailed(let errorNumber):
                result.fail(from: written, count: count, because: "writing to \(name) failed: \(errnoText(errorNumber))")
            }
        }
        return result
    }

    /// Does nothing: an inherited descriptor has no path to reopen.
    public func reopen() {}
}
