import CExecwarden
import Glibc

/// The processes that were running before the probe was attached, read from
/// /proc, so that the records of their children carry
/// `process.parent.args` too.
enum RunningProcesses {
    /// Adds the argv of every running process to the probe's table, except
    /// where the probe already keeps one (it execed or forked since the
    /// probe was attached). A process that cannot be read, or that has no
    /// argv (a kernel thread), is skipped, and its children's records then
    /// flag their parent's argv as unknown.
    // NOTE: /proc shows a process's argv area as it is now. A process that
    // rewrote it (setproctitle) shows the new text, not its argv at exec.
    static func addArguments(to handle: OpaquePointer?) {
        guard let directory = opendir("/proc") else { return }
        defer { closedir(directory) }
        let ticks = sysconf(Int32(_SC_CLK_TCK))
        let granularity = UInt64(1_000_000_000 / (ticks > 0 ? ticks : 100))
        var entry = ew_process_args()
        while let item = readdir(directory) {
            let name = withUnsafeBytes(of: item.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            guard let pid = parsePID(name) else { continue }
            guard let startTicks = startTicks(pid: pid),
                  fillArguments(&entry, pid: pid)
            else { continue }
            entry.start_time_ns = startTicks * granularity
            entry.start_time_granularity_ns = UInt32(granularity)
            var error = ew_error()
            _ = ew_probe_add_process_args(handle, pid, &entry, &error)
        }
    }

    private static func parsePID(_ name: [UInt8]) -> UInt32? {
        guard !name.isEmpty, name.count <= 10,
              name.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { return nil }
        return UInt32(exactly: name.reduce(UInt64(0)) { $0 * 10 + UInt64($1 - UInt8(ascii: "0")) })
    }

    /// Returns the start time in clock ticks since boot: field 22 of
    /// /proc/PID/stat, counted after the comm, which may contain any byte.
    static func startTicks(pid: UInt32) -> UInt64? {
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = readFile("/proc/\(pid)/stat", into: &buffer)
        guard count > 0, let close = buffer[..<count].lastIndex(of: UInt8(ascii: ")")) else {
            return nil
        }
        let fields = buffer[(close + 1)..<count].split(separator: UInt8(ascii: " "))
        // Fields after the comm start at field 3 (state), so field 22,
        // starttime, is the twentieth.
        guard fields.count > 19 else { return nil }
        var value: UInt64 = 0
        for byte in fields[fields.startIndex + 19] {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value &* 10 &+ UInt64(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// Reads /proc/PID/cmdline into `entry`: the first EW_PARENT_ARGS_MAX
    /// bytes, the element count of the whole area, and the truncation flag.
    /// Returns false for an empty area.
    static func fillArguments(_ entry: inout ew_process_args, pid: UInt32) -> Bool {
        let descriptor = open("/proc/\(pid)/cmdline", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        let capacity = Int(EW_PARENT_ARGS_MAX)
        var total = 0
        var elements: UInt32 = 0
        var lastByte: UInt8 = 0
        var chunk = [UInt8](repeating: 0, count: 65536)
        withUnsafeMutableBytes(of: &entry.args) { kept in
            while true {
                let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                for index in 0..<count where chunk[index] == 0 { elements += 1 }
                if total < capacity {
                    let copied = min(count, capacity - total)
                    kept.baseAddress!.advanced(by: total).copyMemory(from: chunk, byteCount: copied)
                }
                total += count
                lastByte = chunk[count - 1]
            }
        }
        guard total > 0 else { return false }
        // An area that does not end in NUL ends with an element all the same.
        if lastByte != 0 { elements += 1 }
        entry.argc = elements
        entry.length = UInt32(min(total, capacity))
        entry.flags = total > capacity ? EW_FLAG_PARENT_ARGS_TRUNCATED.rawValue : 0
        return true
    }

    private static func readFile(_ path: String, into buffer: inout [UInt8]) -> Int {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return -1 }
        defer { close(descriptor) }
        var count: Int
        repeat {
            count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        } while count < 0 && errno == EINTR
        return count
    }
}
