import CExecwardenBench
import Foundation
import Glibc

struct SubjectError: Error, CustomStringConvertible {
    let description: String
}

/// Counts a subject reports after a storm, beyond the harness's own
/// readings.
struct SubjectOutcome {
    /// Output lines or counted execs that belong to the storm.
    var delivered: UInt64?
    /// Events the subject counted as lost, over all stages.
    var lost: UInt64?
    /// execwarden's totals line, by key.
    var totals: [String: UInt64] = [:]
    /// Marker alerts found in an output file.
    var markerAlertsInFile: Int?
}

/// One running sensor, peer or control, measured around a storm.
protocol Subject: AnyObject {
    /// The process whose CPU and memory are measured, if any.
    var pid: pid_t? { get }
    /// Programs whose BPF run time is measured.
    func programIDs() -> Set<UInt32>
    /// Execs the subject counted itself so far (the control), or nil.
    func execsCounted() -> UInt64?
    func stop() throws -> SubjectOutcome
}

/// The storm with nothing attached.
final class NoSubject: Subject {
    var pid: pid_t? { nil }
    func programIDs() -> Set<UInt32> { [] }
    func execsCounted() -> UInt64? { nil }
    func stop() throws -> SubjectOutcome { SubjectOutcome() }
}

/// The control program, loaded into the harness itself.
final class ControlSubject: Subject {
    private let control: OpaquePointer

    init() throws {
        guard let control = ewb_control_start() else {
            throw SubjectError(description: "cannot load the control BPF program: \(String(cString: strerror(errno))); run as root on a kernel with BTF")
        }
        self.control = control
    }

    var pid: pid_t? { nil }
    func programIDs() -> Set<UInt32> { [ewb_control_prog_id(control)] }
    func execsCounted() -> UInt64? { ewb_control_count(control) }

    func stop() throws -> SubjectOutcome {
        ewb_control_stop(control)
        return SubjectOutcome()
    }
}

/// A sensor or peer run as a child process, its stdout on a pipe or in a
/// file and its stderr in a file.
final class ProcessSubject: Subject {
    let kind: SubjectKind
    private let process = Process()
    private let stdoutPath: String?
    private let stderrPath: String
    private let reader: PipeLineReader?
    private let tag: String
    private let readyTag: String
    private let markerPrefix: String?

    /// Starts the process and waits until its BPF programs run on an exec.
    /// `tag` marks the storm's execs; the readiness exec carries a tag of
    /// its own, `readyTag`, so it is not counted among them.
    init(kind: SubjectKind, executable: String, arguments: [String], directory: String,
         tag: String, readyTag: String, ledger: MarkerLedger?) throws {
        self.kind = kind
        self.tag = tag
        self.readyTag = readyTag
        markerPrefix = ledger?.prefix
        stderrPath = "\(directory)/\(kind.rawValue).stderr"
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardError = try createFileForWriting(stderrPath)
        if kind == .rules {
            let pipe = Pipe()
            process.standardOutput = pipe
            stdoutPath = nil
            reader = PipeLineReader(fd: pipe.fileHandleForReading.fileDescriptor, ledger: ledger, tag: tag)
            try launch()
            try pipe.fileHandleForWriting.close()
        } else {
            let path = "\(directory)/\(kind.rawValue).out"
            process.standardOutput = try createFileForWriting(path)
            stdoutPath = path
            reader = nil
            try launch()
        }
        try waitUntilAttached()
    }

    var pid: pid_t? { process.processIdentifier }

    func programIDs() -> Set<UInt32> {
        ProcessStatistics.bpfProgramIDs(pid: process.processIdentifier)
    }

    func execsCounted() -> UInt64? { nil }

    /// Stops the process with SIGINT, as a user would, and collects its
    /// counts.
    func stop() throws -> SubjectOutcome {
        kill(process.processIdentifier, SIGINT)
        let deadline = Date().addingTimeInterval(15)
        while process.isRunning && Date() < deadline {
            usleep(20_000)
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw SubjectError(description: "\(kind.rawValue) did not stop within 15 s of SIGINT; killed")
        }
        _ = reader?.waitForEndOfFile(seconds: 5)
        let stderrText = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        var outcome = SubjectOutcome()
        switch kind {
        case .rules, .events:
            outcome.totals = parseTotals(stderrText)
            guard !outcome.totals.isEmpty else {
                throw SubjectError(description: "\(kind.rawValue): no totals line on stderr; its stderr:\n\(stderrText.suffix(2000))")
            }
            outcome.lost = outcome.totals.filter { $0.key.contains("lost") }.values.reduce(0, +)
        default:
            var text = stderrText
            if kind == .bpftrace, let path = stdoutPath {
                text += (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            }
            outcome.lost = sumOfLostEvents(text)
        }
        if let reader {
            outcome.delivered = reader.counts.tagged
        } else if let path = stdoutPath {
            // With --events, a matched exec gives an alert line as well as
            // its event line; only event lines count as delivered.
            let eventKind = kind == .events ? "\"kind\":\"event\"" : nil
            outcome.delivered = UInt64(max(0, ewb_count_lines_containing(path, tag, eventKind)))
            if kind == .events, let markerPrefix {
                outcome.markerAlertsInFile = Int(max(0, ewb_count_lines_containing(path, markerPrefix, "\"kind\":\"alert\"")))
            }
            unlink(path)
        }
        return outcome
    }

    private func launch() throws {
        do {
            try process.run()
        } catch {
            throw SubjectError(description: "cannot start \(process.executableURL?.path ?? "?"): \(error)")
        }
    }

    /// Waits until one of the process's BPF programs has run for an exec
    /// started after it was loaded, so the storm starts with the probe in
    /// place.
    private func waitUntilAttached() throws {
        let probe = ExecCommand(path: "/bin/true", arguments: ["true", readyTag])
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            guard process.isRunning else {
                let stderrText = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
                throw SubjectError(description: "\(kind.rawValue) exited with status \(process.terminationStatus) before attaching; its stderr:\n\(stderrText.suffix(2000))")
            }
            let ids = programIDs()
            if !ids.isEmpty {
                let before = BPFRunTotals.read(programIDs: ids).runCount
                var execTime: UInt64 = 0
                let child = withExtendedLifetime(probe) {
                    ewb_spawn_timed(probe.path, probe.argv, probe.envp, &execTime)
                }
                var status: Int32 = 0
                if child > 0 { while waitpid(child, &status, 0) < 0 && errno == EINTR {} }
                if BPFRunTotals.read(programIDs: ids).runCount > before {
                    // The reader may still be setting up after attaching.
                    usleep(200_000)
                    return
                }
            }
            usleep(50_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        throw SubjectError(description: "\(kind.rawValue) did not attach within 30 s")
    }
}

/// Creates (or empties) a file and opens it for writing.
private func createFileForWriting(_ path: String) throws -> FileHandle {
    guard FileManager.default.createFile(atPath: path, contents: nil),
        let handle = FileHandle(forWritingAtPath: path)
    else {
        throw SubjectError(description: "cannot create \(path): \(String(cString: strerror(errno)))")
    }
    return handle
}

/// Parses the last `totals:` line of execwarden's stderr into its
/// key=value words; keys it does not know are kept too.
func parseTotals(_ stderrText: String) -> [String: UInt64] {
    guard let line = stderrText.split(separator: "\n").last(where: { $0.contains("totals:") }) else {
        return [:]
    }
    var totals: [String: UInt64] = [:]
    for word in line.split(separator: " ") {
        let parts = word.split(separator: "=", maxSplits: 1)
        if parts.count == 2, let value = UInt64(parts[1]) {
            totals[String(parts[0])] = value
        }
    }
    return totals
}

/// Sums the N of every "Lost N events" that execsnoop and bpftrace print.
func sumOfLostEvents(_ text: String) -> UInt64 {
    var total: UInt64 = 0
    for line in text.split(separator: "\n") {
        let words = line.split(separator: " ")
        for index in words.indices.dropLast(2) where words[index] == "Lost" {
            if let count = UInt64(words[index + 1]), words[index + 2].hasPrefix("event") {
                total += count
            }
        }
    }
    return total
}
