/// The measurements of one storm with one subject.
struct Sample: Codable {
    var subject: SubjectKind
    var workers: Int
    var round: Int
    /// Storm execs that exited with status 0, from the generator's counts.
    var generated: UInt64
    var failures: UInt64
    var seconds: Double
    var execsPerSecond: Double
    /// execs/s divided by that of the same round's storm with no sensor,
    /// and with the control.
    var ratioToNone: Double?
    var ratioToControl: Double?
    /// User plus system CPU of the subject's process during the storm and
    /// until it went quiet after it.
    var cpuSeconds: Double?
    var cpuSecondsPerThousandExecs: Double?
    /// The same CPU over the execs the subject's programs saw on the host
    /// (their run count), which include other processes' execs.
    var cpuSecondsPerThousandExecsSeen: Double?
    /// The subject's BPF programs: summed run time over the storm, runs
    /// (host-wide, so other processes' execs count too), and time per run.
    var bpfRunTimeNanoseconds: UInt64?
    var bpfRuns: UInt64?
    var bpfNanosecondsPerExec: Double?
    var bpfPrograms: [String]?
    /// Output lines (or control counts) belonging to the storm.
    var delivered: UInt64?
    /// Events the subject counted as lost, all stages summed.
    var lost: UInt64?
    /// Storm execs with no output line, for subjects that print every exec.
    /// More missing than lost means an exec was lost without being counted.
    var missing: UInt64?
    /// execwarden's totals line at exit.
    var totals: [String: UInt64]?
    var markersSent: Int?
    var markersAlerted: Int?
    /// Marker exec to alert line read, in milliseconds, sorted.
    var idleLatencyMilliseconds: [Double]?
    var stormLatencyMilliseconds: [Double]?
    /// The alert's `@timestamp` to its line read, in milliseconds, sorted.
    var idleLatencySinceEventMilliseconds: [Double]?
    var stormLatencySinceEventMilliseconds: [Double]?
    var peakResidentKiB: UInt64?
}

/// Value at quantile q (0...1) of sorted values, nearest rank.
func quantile(_ sorted: [Double], _ q: Double) -> Double? {
    guard !sorted.isEmpty else { return nil }
    let rank = Int((q * Double(sorted.count)).rounded(.up))
    return sorted[min(max(rank - 1, 0), sorted.count - 1)]
}

func median(_ values: [Double]) -> Double? {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return nil }
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
