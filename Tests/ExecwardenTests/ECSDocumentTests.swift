import Foundation
import Testing
@testable import ExecwardenCore

/// Builds documents from hand-made events on a fixed host, with a clock
/// offset of exactly 1_796_000_000 seconds and a fake account database.
struct ECSDocumentFixture {
    static let machineID = "0123456789abcdef0123456789abcdef"
    static let bootID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    static let clockOffset: Int64 = 1_796_000_000_000_000_000
    static let created: Int64 = 1_796_403_971_000_000_000
    static let containerHex = String(repeating: "0123456789abcdef", count: 4)

    static let host = HostInfo(
        hostname: "sensor-1", machineID: machineID, bootID: bootID,
        kernelRelease: "6.1.0-28-amd64", architecture: "x86_64",
        os: OSRelease(name: "Debian GNU/Linux", version: "12",
                      prettyName: "Debian GNU/Linux 12 (bookworm)", id: "debian", family: "debian"),
        clockOffsetNanoseconds: clockOffset)

    static let accounts = AccountNames(
        userLookup: { [0: "root", 1000: "alice"][$0] },
        groupLookup: { [0: "root", 1000: "staff"][$0] })

    /// `unshare -r bash` run by uid 1000 from bash.
    static func event() -> ExecEvent {
        ExecEvent(
            pid: 4242, tid: 4243, parentPID: 100, namespacePID: 42, namespaceParentPID: 1,
            uid: 1000, euid: 1000, gid: 1000, egid: 1000, argc: 3,
            eventTimeNanoseconds: 403_971_123_456_789, startTimeNanoseconds: 403_971_000_000_001,
            parentStartTimeNanoseconds: 12_000_000_000, cgroupID: 7777,
            namespaceInodes: [4_026_531_841, 4_026_531_836, 4_026_531_837, 4_026_531_838,
                              4_026_531_839, 4_026_531_840, 4_026_531_835],
            name: Array("unshare".utf8), parentName: Array("bash".utf8),
            args: [Array("unshare".utf8), Array("-r".utf8), Array("bash".utf8)],
            executable: Array("/usr/bin/unshare".utf8), parentExecutable: Array("/usr/bin/bash".utf8),
            cgroupPath: Array("/user.slice/user-0.slice/session-3.scope".utf8))
    }

    static let rule = RuleMetadata(
        ruleID: "b2c3d4e5-0000-4000-8000-000000000001",
        name: "Namespace Manipulation Using Unshare", version: 3,
        description: "Detects unshare.", severity: "medium", riskScore: 47,
        author: ["Elastic", "execwarden"], license: "Elastic License v2",
        references: ["https://man7.org/linux/man-pages/man1/unshare.1.html", "https://example.org/second"],
        tags: ["OS: Linux", "Tactic: Privilege Escalation"],
        threats: [
            .init(framework: "MITRE ATT&CK",
                  tactic: .init(id: "TA0004", name: "Privilege Escalation",
                                url: "https://attack.mitre.org/tactics/TA0004/"),
                  techniques: [.init(
                      reference: .init(id: "T1548", name: "Abuse Elevation Control Mechanism",
                                       url: "https://attack.mitre.org/techniques/T1548/"),
                      subtechniques: [.init(id: "T1548.001", name: "Setuid and Setgid",
                                            url: "https://attack.mitre.org/techniques/T1548/001/")])]),
            .init(framework: "MITRE ATT&CK",
                  tactic: .init(id: "TA0004", name: "Privilege Escalation",
                                url: "https://attack.mitre.org/tactics/TA0004/"),
                  techniques: [.init(
                      reference: .init(id: "T1611", name: "Escape to Host",
                                       url: "https://attack.mitre.org/techniques/T1611/"))]),
        ])

    static func renderer() -> ECSRenderer {
        ECSRenderer(host: host, accountNames: accounts, agentVersion: "1.2.3")
    }

    static func renderEvent(_ event: ExecEvent) throws -> [String: Any] {
        try parse(renderer().renderEvent(event, createdNanoseconds: created))
    }

    static func renderAlert(_ event: ExecEvent, rule: RuleMetadata = rule, uncertain: Bool = false) throws -> [String: Any] {
        try parse(renderer().renderAlert(event, rule: rule, uncertain: uncertain, createdNanoseconds: created))
    }

    static func parse(_ line: ArraySlice<UInt8>) throws -> [String: Any] {
        #expect(!line.contains(0x0A))
        let object = try JSONSerialization.jsonObject(with: Data(line))
        return try #require(object as? [String: Any])
    }
}

/// Returns the value at a dotted path of nested objects.
private func value(_ document: [String: Any], _ path: String) -> Any? {
    var current: Any? = document
    for key in path.split(separator: ".") {
        current = (current as? [String: Any])?[String(key)]
    }
    return current
}

private func string(_ document: [String: Any], _ path: String) -> String? {
    value(document, path) as? String
}

private func int(_ document: [String: Any], _ path: String) -> Int? {
    (value(document, path) as? NSNumber)?.intValue
}

private func bool(_ document: [String: Any], _ path: String) -> Bool? {
    value(document, path) as? Bool
}

private func strings(_ document: [String: Any], _ path: String) -> [String]? {
    value(document, path) as? [String]
}

private func decodedBase64(_ document: [String: Any], _ path: String) -> [UInt8]? {
    string(document, path).flatMap { Data(base64Encoded: $0) }.map { Array($0) }
}

private typealias Fixture = ECSDocumentFixture

@Suite("ECS process event")
struct ECSDocumentEventTests {
    @Test("event classification")
    func classification() throws {
        let document = try Fixture.renderEvent(Fixture.event())
        #expect(string(document, "event.kind") == "event")
        #expect(strings(document, "event.category") == ["process"])
        #expect(strings(document, "event.type") == ["start"])
        #expect(string(document, "event.action") == "exec")
        #expect(string(document, "event.module") == "execwarden")
        #expect(string(document, "event.dataset") == "execwarden.process")
        #expect(value(document, "event.severity") == nil)
        #expect(value(document, "message") == nil)
        #expect(value(document, "rule") == nil)
    }

    @Test("times convert to wall-clock UTC")
    func times() throws {
        let document = try Fixture.renderEvent(Fixture.event())
        #expect(string(document, "@timestamp") == "2026-12-04T17:06:11.123456789Z")
        #expect(string(document, "event.created") == "2026-12-04T17:06:11.000000000Z")
        #expect(string(document, "process.start") == "2026-12-04T17:06:11.000000001Z")
        #expect(string(document, "process.parent.start") == "2026-11-30T00:53:32.000000000Z")
    }

    @Test("agent, ecs and host")
    func agentAndHost() throws {
        let document = try Fixture.renderEvent(Fixture.event())
        #expect(string(document, "ecs.version") == "9.5.0")
        #expect(string(document, "agent.type") == "execwarden")
        #expect(string(document, "agent.name") == "execwarden")
        #expect(string(document, "agent.version") == "1.2.3")
        #expect(string(document, "host.name") == "sensor-1")
        #expect(string(document, "host.hostname") == "sensor-1")
        #expect(string(document, "host.id") == Fixture.machineID)
        #expect(string(document, "host.boot.id") == Fixture.bootID)
        #expect(string(document, "host.architecture") == "x86_64")
        #expect(string(document, "host.os.type") == "linux")
        #expect(string(document, "host.os.kernel") == "6.1.0-28-amd64")
        #expect(string(document, "host.os.name") == "Debian GNU/Linux")
        #expect(string(document, "host.os.version") == "12")
        #expect(string(document, "host.os.family") == "debian")
        #expect(string(document, "host.os.platform") == "debian")
        #expect(string(document, "host.os.full") == "Debian GNU/Linux 12 (bookworm)")
    }

    @Test("missing host ids are omitted")
    func missingHostIDs() throws {
        let host = HostInfo(hostname: "h", machineID: "", bootID: "", kernelRelease: "6.1",
                            architecture: "aarch64", os: OSRelease(), clockOffsetNanoseconds: 0)
        let renderer = ECSRenderer(host: host, accountNames: Fixture.accounts)
        let document = try Fixture.parse(renderer.renderEvent(Fixture.event()))
        #expect(value(document, "host.id") == nil)
        #expect(value(document, "host.boot") == nil)
        #expect(value(document, "host.os.name") == nil)
        #expect(string(document, "host.os.type") == "linux")
        #expect(string(document, "agent.version") == ECSRenderer.defaultAgentVersion)
    }

    @Test("process fields")
    func processFields() throws {
        let document = try Fixture.renderEvent(Fixture.event())
        #expect(int(document, "process.pid") == 4242)
        #expect(int(document, "process.vpid") == 42)
        #expect(int(document, "process.thread.id") == 4243)
        #expect(string(document, "process.executable") == "/usr/bin/unshare")
        #expect(string(document, "process.name") == "unshare")
        #expect(strings(document, "process.args") == ["unshare", "-r", "bash"])
        #expect(int(document, "process.args_count") == 3)
        #expect(string(document, "process.command_line") == "unshare -r bash")
    }

    @Test("parent fields")
    func parentFields() throws {
        let document = try Fixture.renderEvent(Fixture.event())
        #expect(int(document, "process.parent.pid") == 100)
        #expect(int(document, "process.parent.vpid") == 1)
        #expect(string(document, "process.parent.executable") == "/usr/bin/bash")
        #expect(string(document, "process.parent.name") == "bash")
    }

    @Test("parent outside the pid namespace has no vpid")
    func parentOutsideNamespace() throws {
        var event = Fixture.event()
        event.namespaceParentPID = 0
        let document = try Fixture.renderEvent(event)
        #expect(value(document, "process.parent.vpid") == nil)
        #expect(int(document, "process.parent.pid") == 100)
    }

    @Test("entity ids follow the documented scheme")
    func entityIDs() throws {
        let document = try Fixture.renderEvent(Fixture.event())
        let scheme = EntityIDScheme(machineID: Fixture.machineID, bootID: Fixture.bootID)
        let own = try #require(string(document, "process.entity_id"))
        let parent = try #require(string(document, "process.parent.entity_id"))
        #expect(own == scheme.entityID(pid: 4242, startTimeNanoseconds: 403_971_000_000_001))
        #expect(parent == scheme.entityID(pid: 100, startTimeNanoseconds: 12_000_000_000))
        #expect(own != parent)
        #expect(own.count == 32)
    }

    @Test("every argument kept, empty ones too")
    func emptyArguments() throws {
        var event = Fixture.event()
        event.args = [Array("sh".utf8), [], Array("-c".utf8), []]
        event.argc = 4
        let document = try Fixture.renderEvent(event)
        #expect(strings(document, "process.args") == ["sh", "", "-c", ""])
        #expect(string(document, "process.command_line") == "sh  -c ")
        #expect(int(document, "process.args_count") == 4)
    }

    @Test("truncated arguments keep the kernel's argc")
    func truncatedArguments() throws {
        var event = Fixture.event()
        event.flags = [.argsTruncated]
        event.argc = 90_000
        let document = try Fixture.renderEvent(event)
        #expect(int(document, "process.args_count") == 90_000)
        #expect(strings(document, "process.args")?.count == 3)
        #expect(bool(document, "execwarden.process.args_truncated") == true)
    }

    @Test("unreadable arguments omit args and command line")
    func unreadableArguments() throws {
        var event = Fixture.event()
        event.flags = [.argsUnreadable]
        event.args = []
        let document = try Fixture.renderEvent(event)
        #expect(value(document, "process.args") == nil)
        #expect(value(document, "process.command_line") == nil)
        #expect(int(document, "process.args_count") == 3)
        #expect(bool(document, "execwarden.process.args_unreadable") == true)
    }

    @Test("real and effective users and groups")
    func accounts() throws {
        var event = Fixture.event()
        event.euid = 0
        event.egid = 0
        let document = try Fixture.renderEvent(event)
        #expect(string(document, "user.id") == "1000")
        #expect(string(document, "user.name") == "alice")
        #expect(string(document, "group.id") == "1000")
        #expect(string(document, "group.name") == "staff")
        #expect(string(document, "user.effective.id") == "0")
        #expect(string(document, "user.effective.name") == "root")
        #expect(string(document, "user.effective.group.id") == "0")
        #expect(string(document, "user.effective.group.name") == "root")
        #expect(string(document, "process.user.id") == "0")
        #expect(string(document, "process.group.id") == "0")
        #expect(string(document, "process.real_user.id") == "1000")
        #expect(string(document, "process.real_user.name") == "alice")
        #expect(string(document, "process.real_group.id") == "1000")
    }

    @Test("unknown account names are omitted")
    func unknownAccounts() throws {
        var event = Fixture.event()
        event.uid = 4242
        event.euid = 4242
        event.gid = 4242
        event.egid = 4242
        let document = try Fixture.renderEvent(event)
        #expect(string(document, "user.id") == "4242")
        #expect(value(document, "user.name") == nil)
        #expect(value(document, "group.name") == nil)
        #expect(string(document, "user.effective.id") == "4242")
        #expect(value(document, "user.effective.name") == nil)
    }

    @Test("namespaces and cgroup")
    func namespacesAndCgroup() throws {
        let document = try Fixture.renderEvent(Fixture.event())
        #expect(int(document, "execwarden.namespace.mnt") == 4_026_531_841)
        #expect(int(document, "execwarden.namespace.pid") == 4_026_531_836)
        #expect(int(document, "execwarden.namespace.user") == 4_026_531_837)
        #expect(int(document, "execwarden.namespace.uts") == 4_026_531_838)
        #expect(int(document, "execwarden.namespace.ipc") == 4_026_531_839)
        #expect(int(document, "execwarden.namespace.net") == 4_026_531_840)
        #expect(int(document, "execwarden.namespace.cgroup") == 4_026_531_835)
        #expect(int(document, "execwarden.cgroup.id") == 7777)
        #expect(string(document, "execwarden.cgroup.path") == "/user.slice/user-0.slice/session-3.scope")
        #expect(value(document, "container") == nil)
    }

    @Test("flags are booleans, false when unset")
    func flags() throws {
        let document = try Fixture.renderEvent(Fixture.event())
        for flag in ["args_truncated", "args_unreadable", "executable_truncated", "executable_deleted",
                     "executable_pseudo", "memfd", "interpreted", "script_truncated",
                     "parent.no_executable", "parent.executable_truncated", "parent.executable_deleted",
                     "parent.executable_pseudo", "parent.memfd"] {
            #expect(bool(document, "execwarden.process." + flag) == false, "\(flag)")
        }
        #expect(value(document, "execwarden.raw") == nil)
        #expect(value(document, "execwarden.process.script") == nil)
    }

    @Test("deleted and truncated executables keep their path")
    func deletedExecutable() throws {
        var event = Fixture.event()
        event.flags = [.executableDeleted, .executableTruncated, .parentExecutableDeleted]
        let document = try Fixture.renderEvent(event)
        #expect(string(document, "process.executable") == "/usr/bin/unshare")
        #expect(bool(document, "execwarden.process.executable_deleted") == true)
        #expect(bool(document, "execwarden.process.executable_truncated") == true)
        #expect(bool(document, "execwarden.process.parent.executable_deleted") == true)
    }

    @Test("script path of an interpreted file")
    func script() throws {
        var event = Fixture.event()
        event.flags = [.interpreted, .scriptDirectoryTruncated]
        event.script = Array("/tmp/run.sh".utf8)
        let document = try Fixture.renderEvent(event)
        #expect(string(document, "execwarden.process.script") == "/tmp/run.sh")
        #expect(bool(document, "execwarden.process.interpreted") == true)
        #expect(bool(document, "execwarden.process.script_truncated") == true)
    }

    @Test("one line that reuses the buffer")
    func bufferReuse() throws {
        let renderer = Fixture.renderer()
        var long = Fixture.event()
        long.args = Array(repeating: Array(String(repeating: "x", count: 500).utf8), count: 20)
        _ = renderer.renderEvent(long)
        let second = try Fixture.parse(renderer.renderEvent(Fixture.event()))
        #expect(strings(second, "process.args") == ["unshare", "-r", "bash"])
    }
}

@Suite("ECS files without a path")
struct ECSDocumentPseudoFileTests {
    @Test("memfd executable has no process.executable")
    func memfd() throws {
        var event = Fixture.event()
        event.flags = [.executablePseudo, .executableMemfd, .executableDeleted]
        event.executable = Array("memfd:payload".utf8)
        let document = try Fixture.renderEvent(event)
        #expect(value(document, "process.executable") == nil)
        #expect(string(document, "process.name") == "unshare")
        #expect(bool(document, "execwarden.process.memfd") == true)
        #expect(bool(document, "execwarden.process.executable_pseudo") == true)
        #expect(string(document, "execwarden.process.memfd_name") == "payload")
        #expect(string(document, "execwarden.process.executable_pseudo_name") == "memfd:payload")
    }

    @Test("memfd name without the prefix is kept whole")
    func memfdWithoutPrefix() throws {
        var event = Fixture.event()
        event.flags = [.executablePseudo, .executableMemfd]
        event.executable = Array("odd".utf8)
        let document = try Fixture.renderEvent(event)
        #expect(string(document, "execwarden.process.memfd_name") == "odd")
    }

    @Test("other pseudo file has no memfd name")
    func otherPseudoFile() throws {
        var event = Fixture.event()
        event.flags = [.executablePseudo]
        event.executable = Array("[aio]".utf8)
        let document = try Fixture.renderEvent(event)
        #expect(value(document, "process.executable") == nil)
        #expect(value(document, "execwarden.process.memfd_name") == nil)
        #expect(string(document, "execwarden.process.executable_pseudo_name") == "[aio]")
    }

    @Test("parent running from a memfd")
    func parentMemfd() throws {
        var event = Fixture.event()
        event.flags = [.parentExecutablePseudo, .parentExecutableMemfd]
        event.parentExecutable = Array("memfd:stage2".utf8)
        let document = try Fixture.renderEvent(event)
        #expect(value(document, "process.parent.executable") == nil)
        #expect(string(document, "process.parent.name") == "bash")
        #expect(string(document, "execwarden.process.parent.memfd_name") == "stage2")
        #expect(bool(document, "execwarden.process.parent.memfd") == true)
    }

    @Test("parent without an executable")
    func parentWithoutExecutable() throws {
        var event = Fixture.event()
        event.flags = [.parentHasNoExecutable]
        event.parentExecutable = []
        event.parentName = Array("kthreadd".utf8)
        let document = try Fixture.renderEvent(event)
        #expect(value(document, "process.parent.executable") == nil)
        #expect(string(document, "process.parent.name") == "kthreadd")
        #expect(bool(document, "execwarden.process.parent.no_executable") == true)
    }
}

@Suite("ECS bytes that are not UTF-8")
struct ECSDocumentInvalidUTF8Tests {
    @Test("executable path gets U+FFFD and its raw bytes")
    func executable() throws {
        var event = Fixture.event()
        let path: [UInt8] = Array("/tmp/".utf8) + [0xFF, 0xC0, 0x80] + Array("x".utf8)
        event.executable = path
        let document = try Fixture.renderEvent(event)
        #expect(string(document, "process.executable") == "/tmp/\u{FFFD}\u{FFFD}\u{FFFD}x")
        #expect(decodedBase64(document, "execwarden.raw.process.executable") == path)
        #expect(value(document, "execwarden.raw.process.args") == nil)
        #expect(value(document, "execwarden.raw.process.name") == nil)
    }

    @Test("raw args cover every element")
    func arguments() throws {
        var event = Fixture.event()
        let bad: [UInt8] = [0x61, 0xED, 0xA0, 0x80]
        event.args = [Array("cat".utf8), bad, [], Array("ok".utf8)]
        let document = try Fixture.renderEvent(event)
        #expect(strings(document, "process.args") == ["cat", "a\u{FFFD}\u{FFFD}\u{FFFD}", "", "ok"])
        #expect(string(document, "process.command_line") == "cat a\u{FFFD}\u{FFFD}\u{FFFD}  ok")
        let raw = try #require(strings(document, "execwarden.raw.process.args"))
        #expect(raw.count == 4)
        #expect(raw.map { Data(base64Encoded: $0).map(Array.init) } == event.args)
        #expect(value(document, "execwarden.raw.process.command_line") == nil)
    }

    @Test("names, parent path, script, memfd and cgroup")
    func otherFields() throws {
        var event = Fixture.event()
        let bad: [UInt8] = [0x62, 0xFE]
        event.flags = [.interpreted, .executablePseudo, .executableMemfd]
        event.name = bad
        event.parentName = bad
        event.parentExecutable = Array("/opt/".utf8) + bad
        event.executable = Array("memfd:".utf8) + bad
        event.script = Array("/srv/".utf8) + bad
        event.cgroupPath = bad
        let document = try Fixture.renderEvent(event)
        #expect(string(document, "process.name") == "b\u{FFFD}")
        #expect(decodedBase64(document, "execwarden.raw.process.name") == bad)
        #expect(decodedBase64(document, "execwarden.raw.process.parent.name") == bad)
        #expect(decodedBase64(document, "execwarden.raw.process.parent.executable") == event.parentExecutable)
        #expect(value(document, "execwarden.raw.process.executable") == nil)
        #expect(decodedBase64(document, "execwarden.raw.execwarden.process.memfd_name") == bad)
        #expect(decodedBase64(document, "execwarden.raw.execwarden.process.executable_pseudo_name") == event.executable)
        #expect(decodedBase64(document, "execwarden.raw.execwarden.process.script") == event.script)
        #expect(decodedBase64(document, "execwarden.raw.execwarden.cgroup.path") == bad)
    }

    @Test("alert message uses U+FFFD")
    func message() throws {
        var event = Fixture.event()
        event.executable = Array("/x".utf8) + [0x80]
        let document = try Fixture.renderAlert(event)
        #expect(string(document, "message")
            == "Namespace Manipulation Using Unshare: /x\u{FFFD} (pid 4242) started by bash (pid 100)")
    }
}

@Suite("ECS container id")
struct ECSDocumentContainerTests {
    static let hex = Fixture.containerHex

    @Test("leaf cgroup names of each runtime", arguments: [
        ("docker-\(hex).scope", "docker"),
        ("cri-containerd-\(hex).scope", "containerd"),
        ("crio-\(hex).scope", "cri-o"),
        ("libpod-\(hex).scope", "podman"),
    ])
    func runtimes(leaf: String, runtime: String) throws {
        var event = Fixture.event()
        event.cgroupPath = Array(leaf.utf8)
        let document = try Fixture.renderEvent(event)
        #expect(string(document, "container.id") == Self.hex)
        #expect(string(document, "container.runtime") == runtime)
    }

    @Test("bare id has no runtime")
    func bareID() throws {
        var event = Fixture.event()
        event.cgroupPath = Array(Self.hex.utf8)
        let document = try Fixture.renderEvent(event)
        #expect(string(document, "container.id") == Self.hex)
        #expect(value(document, "container.runtime") == nil)
    }

    @Test("names that are not containers", arguments: [
        "session-3.scope",
        "user@1000.service",
        "crio-conmon-\(hex).scope",
        "libpod-conmon-\(hex).scope",
        "docker-\(hex.uppercased()).scope",
        "docker-\(hex.dropLast()).scope",
        "docker-\(hex)0.scope",
        "docker-\(hex).scope.extra",
        "docker-\(hex)",
        "\(hex.dropLast())g",
        "",
    ])
    func notContainers(leaf: String) throws {
        var event = Fixture.event()
        event.cgroupPath = Array(leaf.utf8)
        let document = try Fixture.renderEvent(event)
        #expect(value(document, "container") == nil)
    }
}

@Suite("ECS alert")
struct ECSDocumentAlertTests {
    @Test("alert classification and message")
    func classification() throws {
        let document = try Fixture.renderAlert(Fixture.event())
        #expect(string(document, "event.kind") == "alert")
        #expect(string(document, "event.dataset") == "execwarden.alert")
        #expect(strings(document, "event.category") == ["process"])
        #expect(string(document, "message")
            == "Namespace Manipulation Using Unshare: /usr/bin/unshare (pid 4242) started by bash (pid 100)")
        #expect(int(document, "process.pid") == 4242)
        #expect(string(document, "@timestamp") == "2026-12-04T17:06:11.123456789Z")
    }

    @Test("rule fields")
    func ruleFields() throws {
        let document = try Fixture.renderAlert(Fixture.event())
        #expect(string(document, "rule.id") == Fixture.rule.ruleID)
        #expect(string(document, "rule.name") == "Namespace Manipulation Using Unshare")
        #expect(string(document, "rule.version") == "3")
        #expect(string(document, "rule.description") == "Detects unshare.")
        #expect(strings(document, "rule.author") == ["Elastic", "execwarden"])
        #expect(string(document, "rule.license") == "Elastic License v2")
        #expect(string(document, "rule.reference") == "https://man7.org/linux/man-pages/man1/unshare.1.html")
        #expect(strings(document, "execwarden.rule.references") == Fixture.rule.references)
        #expect(strings(document, "execwarden.rule.tags") == Fixture.rule.tags)
        #expect(string(document, "execwarden.rule.severity") == "medium")
    }

    @Test("minimal rule omits optional fields")
    func minimalRule() throws {
        let rule = RuleMetadata(ruleID: "r", name: "N", version: 1, description: "D",
                                severity: "unknown", riskScore: 12.5)
        let document = try Fixture.renderAlert(Fixture.event(), rule: rule)
        #expect(value(document, "rule.author") == nil)
        #expect(value(document, "rule.license") == nil)
        #expect(value(document, "rule.reference") == nil)
        #expect(value(document, "threat") == nil)
        #expect(value(document, "event.severity") == nil)
        #expect((value(document, "event.risk_score") as? NSNumber)?.doubleValue == 12.5)
        #expect(value(document, "execwarden.rule.references") == nil)
    }

    @Test("severity maps to Kibana risk scores", arguments: [
        ("low", 21), ("medium", 47), ("high", 73), ("critical", 99),
    ])
    func severity(name: String, expected: Int) throws {
        var rule = Fixture.rule
        rule.severity = name
        let document = try Fixture.renderAlert(Fixture.event(), rule: rule)
        #expect(int(document, "event.severity") == expected)
        #expect(string(document, "execwarden.rule.severity") == name)
    }

    @Test("risk score is a number")
    func riskScore() throws {
        let document = try Fixture.renderAlert(Fixture.event())
        #expect((value(document, "event.risk_score") as? NSNumber)?.doubleValue == 47)
    }

    @Test("threat arrays without repeats")
    func threat() throws {
        let document = try Fixture.renderAlert(Fixture.event())
        #expect(string(document, "threat.framework") == "MITRE ATT&CK")
        #expect(strings(document, "threat.tactic.id") == ["TA0004"])
        #expect(strings(document, "threat.tactic.name") == ["Privilege Escalation"])
        #expect(strings(document, "threat.tactic.reference") == ["https://attack.mitre.org/tactics/TA0004/"])
        #expect(strings(document, "threat.technique.id") == ["T1548", "T1611"])
        #expect(strings(document, "threat.technique.name") == ["Abuse Elevation Control Mechanism", "Escape to Host"])
        #expect(strings(document, "threat.technique.subtechnique.id") == ["T1548.001"])
        #expect(strings(document, "threat.technique.subtechnique.reference")
            == ["https://attack.mitre.org/techniques/T1548/001/"])
    }

    @Test("verdict follows the caller", arguments: [(false, "match"), (true, "uncertain")])
    func verdict(uncertain: Bool, expected: String) throws {
        let document = try Fixture.renderAlert(Fixture.event(), uncertain: uncertain)
        #expect(string(document, "execwarden.rule.verdict") == expected)
    }

    @Test("memfd alert names the dentry in the message")
    func memfdMessage() throws {
        var event = Fixture.event()
        event.flags = [.executablePseudo, .executableMemfd]
        event.executable = Array("memfd:x".utf8)
        let document = try Fixture.renderAlert(event)
        #expect(string(document, "message")
            == "Namespace Manipulation Using Unshare: memfd:x (pid 4242) started by bash (pid 100)")
    }
}

@Suite("Entity id scheme")
struct ECSDocumentEntityIDTests {
    // Reference values from OpenSSL 3.0's SIPHASH MAC:
    // `openssl mac -macopt hexkey:000102030405060708090a0b0c0d0e0f -macopt size:16 -in FILE SIPHASH`.
    @Test("SipHash-2-4-128 matches OpenSSL", arguments: [
        (0, "a3817f04ba25a8e66df67214c7550293"),
        (8, "3b62a9ba6258f5610f83e264f31497b4"),
        (15, "5493e99933b0a8117e08ec0f97cfc3d9"),
        (64, "1eaf077dc0d4cd3f8cad4d383658a74b"),
    ])
    func sipHash(length: Int, expected: String) {
        let key = SipHash128.Key((0..<16).map { UInt8($0) })
        let message = (0..<length).map { UInt8($0) }
        let digest = message.withUnsafeBytes { SipHash128.hash($0, key: key) }
        var writer = JSONWriter()
        writer.hexadecimal(digest.0.byteSwapped, digest.1.byteSwapped)
        #expect(writer.bytes == Array("\"\(expected)\"".utf8))
    }

    // Computed with OpenSSL in the two documented steps. The first hashes
    // the machine id, a NUL and the boot id. The second hashes that digest,
    // pid 4242 and start 123456789012345, both little-endian.
    @Test("entity id matches an independent computation")
    func knownValue() {
        let scheme = EntityIDScheme(machineID: Fixture.machineID, bootID: Fixture.bootID)
        #expect(scheme.entityID(pid: 4242, startTimeNanoseconds: 123_456_789_012_345)
            == "f28f3eb36002eccbf150fbe722c40944")
    }

    @Test("entity id changes with each input")
    func distinct() {
        let scheme = EntityIDScheme(machineID: "m", bootID: "b")
        let base = scheme.entityID(pid: 1, startTimeNanoseconds: 5)
        #expect(base == EntityIDScheme(machineID: "m", bootID: "b").entityID(pid: 1, startTimeNanoseconds: 5))
        #expect(base != scheme.entityID(pid: 2, startTimeNanoseconds: 5))
        #expect(base != scheme.entityID(pid: 1, startTimeNanoseconds: 6))
        #expect(base != EntityIDScheme(machineID: "m", bootID: "c").entityID(pid: 1, startTimeNanoseconds: 5))
        #expect(base != EntityIDScheme(machineID: "n", bootID: "b").entityID(pid: 1, startTimeNanoseconds: 5))
        // The NUL separator keeps "mb" + "" apart from "m" + "b".
        #expect(base != EntityIDScheme(machineID: "mb", bootID: "").entityID(pid: 1, startTimeNanoseconds: 5))
    }
}
