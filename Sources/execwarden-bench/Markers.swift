import CExecwardenBench
import Foundation
import Glibc

/// When a marker was executed: before a storm, or during one.
enum MarkerPhase: String, Codable {
    case idle
    case storm
}

/// Marker execs of `/usr/bin/unshare -V <prefix><n>`, which the built-in
/// rule matches, with the boot-clock time just before each execve and the
/// time its alert line was read. Thread-safe.
final class MarkerLedger {
    let prefix: String
    private let lock = NSLock()
    private var sent: [Int: (bootNanoseconds: UInt64, phase: MarkerPhase)] = [:]
    /// Boot-clock time each marker's line was read, and the wall-clock time
    /// from its `@timestamp` (the exec in the kernel) to that read.
    private var seen: [Int: (bootNanoseconds: UInt64, sinceEventNanoseconds: Int64?)] = [:]
    private var failedToStart = 0

    init(prefix: String) {
        self.prefix = prefix
    }

    var sentCount: Int { lock.withLock { sent.count } }
    var seenCount: Int { lock.withLock { seen.count } }
    var startFailures: Int { lock.withLock { failedToStart } }

    /// Executes the next marker and waits for it to exit.
    func send(_ phase: MarkerPhase) {
        let number = lock.withLock { sent.count + failedToStart }
        let command = ExecCommand(path: "/usr/bin/unshare", arguments: ["unshare", "-V", "\(prefix)\(number)"])
        var execTime: UInt64 = 0
        let pid = withExtendedLifetime(command) {
            ewb_spawn_timed(command.path, command.argv, command.envp, &execTime)
        }
        guard pid > 0 else {
            lock.withLock { failedToStart += 1 }
            return
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        lock.withLock { sent[number] = (execTime, phase) }
    }

    /// Records the marker named in `line`, if any, as read at
    /// `bootNanoseconds` on the boot clock and `wallNanoseconds` on the
    /// wall clock.
    func observe(line: ArraySlice<UInt8>, at bootNanoseconds: UInt64, wallNanoseconds: Int64) {
        let prefixBytes = Array(prefix.utf8)
        guard let start = line.firstRange(of: prefixBytes)?.upperBound else { return }
        var number = 0
        var index = start
        while index < line.endIndex, let digit = digitValue(line[index]) {
            number = number * 10 + digit
            index += 1
        }
        guard index > start else { return }
        let sinceEvent = eventTimestamp(in: line).map { wallNanoseconds - $0 }
        lock.withLock {
            if seen[number] == nil { seen[number] = (bootNanoseconds, sinceEvent) }
        }
    }

    /// Latencies in milliseconds, from just before the marker's execve to
    /// its alert line, of the markers of one phase that were seen.
    func latencies(_ phase: MarkerPhase) -> [Double] {
        lock.withLock {
            sent.compactMap { number, marker in
                guard marker.phase == phase, let readAt = seen[number]?.bootNanoseconds else { return nil }
                return Double(Int64(bitPattern: readAt &- marker.bootNanoseconds)) / 1e6
            }.sorted()
        }
    }

    /// Latencies in milliseconds, from the alert's `@timestamp` (the exec
    /// as the probe saw it) to its line, of the markers of one phase. They
    /// leave out the execve itself, and they compare the sensor's wall
    /// clock conversion with the harness's, so they may be off by the
    /// clocks' drift since the sensor started.
    func latenciesSinceEvent(_ phase: MarkerPhase) -> [Double] {
        lock.withLock {
            sent.compactMap { number, marker in
                guard marker.phase == phase, let sinceEvent = seen[number]?.sinceEventNanoseconds else { return nil }
                return Double(sinceEvent) / 1e6
            }.sorted()
        }
    }

    /// Parses the `@timestamp` of an ECS line, written as RFC 3339 UTC with
    /// nine fractional digits, into nanoseconds since the Unix epoch.
    private func eventTimestamp(in line: ArraySlice<UInt8>) -> Int64? {
        let key = Array(#""@timestamp":""#.utf8)
        guard let start = line.firstRange(of: key)?.upperBound, line.endIndex - start >= 30 else {
            return nil
        }
        let text = line[start..<(start + 30)]
        func field(_ offset: Int, _ length: Int) -> Int64? {
            var value: Int64 = 0
            for byte in text.dropFirst(offset).prefix(length) {
                guard let digit = digitValue(byte) else { return nil }
                value = value * 10 + Int64(digit)
            }
            return value
        }
        guard let year = field(0, 4), let month = field(5, 2), let day = field(8, 2),
            let hour = field(11, 2), let minute = field(14, 2), let second = field(17, 2),
            let fraction = field(20, 9)
        else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        return ((days * 24 + hour) * 60 + minute) * 60_000_000_000 + second * 1_000_000_000 + fraction
    }

    private func digitValue(_ byte: UInt8) -> Int? {
        byte >= 0x30 && byte <= 0x39 ? Int(byte - 0x30) : nil
    }

    /// Days from 1970-01-01 to a date of the proleptic Gregorian calendar
    /// (Howard Hinnant's days_from_civil).
    private func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

/// Reads a sensor's stdout pipe on its own thread, timestamps each line on
/// the boot clock, hands it to the ledger, and counts lines carrying the
/// storm's tag.
final class PipeLineReader {
    private let fd: Int32
    private let ledger: MarkerLedger?
    private let tag: [UInt8]
    private let lock = NSLock()
    private var linesTotal: UInt64 = 0
    private var linesTagged: UInt64 = 0
    private let finished = DispatchSemaphore(value: 0)

    init(fd: Int32, ledger: MarkerLedger?, tag: String) {
        self.fd = fd
        self.ledger = ledger
        self.tag = Array(tag.utf8)
        let thread = Thread { [self] in readUntilEndOfFile() }
        thread.name = "sensor-stdout"
        thread.start()
    }

    /// Lines read, and lines among them that carry the storm's tag.
    var counts: (total: UInt64, tagged: UInt64) { lock.withLock { (linesTotal, linesTagged) } }

    /// Waits until the writer closed the pipe, at most `seconds`.
    func waitForEndOfFile(seconds: Double) -> Bool {
        finished.wait(timeout: .now() + seconds) == .success
    }

    private func readUntilEndOfFile() {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            let readAt = ewb_boot_time_ns()
            var wallClock = timespec()
            clock_gettime(CLOCK_REALTIME, &wallClock)
            let wallNanoseconds = Int64(wallClock.tv_sec) * 1_000_000_000 + Int64(wallClock.tv_nsec)
            pending.append(contentsOf: buffer[0..<count])
            var lineStart = pending.startIndex
            while let newline = pending[lineStart...].firstIndex(of: UInt8(ascii: "\n")) {
                handle(line: pending[lineStart..<newline], at: readAt, wallNanoseconds: wallNanoseconds)
                lineStart = newline + 1
            }
            pending.removeSubrange(pending.startIndex..<lineStart)
        }
        finished.signal()
    }

    private func handle(line: ArraySlice<UInt8>, at readAt: UInt64, wallNanoseconds: Int64) {
        ledger?.observe(line: line, at: readAt, wallNanoseconds: wallNanoseconds)
        let tagged = line.firstRange(of: tag) != nil
        lock.withLock {
            linesTotal += 1
            if tagged { linesTagged += 1 }
        }
    }
}
