import Foundation

/// The effective capability set of this process, read from
/// /proc/self/status.
struct Capabilities {
    static let sysAdmin = 21
    static let perfmon = 38
    static let bpf = 39

    let effective: UInt64

    static func current() -> Capabilities {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
            return Capabilities(effective: 0)
        }
        for line in status.split(separator: "\n") where line.hasPrefix("CapEff:") {
            let hex = line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces)
            return Capabilities(effective: UInt64(hex, radix: 16) ?? 0)
        }
        return Capabilities(effective: 0)
    }

    func contains(_ capability: Int) -> Bool {
        effective & (1 << UInt64(capability)) != 0
    }

    /// Loading a tracing program and reading kernel memory needs CAP_BPF and
    /// CAP_PERFMON since Linux 5.8, or CAP_SYS_ADMIN.
    var canLoadTracingPrograms: Bool {
        contains(Self.sysAdmin) || (contains(Self.bpf) && contains(Self.perfmon))
    }
}
