import Foundation
import Testing
@testable import ExecwardenCore

/// Real execs in new namespaces, checked in the rendered event lines.
@Suite("Namespace fields on the real kernel")
struct NamespaceKernelTests {
    let harness: KernelHarness

    init() throws {
        harness = try KernelHarness.require()
    }

    /// Returns the event document of the exec named `name` with `marker`.
    private func document(named name: String, marker: String) async throws -> [String: Any] {
        let events = await harness.events(count: 1) { $0.hasArgument(marker) && $0.nameString == name }
        try #require(events.count == 1, "no event line for \(name) \(marker)")
        let lines = harness.lines { $0.hasArgument(marker) && $0.nameString == name }
        let eventLine = try #require(lines.first { !$0.isAlert })
        return eventLine.document
    }

    private static func execwarden(_ document: [String: Any], _ key: String) -> [String: Any]? {
        (document["execwarden"] as? [String: Any])?[key] as? [String: Any]
    }

    @Test("exec in new net and uts namespaces")
    func newNamespaces() async throws {
        let marker = Shell.marker("nsdiff")
        let outcome = try Shell.run(executable: "/usr/bin/unshare", arguments: ["-n", "-u", "--", "/bin/true", marker])
        try #require(outcome.status == 0, "unshare failed: \(outcome.errorOutput)")

        let unshare = try await document(named: "unshare", marker: marker)
        let payload = try await document(named: "true", marker: marker)

        let request = try #require(Self.execwarden(unshare, "unshare"))
        #expect(request["summary"] as? String == "new network + UTS namespace")
        #expect(request["namespaces"] as? [String] == ["net", "uts"])
        #expect(Self.execwarden(payload, "unshare") == nil)

        let before = try #require(Self.execwarden(unshare, "namespace")?["differs_from_host"] as? [String: Bool])
        let after = try #require(Self.execwarden(payload, "namespace")?["differs_from_host"] as? [String: Bool])
        #expect(after["net"] == true)
        #expect(after["uts"] == true)
        for kind in ["mnt", "pid", "user", "ipc", "cgroup"] {
            #expect(after[kind] != nil, "\(kind)")
            #expect(after[kind] == before[kind], "\(kind)")
        }
    }
}
