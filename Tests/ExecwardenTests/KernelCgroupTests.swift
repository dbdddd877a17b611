import Foundation
import Testing
@testable import ExecwardenCore

/// The cgroup path and id on the real kernel, compared with what
/// /proc/self/cgroup and the cgroup file systems show for the same cgroup.
@Suite("Kernel cgroup fields")
struct KernelCgroupTests {
    @Test("Cgroup path and id name the test's own cgroup")
    func ownCgroup() async throws {
        let harness = try KernelHarness.require()
        let marker = Shell.marker("cgroup")
        try Shell.run(executable: "/bin/true", arguments: [marker])
        let events = await harness.events(count: 1) { $0.hasArgument(marker) }
        let event = try #require(events.first)
        let path = String(decoding: event.cgroupPath, as: UTF8.self)
        #expect(!event.flags.contains(.cgroupPathTruncated))

        // The probe reads the v2 hierarchy unless the task sits at its
        // root, and then the memory controller's v1 hierarchy.
        let lines = try String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)
            .split(separator: "\n")
        func cgroup(of hierarchy: String) -> String? {
            lines.first { $0.split(separator: ":", maxSplits: 2).dropFirst().first.map(String.init) == hierarchy }
                .map { String($0.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)[2]) }
        }
        let unified = cgroup(of: "") ?? "/"
        let expected = unified != "/" ? unified : cgroup(of: "memory") ?? "/"
        #expect(path == expected)

        let mounts = unified != "/"
            ? ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] : ["/sys/fs/cgroup/memory"]
        let inodes = mounts.compactMap { mount -> UInt64? in
            var status = stat()
            return stat(mount + (path == "/" ? "" : path), &status) == 0 ? UInt64(status.st_ino) : nil
        }
        #expect(inodes.contains(event.cgroupID))
    }
}
