import CExecwardenBench
import Glibc

/// Readings of a process from /proc.
enum ProcessStatistics {
    /// User plus system CPU time of the process, in seconds, or nil when it
    /// has exited.
    static func cpuSeconds(pid: pid_t) -> Double? {
        guard let text = readProcFile("/proc/\(pid)/stat"),
            let nameEnd = text.lastIndex(of: ")")
        else { return nil }
        // Fields after the name start with the state (field 3); utime and
        // stime are fields 14 and 15, in clock ticks.
        let fields = text[text.index(after: nameEnd)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12])
        else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Peak resident set size (VmHWM) in KiB, or nil.
    static func peakResidentKiB(pid: pid_t) -> UInt64? {
        guard let text = readProcFile("/proc/\(pid)/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return words.count > 1 ? UInt64(words[1]) : nil
        }
        return nil
    }

    /// Returns the ids of the BPF programs that the process has open
    /// descriptors for: a program's own, or a link's.
    static func bpfProgramIDs(pid: pid_t) -> Set<UInt32> {
        var ids = Set<UInt32>()
        guard let directory = opendir("/proc/\(pid)/fdinfo") else { return ids }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.first?.isNumber == true,
                let text = readProcFile("/proc/\(pid)/fdinfo/\(name)")
            else { continue }
            for line in text.split(separator: "\n") where line.hasPrefix("prog_id:") {
                if let id = UInt32(String(line.dropFirst("prog_id:".count).filter(\.isNumber))) {
                    ids.insert(id)
                }
            }
        }
        return ids
    }
}

/// Reads a whole file that may report size 0, as /proc files do.
func readProcFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        if count < 0 { return nil }
        if count == 0 { break }
        bytes.append(contentsOf: buffer[0..<count])
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// A BPF program loaded on the host and its statistics at one moment.
struct LoadedProgram: Codable {
    var id: UInt32
    var name: String
    var runTimeNanoseconds: UInt64
    var runs: UInt64

    /// Reads every program loaded now, by id.
    static func all() -> [UInt32: LoadedProgram] {
        var programs: [UInt32: LoadedProgram] = [:]
        var id: UInt32 = 0
        while ewb_next_prog_id(id, &id) == 0 {
            var stats = ewb_prog_stats()
            guard ewb_prog_stats(id, &stats) == 0 else { continue }
            let name = withUnsafeBytes(of: stats.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            programs[id] = LoadedProgram(
                id: id, name: name, runTimeNanoseconds: stats.run_time_ns, runs: stats.run_count)
        }
        return programs
    }

    /// Programs loaded at both readings that ran in between, with the run
    /// time and runs of that interval: other tools' programs, which slow
    /// every subject's execs alike.
    static func ranBetween(
        _ start: [UInt32: LoadedProgram], _ end: [UInt32: LoadedProgram]
    ) -> [LoadedProgram] {
        end.values.compactMap { program in
            guard let before = start[program.id], program.runs > before.runs else { return nil }
            return LoadedProgram(
                id: program.id, name: program.name,
                runTimeNanoseconds: program.runTimeNanoseconds &- before.runTimeNanoseconds,
                runs: program.runs - before.runs)
        }.sorted { $0.id < $1.id }
    }
}

/// Summed run time and run count of a set of BPF programs, from the
/// kernel's run-time statistics.
struct BPFRunTotals {
    var runTimeNanoseconds: UInt64 = 0
    /// The largest run count among the programs: one per exec for a program
    /// on sched_process_exec, and one per execve call for each of a
    /// syscall tracer's entry and exit programs.
    var runCount: UInt64 = 0
    var names: [String] = []

    static func read(programIDs: Set<UInt32>) -> BPFRunTotals {
        var totals = BPFRunTotals()
        for id in programIDs.sorted() {
            var stats = ewb_prog_stats()
            guard ewb_prog_stats(id, &stats) == 0 else { continue }
            totals.runTimeNanoseconds += stats.run_time_ns
            totals.runCount = max(totals.runCount, stats.run_count)
            let name = withUnsafeBytes(of: stats.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            totals.names.append(name)
        }
        return totals
    }

    /// Run time per run between two readings, in nanoseconds, or nil when
    /// the programs did not run.
    static func nanosecondsPerRun(from start: BPFRunTotals, to end: BPFRunTotals) -> Double? {
        guard end.runCount > start.runCount else { return nil }
        return Double(end.runTimeNanoseconds &- start.runTimeNanoseconds)
            / Double(end.runCount - start.runCount)
    }
}
