/// The counts exported as Prometheus metrics: the sensor's, and those of
/// its output sinks.
public struct SensorMetrics: Sendable {
    public var sensor: SensorStatistics
    public var sinks: [SinkStatistics]
    public var alertsByRule: [RuleAlertCount]

    static func ruleLabels(_ rule: RuleStatistics) -> [(String, String)] {
        [("rule_id", rule.ruleID), ("version", String(rule.version)), ("rule_name", rule.name)]
    }
    /// Alerts that no sink wrote, reported on stderr instead.
    public var undeliveredAlerts: UInt64
    /// Seconds since the Unix epoch when the sensor started.
    public var startTime: Double

    public init(
        sensor: SensorStatistics, sinks: [SinkStatistics] = [],
        alertsByRule: [RuleAlertCount] = [], undeliveredAlerts: UInt64 = 0,
        startTime: Double = 0
    ) {
        self.sensor = sensor
        self.sinks = sinks
        self.alertsByRule = alertsByRule
        self.undeliveredAlerts = undeliveredAlerts
        self.startTime = startTime
    }

    /// Returns the metric families, named `execwarden_*`. A new counter is
    /// one more entry here; labelled counters build their samples in a loop.
    public var families: [MetricFamily] {
        let kernel = sensor.kernel
        return [
            MetricFamily(
                name: "execwarden_start_time_seconds", help: "Start time of the sensor since the Unix epoch.",
                kind: .gauge, samples: [.init(value: startTime)]),
            MetricFamily(
                name: "execwarden_records_received_total", help: "Records received from the ring buffer.",
                kind: .counter, value: sensor.recordsReceived),
            MetricFamily(
                name: "execwarden_records_invalid_total", help: "Records that failed validation and were skipped.",
                kind: .counter, value: sensor.recordsInvalid),
            MetricFamily(
                name: "execwarden_records_discarded_total",
                help: "Records received while stopping after an output failure, counted but not evaluated.",
                kind: .counter, value: sensor.recordsDiscarded),
            MetricFamily(
                name: "execwarden_kernel_records_sent_total", help: "Records the probe wrote, by ring buffer.",
                kind: .counter, samples: [
                    .init(labels: [("ring", "rules")], value: Double(kernel.rulesSent)),
                    .init(labels: [("ring", "events")], value: Double(kernel.eventsSent)),
                ]),
            MetricFamily(
                name: "execwarden_ring_fill_bytes",
                help: "Bytes waiting in each ring buffer just after its latest record was written.",
                kind: .gauge, samples: [
                    .init(labels: [("ring", "rules")], value: Double(kernel.rulesRingFill)),
                    .init(labels: [("ring", "events")], value: Double(kernel.eventsRingFill)),
                ]),
            MetricFamily(
                name: "execwarden_kernel_execs_filtered_total",
                help: "Execs the kernel prefilter showed no rule can match, not sent in rule mode.",
                kind: .counter, value: kernel.filtered),
            MetricFamily(
                name: "execwarden_kernel_records_lost_total",
                help: "Execs the probe did not send, by cause: a ring buffer full, no scratch slot, probe already running on the CPU.",
                kind: .counter, samples: [
                    .init(labels: [("cause", "rules_ring_full")], value: Double(kernel.rulesRingFull)),
                    .init(labels: [("cause", "events_ring_full")], value: Double(kernel.eventsRingFull)),
                    .init(labels: [("cause", "no_scratch")], value: Double(kernel.noScratch)),
                    .init(labels: [("cause", "recursion")], value: Double(kernel.recursionMisses)),
                ]),
            MetricFamily(
                name: "execwarden_kernel_parent_args_not_kept_total",
                help: "Execs and forks whose argv the probe could not keep for their children's process.parent.args.",
                kind: .counter, value: kernel.argsNotKept + kernel.processRecursionMisses),
            MetricFamily(
                name: "execwarden_alerts_total", help: "Alert lines produced.",
                kind: .counter, value: sensor.alerts),
            MetricFamily(
                name: "execwarden_rule_alerts_total", help: "Alert lines produced, by rule.",
                kind: .counter, samples: alertsByRule.map {
                    .init(labels: [("rule_id", $0.ruleID), ("rule_name", $0.name)], value: Double($0.alerts))
                }),
            MetricFamily(
                name: "execwarden_rule_evaluations_total",
                help: "Records each rule was evaluated on, by rule and version.",
                kind: .counter, samples: sensor.rules.map {
                    .init(labels: Self.ruleLabels($0), value: Double($0.evaluations))
                }),
            MetricFamily(
                name: "execwarden_rule_matches_total",
                help: "Matches, alerted or suppressed, by rule and version.",
                kind: .counter, samples: sensor.rules.map {
                    .init(labels: Self.ruleLabels($0), value: Double($0.matches))
                }),
            MetricFamily(
                name: "execwarden_rule_suppressed_total",
                help: "Matches that raised no alert because the rule had reached its max_signals in the window.",
                kind: .counter, samples: sensor.rules.map {
                    .init(labels: Self.ruleLabels($0), value: Double($0.suppressed))
                }),
            MetricFamily(
                name: "execwarden_uncertain_alerts_total",
                help: "Alerts whose verdict depended on data past a capture limit.",
                kind: .counter, value: sensor.uncertainAlerts),
            MetricFamily(
                name: "execwarden_events_total", help: "Event lines produced.",
                kind: .counter, value: sensor.eventsEmitted),
            MetricFamily(
                name: "execwarden_output_lines_written_total", help: "Lines written, by sink.",
                kind: .counter, samples: sinks.map { .init(labels: [("sink", $0.name)], value: Double($0.linesWritten)) }),
            MetricFamily(
                name: "execwarden_output_lines_failed_total", help: "Lines a sink could not write, by sink.",
                kind: .counter, samples: sinks.map { .init(labels: [("sink", $0.name)], value: Double($0.linesFailed)) }),
            MetricFamily(
                name: "execwarden_output_failing", help: "1 while a sink's latest write failed, by sink.",
                kind: .gauge, samples: sinks.map { .init(labels: [("sink", $0.name)], value: $0.failing ? 1 : 0) }),
            MetricFamily(
                name: "execwarden_alerts_undelivered_total",
                help: "Alerts that no sink could write, printed on stderr instead.",
                kind: .counter, value: undeliveredAlerts),
        ]
    }
}
