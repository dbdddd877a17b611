import Foundation
import Testing
@testable import ExecwardenCore

/// The newer unshare revision (v10) on real execs, next to v9: its
/// exclusions on the parent's arguments, and the java parent that now only
/// cancels the snap exclusion.
@Suite("Kernel unshare revisions")
struct KernelUnshareRevisionTests {
    let harness: KernelHarness

    init() throws {
        harness = try KernelHarness.require()
    }

    /// Runs `unshare --uts true MARKER` from `/bin/sh -c` with the shell's
    /// own arguments ending in `parentArguments`, and waits for its event.
    /// The trailing `true` keeps the shell from exec'ing unshare in place.
    private func unshareUnderShell(_ marker: String, parentArguments: [String]) async throws -> ExecEvent {
        try Shell.run(
            executable: "/bin/sh",
            arguments: ["-c", "unshare --uts true \(marker); true"] + parentArguments)
        let events = await harness.events(count: 1) {
            $0.hasArgument(marker) && $0.nameString == "unshare"
        }
        return try #require(events.first)
    }

    @Test("plain unshare alerts in both revisions")
    func plainUnshare() async throws {
        let marker = Shell.marker("v10-plain")
        let event = try await unshareUnderShell(marker, parentArguments: ["sh"])
        #expect(event.executableString == "/usr/bin/unshare")
        #expect(harness.alerts(version: 9) { $0.hasArgument(marker) }.count == 1)
        let v10 = harness.alerts(version: 10) { $0.hasArgument(marker) }
        #expect(v10.count == 1)
        #expect(v10.first?.verdict == .match)
    }

    @Test("parent args exclusions", arguments: [
        "/usr/sbin/sshd", "/opt/openssh/sbin/sshd", "/etc/kernel/postinst.d/zz-proxmox-boot",
        "/snap/core22/current/usr/lib/snapd/snap-confine", "/home/user/.local/share/JetBrains/Toolbox/bin/t",
    ])
    func parentArgsExclude(_ parentArgument: String) async throws {
        let marker = Shell.marker("v10-parent-args")
        let event = try await unshareUnderShell(marker, parentArguments: [parentArgument])
        #expect(event.executableString == "/usr/bin/unshare")
        #expect(harness.alerts(version: 9) { $0.hasArgument(marker) }.count == 1)
        #expect(harness.alerts(version: 10) { $0.hasArgument(marker) }.isEmpty)
    }

    @Test("parent args near a pattern do not exclude")
    func parentArgsNearMiss() async throws {
        let marker = Shell.marker("v10-near")
        _ = try await unshareUnderShell(marker, parentArguments: ["/usr/sbin/sshd2", "/SNAP/x"])
        let v10 = harness.alerts(version: 10) { $0.hasArgument(marker) }
        #expect(v10.count == 1)
        #expect(v10.first?.verdict == .match)
    }

    @Test("java parent: v9 excludes, v10 alerts")
    func javaParent() async throws {
        let directory = try Shell.makeDirectory("v10-java")
        defer { Shell.remove(directory) }
        let java = "\(directory)/java"
        try FileManager.default.copyItem(
            atPath: URL(fileURLWithPath: "/usr/bin/python3").resolvingSymlinksInPath().path, toPath: java)
        let marker = Shell.marker("v10-java")
        try Shell.run(executable: java, arguments: [
            "-c", "import subprocess; subprocess.run(['/usr/bin/unshare', '--uts', 'true', '\(marker)'])",
        ])
        let events = await harness.events(count: 1) { $0.hasArgument(marker) && $0.nameString == "unshare" }
        #expect(events.first?.parentNameString == "java")
        #expect(harness.alerts(version: 9) { $0.hasArgument(marker) }.isEmpty)
        #expect(harness.alerts(version: 10) { $0.hasArgument(marker) }.count == 1)
    }
}
