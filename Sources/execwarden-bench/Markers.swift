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
    private var seen: [Int: UInt64] = [:]
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

    /// Records the marker named in `line`, if any, as read at `bootNanoseconds`.
    func observe(line: ArraySlice<UInt8>, at bootNanoseconds: UInt64) {
        let prefixBytes = Array(prefix.utf8)
        guard let start = line.firstRange(of: prefixBytes)?.upperBound else { return }
        var number = 0
        var index = start
        while index < line.endIndex, let digit = digitValue(line[index]) {
            number = number * 10 + digit
            index += 1
        }
        guard index > start else { return }
        lock.withLock {
            if seen[number] == nil { seen[number] = bootNanoseconds }
        }
    }

    /// Latencies in milliseconds, marker exec to alert line, of the
    /// markers of one phase that were seen.
    func latencies(_ phase: MarkerPhase) -> [Double] {
        lock.withLock {
            sent.compactMap { number, marker in
                guard marker.phase == phase, let readAt = seen[number] else { return nil }
                return Double(Int64(bitPattern: readAt &- marker.bootNanoseconds)) / 1e6
            }.sorted()
        }
    }

    private func digitValue(_ byte: UInt8) -> Int? {
        byte >= 0x30 && byte <= 0x39 ? Int(byte - 0x30) : nil
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
            pending.append(contentsOf: buffer[0..<count])
            var lineStart = pending.startIndex
            while let newline = pending[lineStart...].firstIndex(of: UInt8(ascii: "\n")) {
                handle(line: pending[lineStart..<newline], at: readAt)
                lineStart = newline + 1
            }
            pending.removeSubrange(pending.startIndex..<lineStart)
        }
        finished.signal()
    }

    private func handle(line: ArraySlice<UInt8>, at readAt: UInt64) {
        ledger?.observe(line: line, at: readAt)
        let tagged = line.firstRange(of: tag) != nil
        lock.withLock {
            linesTotal += 1
            if tagged { linesTagged += 1 }
        }
    }
}
