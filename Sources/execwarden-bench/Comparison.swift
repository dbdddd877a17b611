import CExecwardenBench
import Foundation
import Glibc

/// Runs the interleaved comparison: for each round, for each worker count,
/// one storm per subject, so slow drifts of the machine hit every subject
/// alike. Each round starts one subject later in the list, so no subject
/// always runs right after the same other one.
final class Comparison {
    let options: CompareOptions
    let sensorPath: String
    let subjects: [SubjectKind]
    private let workspace: StormWorkspace
    private let runID: String
    private var sampleNumber = 0
    private(set) var samples: [Sample] = []
    /// Markers sent before each storm, 50 ms apart, to time idle alerts.
    private let idleMarkers = 10
    /// Pause between a subject's start and its storm, the same for every
    /// subject, so the previous subject's teardown does not overlap a storm.
    private let settleSeconds = 1.0

    init(options: CompareOptions, sensorPath: String, subjects: [SubjectKind]) throws {
        self.options = options
        self.sensorPath = sensorPath
        self.subjects = subjects
        workspace = try StormWorkspace()
        runID = String(getpid())
    }

    deinit {
        workspace.cleanUp()
    }

    func run(report: (Sample) -> Void) throws {
        // Warm-up, discarded: page cache, the sensor binary, CPU frequency.
        var warmUp = options.storm
        warmUp.durationSeconds = 1
        warmUp.workers = options.workerCounts.max() ?? 1
        _ = try runStorm(warmUp, command: try workspace.command(for: options.storm.target, tag: "ewb-warm-up"))

        for round in 1...options.rounds {
            let shift = (round - 1) % subjects.count
            let order = Array(subjects[shift...] + subjects[..<shift])
            for workers in options.workerCounts {
                var group: [Sample] = []
                for kind in order {
                    group.append(try measure(kind, workers: workers, round: round))
                }
                let none = group.first { $0.subject == .none }
                let control = group.first { $0.subject == .control }
                for var sample in group {
                    if let none, none.execsPerSecond > 0, sample.subject != .none {
                        sample.ratioToNone = sample.execsPerSecond / none.execsPerSecond
                    }
                    if let control, control.execsPerSecond > 0, sample.subject != .control {
                        sample.ratioToControl = sample.execsPerSecond / control.execsPerSecond
                    }
                    samples.append(sample)
                    report(sample)
                }
            }
        }
    }

    private func measure(_ kind: SubjectKind, workers: Int, round: Int) throws -> Sample {
        sampleNumber += 1
        // Distinct suffixes, so that no tag is a substring of another.
        let base = "ewb-\(runID)-\(sampleNumber)"
        let tag = base + "-storm"
        let command = try workspace.command(for: options.storm.target, tag: tag)
        let ledger = (kind == .rules || kind == .events) ? MarkerLedger(prefix: base + "-mark-") : nil
        let subject = try start(kind, tag: tag, readyTag: base + "-ready", ledger: ledger)
        var stopped = false
        defer {
            // A failed measurement still stops its sensor or peer.
            if !stopped { _ = try? subject.stop() }
        }

        let settleEnd = Date().addingTimeInterval(settleSeconds)
        if let ledger {
            for _ in 0..<idleMarkers {
                ledger.send(.idle)
                usleep(50_000)
            }
        }
        let remaining = settleEnd.timeIntervalSinceNow
        if remaining > 0 { usleep(UInt32(remaining * 1e6)) }
        let cpuBefore = subject.pid.flatMap { ProcessStatistics.cpuSeconds(pid: $0) }
        let programs = subject.programIDs()
        let bpfBefore = BPFRunTotals.read(programIDs: programs)
        let countedBefore = subject.execsCounted()

        var spec = options.storm
        spec.workers = workers
        let storm = try runStormWithMarkers(spec, command: command, ledger: ledger)

        if let pid = subject.pid { waitUntilQuiet(pid: pid) }
        if let ledger, kind == .rules { waitForMarkers(ledger) }
        let cpuAfter = subject.pid.flatMap { ProcessStatistics.cpuSeconds(pid: $0) }
        let bpfAfter = BPFRunTotals.read(programIDs: programs)
        let countedAfter = subject.execsCounted()
        let peak = subject.pid.flatMap { ProcessStatistics.peakResidentKiB(pid: $0) }
        stopped = true
        let outcome = try subject.stop()

        var sample = Sample(
            subject: kind, workers: workers, round: round,
            generated: storm.execs, failures: storm.failures, seconds: storm.seconds,
            execsPerSecond: storm.execsPerSecond)
        if let cpuBefore, let cpuAfter {
            sample.cpuSeconds = cpuAfter - cpuBefore
            if storm.execs > 0 {
                sample.cpuSecondsPerThousandExecs = (cpuAfter - cpuBefore) / (Double(storm.execs) / 1000)
            }
        }
        let runs = bpfAfter.runCount &- bpfBefore.runCount
        if let cpuSeconds = sample.cpuSeconds, runs > 0 {
            sample.cpuSecondsPerThousandExecsSeen = cpuSeconds / (Double(runs) / 1000)
        }
        if !programs.isEmpty {
            sample.bpfRunTimeNanoseconds = bpfAfter.runTimeNanoseconds &- bpfBefore.runTimeNanoseconds
            sample.bpfRuns = bpfAfter.runCount &- bpfBefore.runCount
            sample.bpfNanosecondsPerExec = BPFRunTotals.nanosecondsPerRun(from: bpfBefore, to: bpfAfter)
            sample.bpfPrograms = bpfAfter.names
        }
        if let countedBefore, let countedAfter {
            sample.delivered = countedAfter - countedBefore
        } else {
            sample.delivered = outcome.delivered
        }
        sample.lost = outcome.lost
        if [.events, .execsnoop, .bpftrace].contains(kind), let delivered = sample.delivered {
            sample.missing = storm.execs > delivered ? storm.execs - delivered : 0
        }
        sample.totals = outcome.totals.isEmpty ? nil : outcome.totals
        sample.peakResidentKiB = peak
        if let ledger {
            sample.markersSent = ledger.sentCount
            sample.markersAlerted = outcome.markerAlertsInFile ?? ledger.seenCount
            if kind == .rules {
                sample.idleLatencyMilliseconds = ledger.latencies(.idle)
                sample.stormLatencyMilliseconds = ledger.latencies(.storm)
                sample.idleLatencySinceEventMilliseconds = ledger.latenciesSinceEvent(.idle)
                sample.stormLatencySinceEventMilliseconds = ledger.latenciesSinceEvent(.storm)
            }
        }
        return sample
    }

    private func start(
        _ kind: SubjectKind, tag: String, readyTag: String, ledger: MarkerLedger?
    ) throws -> Subject {
        switch kind {
        case .none:
            return NoSubject()
        case .control:
            return try ControlSubject()
        case .rules:
            return try ProcessSubject(
                kind: kind, executable: sensorPath, arguments: options.sensorArguments,
                directory: workspace.directory, tag: tag, readyTag: readyTag, ledger: ledger)
        case .events:
            return try ProcessSubject(
                kind: kind, executable: sensorPath, arguments: ["--events"] + options.sensorArguments,
                directory: workspace.directory, tag: tag, readyTag: readyTag, ledger: ledger)
        case .execsnoop:
            return try ProcessSubject(
                kind: kind, executable: Peers.execsnoop, arguments: [],
                directory: workspace.directory, tag: tag, readyTag: readyTag, ledger: nil)
        case .bpftrace:
            return try ProcessSubject(
                kind: kind, executable: Peers.bpftrace, arguments: ["-e", Peers.bpftraceProgram],
                directory: workspace.directory, tag: tag, readyTag: readyTag, ledger: nil)
        }
    }

    /// Runs the storm on its own thread and, meanwhile, a marker every
    /// marker interval.
    private func runStormWithMarkers(
        _ spec: StormSpec, command: ExecCommand, ledger: MarkerLedger?
    ) throws -> StormResult {
        let done = DispatchSemaphore(value: 0)
        let outcome = StormOutcome()
        let thread = Thread {
            outcome.result = Result { try runStorm(spec, command: command) }
            done.signal()
        }
        thread.start()
        let interval = DispatchTimeInterval.milliseconds(options.markerIntervalMilliseconds)
        while done.wait(timeout: .now() + interval) == .timedOut {
            ledger?.send(.storm)
        }
        return try outcome.result.get()
    }

    /// Waits until the process's CPU time stops growing, so its backlog
    /// from the storm is counted; at most 10 s.
    private func waitUntilQuiet(pid: pid_t) {
        var last = ProcessStatistics.cpuSeconds(pid: pid)
        for _ in 0..<50 {
            usleep(200_000)
            let now = ProcessStatistics.cpuSeconds(pid: pid)
            if now == last { return }
            last = now
        }
    }

    /// Waits up to 2 s for every marker's alert line.
    private func waitForMarkers(_ ledger: MarkerLedger) {
        for _ in 0..<100 where ledger.seenCount < ledger.sentCount {
            usleep(20_000)
        }
    }
}

/// The storm thread's result, read after its semaphore is signaled.
private final class StormOutcome: @unchecked Sendable {
    var result: Result<StormResult, Error> = .failure(StormError(description: "the storm did not run"))
}

/// The peers' executables, from Debian bookworm's libbpf-tools and
/// bpftrace packages.
enum Peers {
    static let execsnoop = "/usr/sbin/execsnoop"
    static let bpftrace = "/usr/bin/bpftrace"
    /// The classic execsnoop one-liner: each execve's arguments.
    /// NOTE: both peers trace execve alone, so an execveat storm delivers
    /// nothing to them and their BPF cost per exec is not comparable.
    static let bpftraceProgram = "tracepoint:syscalls:sys_enter_execve { join(args->argv); }"

    /// The syscall tracepoint both peers attach to; libbpf and bpftrace
    /// find it through tracefs.
    static let tracepointPaths = [
        "/sys/kernel/tracing/events/syscalls/sys_enter_execve",
        "/sys/kernel/debug/tracing/events/syscalls/sys_enter_execve",
    ]

    /// Returns the reason a peer cannot run here, or nil when it can.
    static func problem(_ kind: SubjectKind) -> String? {
        let executable: String
        let package: String
        switch kind {
        case .execsnoop: (executable, package) = (execsnoop, "libbpf-tools")
        case .bpftrace: (executable, package) = (bpftrace, "bpftrace")
        default: return nil
        }
        if access(executable, X_OK) != 0 {
            return "\(executable) is not installed (apt-get install \(package))"
        }
        if !tracepointPaths.contains(where: { access($0, F_OK) == 0 }) {
            return "tracefs is not mounted, so \(kind.rawValue) cannot find the execve tracepoint (mount -t tracefs nodev /sys/kernel/tracing)"
        }
        return nil
    }
}
