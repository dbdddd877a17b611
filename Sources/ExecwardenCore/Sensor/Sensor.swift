import CExecwarden
import Glibc
import Synchronization

/// Settings of a sensor run.
public struct SensorConfiguration: Sendable {
    /// Also emit every exec as an ECS process event, not only alerts.
    public var emitEvents = false
    /// Size in bytes of the ring that carries rule candidates, or nil for
    /// 2 MiB. The ring is mapped into the sensor twice and stays resident,
    /// so its size adds twice to the sensor's memory.
    public var rulesRingSize: UInt32?
    public static let defaultRulesRingSize: UInt32 = 2 << 20
    public static let defaultEventsRingSize: UInt32 = 8 << 20
    /// Size in bytes of the ring that carries every other exec with
    /// `emitEvents`, or nil for the default (8 MiB).
    public var eventsRingSize: UInt32?
    /// Forward libbpf's messages, including the verifier log, to stderr.
    public var verbose = false
    /// Maximum wait for records, in milliseconds, before the loop checks
    /// for a stop request.
    public var pollTimeoutMilliseconds: Int32 = 100
    /// Maximum wait with `emitEvents`: the events ring wakes the sensor
    /// only once a quarter full, so it is also read at this interval.
    public var eventsPollMilliseconds: Int32 = 20
    /// The execs the probe lets through to user space in rule mode.
    public var prefilter = KernelPrefilter.everything
    /// The window in which each rule raises at most its `max_signals`
    /// alerts (100 when the rule sets none), or nil for no limit.
    public var alertWindow: Duration? = .seconds(300)

    public init() {}
}

/// Counts of the records the sensor received and the lines it emitted.
public struct SensorStatistics: Sendable, Equatable {
    public var recordsReceived: UInt64 = 0
    /// Records that failed validation and were skipped.
    public var recordsInvalid: UInt64 = 0
    public var alerts: UInt64 = 0
    /// Alerts whose rule outcome depended on arguments beyond the capture
    /// limit.
    public var uncertainAlerts: UInt64 = 0
    public var eventsEmitted: UInt64 = 0
    /// Records received after emitting failed, while the sensor stopped:
    /// counted, not evaluated.
    public var recordsDiscarded: UInt64 = 0
    /// Matches that raised no alert because of their rule's rate limit.
    public var alertsSuppressed: UInt64 = 0
    /// Counts of each rule running now, in rule order.
    public var rules: [RuleStatistics] = []
    /// The probe's own counters, including records lost in the kernel.
    public var kernel = ProbeCounters()

    public init() {}
}

/// One line the sensor produces, with the event behind it.
public struct SensorLine {
    public enum Kind: Equatable {
        case alert(rule: RuleMetadata, verdict: Verdict)
        case event
    }

    public let kind: Kind
    /// One JSON document, without the trailing newline.
    public let json: ArraySlice<UInt8>
    public let event: ExecEvent
}

/// Watches every exec on the host, evaluates the rules on each raw record
/// and hands alert lines (and, with `emitEvents`, event lines) to `emit`.
///
/// Not thread-safe: `run` polls and emits on the calling thread. `stop`
/// and `statistics` may be called from any thread.
public final class Sensor: @unchecked Sendable {
    public typealias Emit = (SensorLine) throws -> Void
    /// Writes what `Emit` collected. While the output cannot take more, the
    /// flush calls the closure it is given every so often: it refreshes the
    /// statistics and returns false once a stop was requested.
    public typealias Flush = (_ keepWaiting: () -> Bool) throws -> Void

    /// The rules in the hot path, touched only by the polling thread.
    private var rules: [ActiveRule]
    /// Picks the rules to evaluate on each record.
    private var dispatch: RuleDispatch
    /// A rule set handed to `replaceRules`, installed after the current
    /// batch.
    private let pendingRules = Mutex<PendingRules?>(nil)
    private let configuration: SensorConfiguration
    private let renderer: ECSRenderer
    private let emit: Emit
    private let flush: Flush
    private let host: HostInfo
    /// When the kernel counters were last read, and the clock offset last
    /// refreshed.
    private var lastCounterRead: ContinuousClock.Instant?
    private var lastClockRefresh = ContinuousClock.now
    private let stopRequested = Atomic<Bool>(false)
    /// Counts kept by the polling thread alone, so the hot path takes no
    /// lock; published to `statisticsLock` at most every 100 ms and on exit.
    private var counts = SensorStatistics()
    private let statisticsLock = Mutex(SensorStatistics())
    /// The error `emit` threw inside the ring-buffer callback, rethrown by
    /// `run` once the callback has returned.
    private var emitError: (any Error)?
    /// Set once `run` is failing: records are then only counted.
    private var discarding = false

    /// Creates a sensor that renders with `renderer` and passes each line to
    /// `emit`. `flush` runs after each batch of records, so a buffered
    /// output can write what `emit` collected.
    public init(
        rules: [CompiledRule], configuration: SensorConfiguration,
        host: HostInfo, renderer: ECSRenderer,
        emit: @escaping Emit, flush: @escaping Flush = { _ in }
    ) {
        self.rules = rules.map { ActiveRule($0, window: configuration.alertWindow) }
        self.dispatch = RuleDispatch(handles: rules.map { PrefilterDerivation.handle(for: $0.query) })
        self.configuration = configuration
        self.host = host
        self.renderer = renderer
        self.emit = emit
        self.flush = flush
    }

    public var statistics: SensorStatistics {
        statisticsLock.withLock { $0 }
    }

    /// Asks `run` to return after its current poll.
    public func stop() {
        stopRequested.store(true, ordering: .relaxed)
    }

    /// Replaces the rules and the kernel prefilter as one step, between two
    /// batches of records, keeping the counters and rate limits of rules
    /// that stay. May be called from any thread; a set handed in before the
    /// previous one was installed replaces it. `installed` runs on the
    /// polling thread with nil, or with the error of updating the kernel
    /// prefilter, in which case the probe lets every exec through.
    public func replaceRules(
        _ ruleSet: RuleSet, installed: @escaping @Sendable ((any Error)?) -> Void = { _ in }
    ) {
        pendingRules.withLock { $0 = PendingRules(ruleSet: ruleSet, installed: installed) }
    }

    private func install(_ pending: PendingRules, probe: AttachedProbe) {
        rules = ActiveRule.replacing(rules, with: pending.ruleSet.rules, window: configuration.alertWindow)
        dispatch = RuleDispatch(handles: pending.ruleSet.loaded.map(\.handle))
        let prefilter = pending.ruleSet.prefilter
        do {
            try probe.setPrefilter(prefilter)
            pending.installed(nil)
        } catch {
            try? probe.setPrefilter(.everything)
            pending.installed(error)
        }
        shareCounts(probe)
    }

    /// Loads and attaches the probe, calls `onReady`, then handles records
    /// until `stop` is called or emitting a line fails. On the way out it
    /// detaches the probe and handles what is left in the ring, so the final
    /// `statistics` account for every record the probe sent. Throws
    /// `ProbeError` when the probe cannot start, and whatever `emit` or
    /// `flush` threw.
    public func run(onReady: () -> Void = {}) throws {
        let eventsRingSize = configuration.eventsRingSize ?? SensorConfiguration.defaultEventsRingSize
        let mode = ProbeMode(
            emitEvents: configuration.emitEvents, prefilter: configuration.prefilter,
            eventsWakeupBytes: UInt64(eventsRingSize / 4))
        let probe = try OpenedProbe(
            rulesRingSize: configuration.rulesRingSize ?? SensorConfiguration.defaultRulesRingSize,
            eventsRingSize: eventsRingSize,
            emitEvents: configuration.emitEvents, verbose: configuration.verbose
        ).load().attach(mode: mode) { [unowned self] raw, ring in
            handle(raw, ring: ring)
        }
        let timeout = configuration.emitEvents
            ? min(configuration.pollTimeoutMilliseconds, configuration.eventsPollMilliseconds)
            : configuration.pollTimeoutMilliseconds
        // libbpf's parse of the kernel's BTF during the load, and the read of
        // /proc, left free heap behind: give it back before the long run.
        ew_release_free_memory()
        onReady()
        defer { shareCounts(probe) }

        do {
            while !stopRequested.load(ordering: .relaxed) {
                try probe.poll(timeoutMilliseconds: timeout)
                try afterBatch(probe)
            }
            probe.detach()
            try probe.drain()
            try afterBatch(probe)
        } catch {
            // Count what is left in the ring, so the totals still add up.
            discarding = true
            probe.detach()
            _ = try? probe.drain()
            throw error
        }
    }

    /// Runs after each batch of records: shares the counts (reading the
    /// kernel counters at most every 100 ms), rethrows a failure to emit,
    /// and flushes the output. Refreshes the boot-to-wall-clock offset
    /// every minute so that timestamps follow clock adjustments.
    private func afterBatch(_ probe: AttachedProbe) throws {
        let now = ContinuousClock.now
        if lastCounterRead.map({ now - $0 >= .milliseconds(100) }) ?? true {
            lastCounterRead = now
            shareCounts(probe)
        }
        if now - lastClockRefresh >= .seconds(60) {
            host.refreshClockOffset()
            lastClockRefresh = now
        }
        if let error = emitError {
            emitError = nil
            throw error
        }
        if let pending = pendingRules.withLock({ $0.take() }) {
            install(pending, probe: probe)
        }
        try flush { keepWaiting(probe) }
    }

    /// Refreshes the statistics while the output is blocked, and returns
    /// whether the flush should go on waiting.
    private func keepWaiting(_ probe: AttachedProbe) -> Bool {
        let now = ContinuousClock.now
        if lastCounterRead.map({ now - $0 >= .milliseconds(100) }) ?? true {
            lastCounterRead = now
            shareCounts(probe)
        }
        return !stopRequested.load(ordering: .relaxed)
    }

    /// Reads the kernel counters and publishes a snapshot of all counts. A
    /// failed counter read keeps the previous kernel counts.
    private func shareCounts(_ probe: AttachedProbe) {
        if let kernel = try? probe.counters() {
            counts.kernel = kernel
        }
        counts.rules = rules.map(\.statistics)
        let snapshot = counts
        statisticsLock.withLock { $0 = snapshot }
    }

    /// Evaluates the rules on one raw record: the hot path, run for every
    /// exec the probe sends. A record from the events ring is one the
    /// prefilter showed no rule can match, so it is only rendered.
    private func handle(_ raw: UnsafeRawBufferPointer, ring: RecordRing) {
        counts.recordsReceived += 1
        // After a failed emit the sensor is stopping; the rest is counted
        // but not evaluated.
        guard emitError == nil, !discarding else {
            counts.recordsDiscarded += 1
            return
        }
        let record: ExecRecord
        do {
            record = try ExecRecord(bytes: raw)
        } catch {
            counts.recordsInvalid += 1
            return
        }

        let source = RecordFieldSource(record: record)
        var event: ExecEvent?
        do {
            // A record from the events ring is one no rule can match.
            if ring == .rules {
                let executableName = RuleDispatch.executableName(of: record)
                try dispatch.forEachCandidate(executable: executableName, comm: record.comm) { index in
                    rules[index].statistics.evaluations += 1
                    let verdict = rules[index].rule.evaluate(source)
                    guard verdict != .noMatch else { return }
                    rules[index].statistics.matches += 1
                    guard rules[index].rateLimit.admit(at: record.eventTimeNanoseconds) else {
                        rules[index].statistics.suppressed += 1
                        counts.alertsSuppressed += 1
                        return
                    }
                    let metadata = rules[index].rule.metadata
                    let decoded = event ?? ExecEvent(record: record)
                    event = decoded
                    let json = renderer.renderAlert(
                        decoded, rule: metadata, uncertain: verdict == .uncertain)
                    try emit(SensorLine(
                        kind: .alert(rule: metadata, verdict: verdict),
                        json: json, event: decoded))
                    counts.alerts += 1
                    if verdict == .uncertain { counts.uncertainAlerts += 1 }
                }
            }
            if configuration.emitEvents {
                let decoded = event ?? ExecEvent(record: record)
                try emit(SensorLine(
                    kind: .event, json: renderer.renderEvent(decoded), event: decoded))
                counts.eventsEmitted += 1
            }
        } catch {
            emitError = error
        }
    }
}
