import Foundation

/// Medians and spreads of the samples of one subject at one worker count.
struct Summary: Codable {
    var subject: SubjectKind
    var workers: Int
    var samples: Int
    var execsPerSecondMedian: Double?
    var execsPerSecondMin: Double?
    var execsPerSecondMax: Double?
    var ratioToNoneMedian: Double?
    var ratioToControlMedian: Double?
    var cpuSecondsPerThousandExecsMedian: Double?
    var cpuSecondsPerThousandExecsSeenMedian: Double?
    var bpfNanosecondsPerExecMedian: Double?
    var bpfNanosecondsPerExecMin: Double?
    var bpfNanosecondsPerExecMax: Double?
    var generated: UInt64
    var delivered: UInt64?
    var lost: UInt64?
    var missing: UInt64?
    var markersSent: Int?
    var markersAlerted: Int?
    /// Pooled over the rounds: median, p99 and max, in milliseconds.
    var idleLatency: LatencySummary?
    var stormLatency: LatencySummary?
    /// The same from the alert's `@timestamp`, which leaves out the execve.
    var idleLatencySinceEvent: LatencySummary?
    var stormLatencySinceEvent: LatencySummary?
    var peakResidentKiBMax: UInt64?
}

struct LatencySummary: Codable {
    var count: Int
    var p50: Double
    var p99: Double
    var max: Double

    init?(_ values: [Double]) {
        let sorted = values.sorted()
        guard let middle = median(sorted), let p99 = quantile(sorted, 0.99), let last = sorted.last
        else { return nil }
        count = sorted.count
        p50 = middle
        self.p99 = p99
        self.max = last
    }

    var text: String { String(format: "%.2f/%.2f/%.2f", p50, p99, max) }
}

func summarize(_ samples: [Sample], subjects: [SubjectKind], workerCounts: [Int]) -> [Summary] {
    var summaries: [Summary] = []
    for workers in workerCounts {
        for subject in subjects {
            let group = samples.filter { $0.subject == subject && $0.workers == workers }
            guard !group.isEmpty else { continue }
            let rates = group.map(\.execsPerSecond)
            let bpf = group.compactMap(\.bpfNanosecondsPerExec)
            summaries.append(Summary(
                subject: subject, workers: workers, samples: group.count,
                execsPerSecondMedian: median(rates),
                execsPerSecondMin: rates.min(), execsPerSecondMax: rates.max(),
                ratioToNoneMedian: median(group.compactMap(\.ratioToNone)),
                ratioToControlMedian: median(group.compactMap(\.ratioToControl)),
                cpuSecondsPerThousandExecsMedian: median(group.compactMap(\.cpuSecondsPerThousandExecs)),
                cpuSecondsPerThousandExecsSeenMedian: median(group.compactMap(\.cpuSecondsPerThousandExecsSeen)),
                bpfNanosecondsPerExecMedian: median(bpf),
                bpfNanosecondsPerExecMin: bpf.min(), bpfNanosecondsPerExecMax: bpf.max(),
                generated: group.map(\.generated).reduce(0, +),
                delivered: sumIfAny(group.map(\.delivered)),
                lost: sumIfAny(group.map(\.lost)),
                missing: sumIfAny(group.map(\.missing)),
                markersSent: sumIfAny(group.map(\.markersSent)),
                markersAlerted: sumIfAny(group.map(\.markersAlerted)),
                idleLatency: LatencySummary(group.flatMap { $0.idleLatencyMilliseconds ?? [] }),
                stormLatency: LatencySummary(group.flatMap { $0.stormLatencyMilliseconds ?? [] }),
                idleLatencySinceEvent: LatencySummary(group.flatMap { $0.idleLatencySinceEventMilliseconds ?? [] }),
                stormLatencySinceEvent: LatencySummary(group.flatMap { $0.stormLatencySinceEventMilliseconds ?? [] }),
                peakResidentKiBMax: group.compactMap(\.peakResidentKiB).max()))
        }
    }
    return summaries
}

private func sumIfAny<T: BinaryInteger>(_ values: [T?]) -> T? {
    let present = values.compactMap { $0 }
    return present.isEmpty ? nil : present.reduce(0, +)
}

/// Formats one sample as a line of key=value words.
func sampleLine(_ sample: Sample) -> String {
    var words = [
        "round=\(sample.round)", "workers=\(sample.workers)",
        "subject=\(sample.subject.rawValue)",
        "execs=\(sample.generated)", "failures=\(sample.failures)",
        String(format: "seconds=%.3f", sample.seconds),
        String(format: "execs_per_s=%.0f", sample.execsPerSecond),
    ]
    if let value = sample.ratioToNone { words.append(String(format: "ratio_none=%.3f", value)) }
    if let value = sample.ratioToControl { words.append(String(format: "ratio_control=%.3f", value)) }
    if let value = sample.cpuSecondsPerThousandExecs { words.append(String(format: "cpu_s_per_1k=%.4f", value)) }
    if let value = sample.cpuSecondsPerThousandExecsSeen { words.append(String(format: "cpu_s_per_1k_seen=%.4f", value)) }
    if let value = sample.bpfRuns { words.append("execs_seen=\(value)") }
    if let value = sample.bpfNanosecondsPerExec { words.append(String(format: "bpf_ns_per_exec=%.0f", value)) }
    if let value = sample.delivered { words.append("delivered=\(value)") }
    if let value = sample.lost { words.append("lost=\(value)") }
    if let value = sample.missing { words.append("missing=\(value)") }
    if let sent = sample.markersSent { words.append("markers=\(sample.markersAlerted ?? 0)/\(sent)") }
    if let latency = LatencySummary(sample.idleLatencyMilliseconds ?? []) { words.append("idle_ms=\(latency.text)") }
    if let latency = LatencySummary(sample.stormLatencyMilliseconds ?? []) { words.append("storm_ms=\(latency.text)") }
    if let latency = LatencySummary(sample.idleLatencySinceEventMilliseconds ?? []) {
        words.append("idle_since_event_ms=\(latency.text)")
    }
    if let latency = LatencySummary(sample.stormLatencySinceEventMilliseconds ?? []) {
        words.append("storm_since_event_ms=\(latency.text)")
    }
    if let value = sample.peakResidentKiB { words.append("peak_rss_kib=\(value)") }
    return words.joined(separator: " ")
}

/// Formats the summaries as a Markdown table.
func summaryTable(_ summaries: [Summary]) -> String {
    var lines = [
        "| workers | subject | execs/s median (min-max) | vs none | vs control | CPU s / 1k execs | CPU s / 1k execs seen | BPF ns / exec median (min-max) | generated | delivered | lost | missing | markers alerted | idle latency ms med/p99/max | storm latency ms med/p99/max | storm latency from @timestamp ms med/p99/max | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    func number(_ value: Double?, _ format: String) -> String {
        value.map { String(format: format, $0) } ?? "-"
    }
    func count<T: BinaryInteger>(_ value: T?) -> String {
        value.map { "\($0)" } ?? "-"
    }
    for summary in summaries {
        let rateMedian = number(summary.execsPerSecondMedian, "%.0f")
        let rateMin = number(summary.execsPerSecondMin, "%.0f")
        let rateMax = number(summary.execsPerSecondMax, "%.0f")
        var bpf = "-"
        if let bpfMedian = summary.bpfNanosecondsPerExecMedian {
            let bpfMin = number(summary.bpfNanosecondsPerExecMin, "%.0f")
            let bpfMax = number(summary.bpfNanosecondsPerExecMax, "%.0f")
            bpf = String(format: "%.0f", bpfMedian) + " (\(bpfMin)-\(bpfMax))"
        }
        var markers = "-"
        if let sent = summary.markersSent {
            markers = "\(summary.markersAlerted ?? 0)/\(sent)"
        }
        let peakMiB = summary.peakResidentKiBMax.map { Double($0) / 1024 }
        var cells: [String] = ["\(summary.workers)", summary.subject.rawValue]
        cells.append("\(rateMedian) (\(rateMin)-\(rateMax))")
        cells.append(number(summary.ratioToNoneMedian, "%.3f"))
        cells.append(number(summary.ratioToControlMedian, "%.3f"))
        cells.append(number(summary.cpuSecondsPerThousandExecsMedian, "%.4f"))
        cells.append(number(summary.cpuSecondsPerThousandExecsSeenMedian, "%.4f"))
        cells.append(bpf)
        cells.append("\(summary.generated)")
        cells.append(count(summary.delivered))
        cells.append(count(summary.lost))
        cells.append(count(summary.missing))
        cells.append(markers)
        cells.append(summary.idleLatency?.text ?? "-")
        cells.append(summary.stormLatency?.text ?? "-")
        cells.append(summary.stormLatencySinceEvent?.text ?? "-")
        cells.append(number(peakMiB, "%.1f"))
        lines.append("| " + cells.joined(separator: " | ") + " |")
    }
    return lines.joined(separator: "\n")
}

/// Everything a run produced, as written to results.json.
struct Results: Codable {
    var command: String
    var build: String
    var warning: String?
    var kernel: String
    var cpus: Int
    var started: String
    var sensor: String
    var method: String
    var target: String
    var durationSeconds: Double
    var rounds: Int
    /// Programs of other tools that ran during the comparison.
    var otherPrograms: [LoadedProgram]
    var samples: [Sample]
    var summary: [Summary]
}
