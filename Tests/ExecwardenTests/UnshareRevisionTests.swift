import Foundation
import Testing
@testable import ExecwardenCore

/// An ECS exec event of /usr/bin/unshare with the given parent and
/// arguments, and what each built-in unshare revision decides for it.
struct UnshareRevisionCase: Sendable, CustomTestStringConvertible {
    let label: String
    let event: String
    let v9: Verdict
    let v10: Verdict

    var testDescription: String { label }

    init(
        _ label: String, action: String = "exec", args: [String] = ["unshare", "--uts", "true"],
        parentName: String = "bash", parentExecutable: String = "/usr/bin/bash",
        parentArgs: [String]? = ["bash"], v9: Verdict, v10: Verdict
    ) {
        var parent: [String: Any] = ["name": parentName, "executable": parentExecutable]
        if let parentArgs { parent["args"] = parentArgs }
        let document: [String: Any] = [
            "event": ["category": ["process"], "type": ["start"], "action": action],
            "host": ["os": ["type": "linux"]],
            "process": [
                "executable": "/usr/bin/unshare", "name": "unshare", "args": args, "parent": parent,
            ],
        ]
        let data = try! JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
        self.label = label
        self.event = String(decoding: data, as: UTF8.self)
        self.v9 = v9
        self.v10 = v10
    }

    static let all: [UnshareRevisionCase] = [
        .init("plain unshare from a shell", v9: .match, v10: .match),
        .init("parent args missing", parentArgs: nil, v9: .match, v10: .match),
        .init("start action", action: "start", v9: .noMatch, v10: .match),
        .init("sshd parent args", parentArgs: ["/usr/sbin/sshd", "-D"], v9: .match, v10: .noMatch),
        .init("other sshd path", parentArgs: ["/opt/openssh/sbin/sshd"], v9: .match, v10: .noMatch),
        .init("proxmox hook in parent args", parentArgs: ["/bin/sh", "/etc/kernel/postinst.d/zz-proxmox-boot"],
              v9: .match, v10: .noMatch),
        .init("snap path in parent args", parentArgs: ["/snap/core/1/usr/lib/snapd/snap-confine"], v9: .match, v10: .noMatch),
        .init("like is case-sensitive", parentArgs: ["/SNAP/core/x"], v9: .match, v10: .match),
        .init("like star spans directories", parentArgs: ["/home/a/b/.local/share/JetBrains/Toolbox/bin/t"],
              v9: .match, v10: .noMatch),
        .init("like is anchored", parentArgs: ["x/usr/sbin/sshd"], v9: .match, v10: .match),
        .init("snap argument", args: ["unshare", "/usr/bin/snap"], v9: .noMatch, v10: .noMatch),
        .init("snap argument under java", args: ["unshare", "/usr/bin/snap"], parentName: "java",
              v9: .noMatch, v10: .match),
        .init("java parent without snap", parentName: "java", v9: .noMatch, v10: .match),
        .init("udevadm parent", parentExecutable: "/usr/bin/udevadm", v9: .noMatch, v10: .noMatch),
        .init("udevd parent any case", parentExecutable: "/USR/lib/systemd/systemd-udevd", v9: .noMatch, v10: .noMatch),
    ]
}

@Suite struct UnshareRevisionTests {
    static let rules = Result { try BuiltinRules.load() }

    @Test("both revisions", arguments: UnshareRevisionCase.all)
    func revisionsGiveExpectedVerdicts(_ testCase: UnshareRevisionCase) throws {
        let rules = try Self.rules.get()
        let source = try JSONFieldSource(document: JSONValue.parse(Data(testCase.event.utf8)))
        let v9 = try #require(rules.first { $0.version == 9 }).compile(catalog: .any)
        let v10 = try #require(rules.first { $0.version == 10 }).compile(catalog: .any)
        #expect(v9.evaluate(source) == testCase.v9)
        #expect(v10.evaluate(source) == testCase.v10)
    }

    @Test func newerRevisionMetadata() throws {
        let rule = try #require(try Self.rules.get().last)
        #expect(rule.ruleID == "d00f33e7-b57d-4023-9952-2db91b1767c4")
        #expect(rule.version == 10)
        #expect(rule.maxSignals == 100)
        #expect(rule.index.contains("logs-endpoint.events.process*"))
        let compiled = try rule.compile(catalog: .sensor)
        #expect(compiled.fields.map(\.name).contains("process.parent.args"))
    }

    @Test func bothRevisionsShareOneKernelHandle() throws {
        let ruleSet = RuleSet(rules: try Self.rules.get())
        #expect(ruleSet.loaded.count == 2)
        #expect(ruleSet.skipped.isEmpty)
        #expect(ruleSet.prefilter == KernelPrefilter(executableNames: [Array("unshare".utf8)]))
    }
}
