import Foundation
import Glibc
import Testing
@testable import ExecwardenCore

@Suite("Namespaces compared with the host")
struct HostNamespaceTests {
    /// The fixture event's inodes, in `NamespaceKind` order.
    static let eventInodes = ECSDocumentFixture.event().namespaceInodes

    static func host(_ inodes: [NamespaceKind: UInt32]) -> HostInfo {
        let fixture = ECSDocumentFixture.host
        return HostInfo(
            hostname: fixture.hostname, machineID: fixture.machineID, bootID: fixture.bootID,
            kernelRelease: fixture.kernelRelease, architecture: fixture.architecture, os: fixture.os,
            clockOffsetNanoseconds: fixture.clockOffsetNanoseconds, namespaceInodes: inodes)
    }

    static func render(_ event: ExecEvent, host: HostInfo, alert: Bool = false) throws -> [String: Any] {
        let renderer = ECSRenderer(host: host, accountNames: ECSDocumentFixture.accounts)
        let line = alert
            ? renderer.renderAlert(event, rule: ECSDocumentFixture.rule, uncertain: false, createdNanoseconds: 0)
            : renderer.renderEvent(event, createdNanoseconds: 0)
        return try ECSDocumentFixture.parse(line)
    }

    static func differences(_ document: [String: Any]) -> [String: Bool]? {
        let execwarden = document["execwarden"] as? [String: Any]
        let namespace = execwarden?["namespace"] as? [String: Any]
        return namespace?["differs_from_host"] as? [String: Bool]
    }

    @Test("same and different inodes", arguments: [false, true])
    func sameAndDifferent(alert: Bool) throws {
        // The host shares mnt, uts and net with the event; the others differ.
        var inodes: [NamespaceKind: UInt32] = [:]
        for kind in NamespaceKind.allCases {
            let eventInode = Self.eventInodes[kind.rawValue]
            inodes[kind] = [.mnt, .uts, .net].contains(kind) ? eventInode : eventInode + 100
        }
        let document = try Self.render(ECSDocumentFixture.event(), host: Self.host(inodes), alert: alert)
        let differences = try #require(Self.differences(document))
        #expect(differences == [
            "mnt": false, "uts": false, "net": false,
            "pid": true, "user": true, "ipc": true, "cgroup": true,
        ])
    }

    @Test("unknown host namespace is omitted")
    func unknownHostNamespace() throws {
        let inodes: [NamespaceKind: UInt32] = [.user: Self.eventInodes[NamespaceKind.user.rawValue], .pid: 1]
        let document = try Self.render(ECSDocumentFixture.event(), host: Self.host(inodes))
        let differences = try #require(Self.differences(document))
        #expect(differences == ["user": false, "pid": true])
    }

    @Test("unknown exec namespace is omitted")
    func unknownEventNamespace() throws {
        var inodes: [NamespaceKind: UInt32] = [:]
        for kind in NamespaceKind.allCases {
            inodes[kind] = 1
        }
        var event = ECSDocumentFixture.event()
        event.namespaceInodes[NamespaceKind.net.rawValue] = 0
        let differences = try #require(Self.differences(try Self.render(event, host: Self.host(inodes))))
        #expect(differences["net"] == nil)
        #expect(differences["mnt"] == true)
        #expect(differences.count == NamespaceKind.allCases.count - 1)
    }

    @Test("no host namespaces, no comparison")
    func noHostNamespaces() throws {
        let document = try Self.render(ECSDocumentFixture.event(), host: Self.host([:]))
        #expect(Self.differences(document) == nil)
        let execwarden = try #require(document["execwarden"] as? [String: Any])
        let namespace = try #require(execwarden["namespace"] as? [String: Any])
        #expect(namespace["differs_from_host"] == nil)
        #expect((namespace["mnt"] as? NSNumber)?.uint32Value == Self.eventInodes[NamespaceKind.mnt.rawValue])
    }

    /// Returns the inode a namespace link names ("mnt:[4026531841]"), or
    /// nil when the link cannot be read.
    static func linkedInode(_ path: String) -> UInt32? {
        var buffer = [CChar](repeating: 0, count: 64)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        let link = String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return UInt32(link.drop { $0 != "[" }.dropFirst().prefix { $0 != "]" })
    }

    @Test("current host matches pid 1 or kthreadd")
    func currentHost() throws {
        let host = HostInfo.current()
        let kthreaddStat = try String(contentsOfFile: "/proc/2/stat", encoding: .utf8)
        let hasKthreadd = kthreaddStat.hasPrefix("2 (kthreadd) S 0 ") || kthreaddStat.hasPrefix("2 (kthreadd) I 0 ")
        for kind in NamespaceKind.allCases {
            let fromInit = Self.linkedInode("/proc/1/ns/\(kind.name)")
            let fromKthreadd = hasKthreadd ? Self.linkedInode("/proc/2/ns/\(kind.name)") : nil
            #expect(host.namespaceInode(kind) == fromInit ?? fromKthreadd, "\(kind.name)")
        }
    }

    /// Creates a fake /proc with the given namespace links (as plain files)
    /// and /proc/2/stat text, and removes it after `body`.
    static func withFakeProc(
        initLinks: [String], kthreaddLinks: [String], kthreaddStat: String,
        _ body: (String) throws -> Void
    ) throws {
        let root = "/tmp/fidelity-fields-proc-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        for (pid, links) in [("1", initLinks), ("2", kthreaddLinks)] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(pid)/ns", withIntermediateDirectories: true)
            for link in links {
                try Data().write(to: URL(fileURLWithPath: "\(root)/\(pid)/ns/\(link)"))
            }
        }
        try Data(kthreaddStat.utf8).write(to: URL(fileURLWithPath: "\(root)/2/stat"))
        try body(root)
    }

    static func inode(_ path: String) -> UInt32? {
        var status = stat()
        return stat(path, &status) == 0 ? UInt32(truncatingIfNeeded: status.st_ino) : nil
    }

    @Test("init links come first")
    func initLinksFirst() throws {
        let all = NamespaceKind.allCases.map(\.name)
        try Self.withFakeProc(initLinks: all, kthreaddLinks: all, kthreaddStat: "2 (kthreadd) S 0 0 0") { root in
            let result = HostInfo.readHostNamespaceInodes(procDirectory: root)
            #expect(result.problem == nil)
            #expect(result.inodes[.mnt] == Self.inode("\(root)/1/ns/mnt"))
            #expect(result.inodes[.mnt] != Self.inode("\(root)/2/ns/mnt"))
            #expect(result.inodes.count == NamespaceKind.allCases.count)
        }
    }

    @Test("kthreadd fills unreadable init links")
    func kthreaddFallback() throws {
        let all = NamespaceKind.allCases.map(\.name)
        try Self.withFakeProc(initLinks: ["mnt"], kthreaddLinks: all, kthreaddStat: "2 (kthreadd) S 0 0 0 0") { root in
            let result = HostInfo.readHostNamespaceInodes(procDirectory: root)
            #expect(result.problem == nil)
            #expect(result.inodes[.mnt] == Self.inode("\(root)/1/ns/mnt"))
            #expect(result.inodes[.user] == Self.inode("\(root)/2/ns/user"))
            #expect(result.inodes.count == NamespaceKind.allCases.count)
        }
    }

    @Test("pid 2 that is not kthreadd is ignored", arguments: [
        "2 (kthreadd) S 1 2 2",
        "2 (sh) S 0 0 0",
        "2 (kthreadd",
        "",
    ])
    func impostorIgnored(stat: String) throws {
        let all = NamespaceKind.allCases.map(\.name)
        try Self.withFakeProc(initLinks: ["mnt", "net"], kthreaddLinks: all, kthreaddStat: stat) { root in
            let result = HostInfo.readHostNamespaceInodes(procDirectory: root)
            #expect(result.inodes[.mnt] != nil)
            #expect(result.inodes[.net] != nil)
            #expect(result.inodes[.user] == nil)
            #expect(result.inodes.count == 2)
            let problem = try #require(result.problem)
            #expect(problem.hasPrefix("cannot read the host's pid, user, uts, ipc, cgroup namespace inodes ("))
            #expect(problem.contains("\(root)/1/ns/user: No such file or directory"))
            #expect(!problem.contains("/ns/mnt"))
        }
    }

    @Test("kthreadd name with spaces and parentheses")
    func statParsing() throws {
        try Self.withFakeProc(initLinks: [], kthreaddLinks: [], kthreaddStat: "2 (a) (kthreadd) S 0 0") { root in
            #expect(!HostInfo.isKernelThreadDaemon(processDirectory: root + "/2"))
        }
        try Self.withFakeProc(initLinks: [], kthreaddLinks: [], kthreaddStat: "2 (kthreadd) I 0 0 0\n") { root in
            #expect(HostInfo.isKernelThreadDaemon(processDirectory: root + "/2"))
        }
    }
}
