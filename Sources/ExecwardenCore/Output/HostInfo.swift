import Foundation
import Glibc
import Synchronization

/// Facts about the host that every document carries, collected once at
/// startup, and the offset that converts boot-time clock readings to
/// wall-clock time.
public final class HostInfo: Sendable {
    /// The name from `gethostname`, rendered as `host.name` and
    /// `host.hostname`.
    public let hostname: String
    /// The contents of /etc/machine-id, or of /var/lib/dbus/machine-id when
    /// that is missing, rendered as `host.id`. Empty when neither exists.
    public let machineID: String
    /// /proc/sys/kernel/random/boot_id, rendered as `host.boot.id`.
    public let bootID: String
    /// `uname` release, such as "6.1.0-28-amd64".
    public let kernelRelease: String
    /// `uname` machine, such as "x86_64" or "aarch64".
    public let architecture: String
    public let os: OSRelease
    /// The inode numbers of the host's namespaces, indexed by
    /// `NamespaceKind.rawValue`, as `readHostNamespaceInodes` finds them.
    /// An entry is nil when no source could be read, so the comparison is
    /// unknown.
    public let namespaceInodes: [UInt32?]
    /// Messages about facts that could not be read during collection, for
    /// the caller to log.
    public let problems: [String]

    private let clockOffset: Atomic<Int64>

    /// Creates host facts from given values, for tests and for callers
    /// that collect them another way. A namespace missing from
    /// `namespaceInodes` is unknown.
    public init(hostname: String, machineID: String, bootID: String, kernelRelease: String,
                architecture: String, os: OSRelease, clockOffsetNanoseconds: Int64,
                namespaceInodes: [NamespaceKind: UInt32] = [:], problems: [String] = []) {
        self.hostname = hostname
        self.machineID = machineID
        self.bootID = bootID
        self.kernelRelease = kernelRelease
        self.architecture = architecture
        self.os = os
        self.namespaceInodes = NamespaceKind.allCases.map { namespaceInodes[$0] }
        self.problems = problems
        clockOffset = Atomic(clockOffsetNanoseconds)
    }

    /// Collects the facts of the running host. A fact that cannot be read
    /// is left empty and described in `problems`.
    public static func current() -> HostInfo {
        var problems: [String] = []
        let machineID = readFirstLine(["/etc/machine-id", "/var/lib/dbus/machine-id"]) ?? ""
        if machineID.isEmpty {
            problems.append("machine id not found in /etc/machine-id or /var/lib/dbus/machine-id, so host.id is omitted")
        }
        let bootID = readFirstLine(["/proc/sys/kernel/random/boot_id"]) ?? ""
        if bootID.isEmpty {
            problems.append("boot id not found in /proc/sys/kernel/random/boot_id, so host.boot.id is omitted")
        }
        let osText = readFile(["/etc/os-release", "/usr/lib/os-release"])
        if osText == nil {
            problems.append("cannot read /etc/os-release or /usr/lib/os-release, so host.os fields other than type and kernel are omitted")
        }
        let names = kernelNames()
        let namespaces = readHostNamespaceInodes()
        if let problem = namespaces.problem {
            problems.append(problem)
        }
        return HostInfo(
            hostname: currentHostname(), machineID: machineID, bootID: bootID,
            kernelRelease: names.release, architecture: names.machine,
            os: OSRelease(parsing: osText ?? ""), clockOffsetNanoseconds: measureClockOffset(),
            namespaceInodes: namespaces.inodes, problems: problems)
    }

    /// Returns the host's inode number for a namespace kind, or nil when
    /// it could not be read.
    public func namespaceInode(_ kind: NamespaceKind) -> UInt32? {
        namespaceInodes[kind.rawValue]
    }

    // MARK: Clock

    /// CLOCK_REALTIME minus CLOCK_BOOTTIME, in nanoseconds.
    public var clockOffsetNanoseconds: Int64 {
        clockOffset.load(ordering: .relaxed)
    }

    /// Measures the clock offset again, to follow a change of the wall
    /// clock such as an NTP step or `settimeofday`. The boot-time clock
    /// itself is never set.
    public func refreshClockOffset() {
        clockOffset.store(Self.measureClockOffset(), ordering: .relaxed)
    }

    /// Converts a boot-time clock reading to nanoseconds since the Unix
    /// epoch, with the offset measured last.
    public func wallClockNanoseconds(bootNanoseconds: UInt64) -> Int64 {
        Int64(truncatingIfNeeded: bootNanoseconds) &+ clockOffsetNanoseconds
    }

    /// Reads CLOCK_REALTIME, CLOCK_BOOTTIME and CLOCK_REALTIME again and
    /// keeps the offset from the attempt whose two wall-clock readings were
    /// closest, so a preemption between the reads does not skew it.
    static func measureClockOffset() -> Int64 {
        var bestOffset: Int64 = 0
        var bestSpread = Int64.max
        for _ in 0..<5 {
            let before = readClock(CLOCK_REALTIME)
            let boot = readClock(CLOCK_BOOTTIME)
            let after = readClock(CLOCK_REALTIME)
            let spread = after - before
            if spread >= 0 && spread < bestSpread {
                bestSpread = spread
                bestOffset = before + spread / 2 - boot
            }
        }
        return bestOffset
    }

    /// Returns a clock's reading in nanoseconds.
    static func readClock(_ clock: clockid_t) -> Int64 {
        var time = timespec()
        clock_gettime(clock, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    // MARK: Collection

    private static func currentHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func kernelNames() -> (release: String, machine: String) {
        var names = utsname()
        guard uname(&names) == 0 else { return ("", "") }
        let release = withUnsafeBytes(of: names.release) { cString($0) }
        let machine = withUnsafeBytes(of: names.machine) { cString($0) }
        return (release, machine)
    }

    private static func cString(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Returns the contents of the first of `paths` that can be read.
    private static func readFile(_ paths: [String]) -> String? {
        for path in paths {
            if let text = try? String(contentsOfFile: path, encoding: .utf8) {
                return text
            }
        }
        return nil
    }

    /// Returns the first line of the first of `paths` whose first line is
    /// not blank, trimmed. An empty /etc/machine-id, common in container
    /// images, thus falls through to the next path.
    private static func readFirstLine(_ paths: [String]) -> String? {
        for path in paths {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            let line = text.prefix { !$0.isNewline }.trimmingCharacters(in: .whitespaces)
            if !line.isEmpty {
                return line
            }
        }
        return nil
    }
}
