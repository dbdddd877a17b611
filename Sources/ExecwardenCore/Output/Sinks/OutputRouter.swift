import Synchronization

/// Counts of one sink.
public struct SinkStatistics: Sendable, Equatable {
    public var name: String
    public var linesWritten: UInt64 = 0
    /// Lines the sink could not write. A failed line is not written again
    /// later.
    public var linesFailed: UInt64 = 0
    /// True while the sink's latest write failed.
    public var failing = false

    public init(name: String) {
        self.name = name
    }
}

/// Alert lines produced for one rule.
public struct RuleAlertCount: Sendable, Equatable {
    public var ruleID: String
    public var name: String
    public var alerts: UInt64
}

/// An alert line that no sink could write, reported so that it is never
/// lost silently.
public struct UndeliveredAlert {
    public let rule: RuleMetadata
    public let event: ExecEvent
}

/// Sends alert lines to one set of sinks and event lines to another, and
/// accounts for every line: which sinks failed it, and which alerts no
/// sink could take.
///
/// A sink that fails is reported once through `report`, counted for each
/// line it loses, tried again with every batch, and reported once more when
/// it recovers. `emit` and `flush` are called from the sensor's thread;
/// `reopen` and `statistics` from any.
public final class OutputRouter: @unchecked Sendable {
    private let sinks: [any LineSink]
    /// Positions in `sinks` of the sinks for alerts and for events.
    private let alertTargets: [Int]
    private let eventTargets: [Int]
    private let report: (String) -> Void
    private let undelivered: (UndeliveredAlert) -> Void
    /// Lines appended to each sink since its last flush.
    private var appended: [Int]
    /// The alerts of the current batch, with the sink and position of each
    /// copy.
    private var pendingAlerts: [(alert: UndeliveredAlert, copies: [(sink: Int, line: Int)])] = []
    private let counts: Mutex<[SinkStatistics]>
    /// The latest warning reported for each sink, so a repeated one is not
    /// logged again.
    private var reportedWarnings: [String?]
    private let undeliveredCount = Atomic<UInt64>(0)
    /// Alerts per rule, in the order rules first alerted.
    private let ruleCounts = Mutex<[RuleAlertCount]>([])
    /// How long a sink with only events in a batch may keep the sensor
    /// waiting before those events are dropped and counted.
    public var eventWait: Duration = .milliseconds(100)

    /// Creates a router; a sink that appears in both lists, compared by
    /// identity, is written once per line. `report` receives failure and
    /// recovery messages, `undelivered` each alert that no sink took.
    public init(
        alertSinks: [any LineSink], eventSinks: [any LineSink],
        report: @escaping (String) -> Void,
        undelivered: @escaping (UndeliveredAlert) -> Void
    ) {
        var unique: [any LineSink] = []
        func position(of sink: any LineSink) -> Int {
            if let found = unique.firstIndex(where: { $0 === sink }) { return found }
            unique.append(sink)
            return unique.count - 1
        }
        alertTargets = alertSinks.map(position)
        eventTargets = eventSinks.map(position)
        sinks = unique
        self.report = report
        self.undelivered = undelivered
        appended = Array(repeating: 0, count: unique.count)
        reportedWarnings = Array(repeating: nil, count: unique.count)
        counts = Mutex(unique.map { SinkStatistics(name: $0.name) })
    }

    public var statistics: [SinkStatistics] {
        counts.withLock { $0 }
    }

    /// Alert lines emitted per rule, whether or not a sink wrote them.
    public var alertsByRule: [RuleAlertCount] {
        ruleCounts.withLock { $0 }
    }

    /// Alerts that no sink wrote.
    public var undeliveredAlerts: UInt64 {
        undeliveredCount.load(ordering: .relaxed)
    }

    /// Appends `line` to the sinks for its kind.
    public func emit(_ line: SensorLine) {
        switch line.kind {
        case .alert(let rule, _):
            var copies: [(sink: Int, line: Int)] = []
            for target in alertTargets {
                sinks[target].append(line)
                copies.append((target, appended[target]))
                appended[target] += 1
            }
            pendingAlerts.append((UndeliveredAlert(rule: rule, event: line.event), copies))
            countAlert(for: rule)
        case .event:
            for target in eventTargets {
                sinks[target].append(line)
                appended[target] += 1
            }
        }
    }

    private func countAlert(for rule: RuleMetadata) {
        ruleCounts.withLock { counts in
            if let index = counts.firstIndex(where: { $0.ruleID == rule.ruleID }) {
                counts[index].alerts += 1
            } else {
                counts.append(RuleAlertCount(ruleID: rule.ruleID, name: rule.name, alerts: 1))
            }
        }
    }

    /// Asks every sink to reopen its destination before its next write.
    public func reopen() {
        sinks.forEach { $0.reopen() }
    }

    /// Flushes every sink, counts and reports failures, and hands each
    /// alert that no sink wrote to `undelivered`. Throws after flushing
    /// all sinks when one of them must stop the sensor (stdout's reader
    /// closed it, or a stop came while it was blocked).
    ///
    /// Sinks with alerts in the batch go first and wait for room as long as
    /// `whileWaiting` allows. A sink with only events in the batch waits at
    /// most `eventWait`, then drops and counts the events left, so a reader
    /// that stalls on events cannot hold back the alerts of the next batch.
    public func flush(whileWaiting: () -> Bool) throws(OutputError) {
        var failed = Array(repeating: Set<Int>(), count: sinks.count)
        var stop: OutputError?
        let carriesAlert = sinks.indices.map { index in
            pendingAlerts.contains { $0.copies.contains { $0.sink == index } }
        }
        let order = sinks.indices.filter { carriesAlert[$0] } + sinks.indices.filter { !carriesAlert[$0] }
        for index in order {
            let deadline = ContinuousClock.now + eventWait
            let eventsOnly = !carriesAlert[index]
            let result = sinks[index].flush(
                whileWaiting: whileWaiting,
                giveUp: { eventsOnly && ContinuousClock.now >= deadline })
            record(result, sink: index)
            failed[index] = Set(result.failedLines)
            if stop == nil { stop = result.stop }
        }
        for pending in pendingAlerts
        where pending.copies.allSatisfy({ failed[$0.sink].contains($0.line) }) {
            undeliveredCount.add(1, ordering: .relaxed)
            undelivered(pending.alert)
        }
        pendingAlerts.removeAll(keepingCapacity: true)
        for index in appended.indices { appended[index] = 0 }
        if let stop { throw stop }
    }

    private func record(_ result: SinkFlushResult, sink index: Int) {
        let lines = appended[index]
        let lost = result.failedLines.count
        let name = sinks[index].name
        let wasFailing = counts.withLock { counts in
            let wasFailing = counts[index].failing
            counts[index].linesWritten += UInt64(lines - lost)
            counts[index].linesFailed += UInt64(lost)
            if lost > 0 {
                counts[index].failing = true
            } else if lines > 0 {
                counts[index].failing = false
            }
            return wasFailing
        }
        if let warning = result.warning, warning != reportedWarnings[index] {
            report("warning: \(name): \(warning)")
        }
        if lines > 0 { reportedWarnings[index] = result.warning }
        // A stop is reported by the caller, and nothing is retried after it.
        guard result.stop == nil else { return }
        if lost > 0 && !wasFailing {
            report("error: \(result.failure ?? "writing to \(name) failed"); counting lost lines and retrying with each batch")
        } else if lost == 0 && lines > 0 && wasFailing {
            report("\(name) is writable again")
        }
    }
}
