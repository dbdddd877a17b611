import Foundation
import Testing
@testable import ExecwardenCore

/// Checks docs/fields.md against the documents the renderer writes: every
/// field written is listed, every field listed is written, and each ECS
/// field has its ECS type.
@Suite("Field reference page")
struct FieldReferenceTests {
    /// Fields listed before the record carries them.
    static let notYetWritten: Set<String> = []

    /// The namespace names that the page writes as `<kind>`.
    static let kinds: Set<String> = ["mnt", "pid", "user", "uts", "ipc", "net", "cgroup", "time"]

    /// Reads the rows of the page's tables into a map of field name to type.
    static func documentedFields() throws -> [String: String] {
        let page = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/fields.md")
        let text = try String(contentsOf: page, encoding: .utf8)
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2 else { continue }
            fields[cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = cells[1]
        }
        return fields
    }

    /// Returns the dotted path of every leaf, with namespace names below
    /// `namespace`, `differs_from_host` and `persist` written as `<kind>`.
    static func leafPaths(_ object: [String: Any], prefix: String = "", parent: String = "") -> Set<String> {
        var paths: Set<String> = []
        for (key, value) in object {
            let isKind = ["namespace", "differs_from_host", "persist"].contains(parent) && kinds.contains(key)
            let component = isKind ? "<kind>" : key
            let path = prefix.isEmpty ? component : prefix + "." + component
            if let child = value as? [String: Any] {
                paths.formUnion(leafPaths(child, prefix: path, parent: key))
            } else {
                paths.insert(path)
            }
        }
        return paths
    }

    static let illFormed: [UInt8] = [0xFF]

    /// Documents that together write every field.
    static func renderedDocuments() throws -> [[String: Any]] {
        var inodes: [NamespaceKind: UInt32] = [:]
        for kind in NamespaceKind.allCases {
            inodes[kind] = 1
        }
        let fixture = ECSDocumentFixture.host
        let host = HostInfo(
            hostname: fixture.hostname, machineID: fixture.machineID, bootID: fixture.bootID,
            kernelRelease: fixture.kernelRelease, architecture: fixture.architecture, os: fixture.os,
            clockOffsetNanoseconds: fixture.clockOffsetNanoseconds, namespaceInodes: inodes)
        let renderer = ECSRenderer(host: host, accountNames: ECSDocumentFixture.accounts)

        // An interpreted unshare with every option, and ill-formed bytes in
        // each path field.
        var full = ECSDocumentFixture.event()
        full.flags = [.interpreted]
        let words = [
            "--net=/n", "--kill-child", "--mount-proc", "-R/r", "-w/w", "-S1", "-G2", "--setgroups=deny",
            "--map-users=0:1:2", "--map-groups=auto", "--map-user=7", "--map-group=8", "-T", "--monotonic=3",
            "--boottime=4", "--keep-caps", "--clear-env", "--whitelist-env=A", "--forward-signals",
            "--owner=5:6", "--mount-binfmt=/b", "-lI", "--propagation=slave", "sh",
        ]
        full.args = (["unshare"] + words).map { Array($0.utf8) } + [illFormed]
        full.argc = UInt32(full.args.count)
        full.executable = Array("/usr/bin/sh".utf8) + illFormed
        full.script = Array("/tmp/s".utf8) + illFormed
        full.parentExecutable = Array("/usr/bin/bash".utf8) + illFormed
        full.parentName = illFormed
        full.parentArgs = [Array("bash".utf8), illFormed]
        full.parentArgc = 2
        full.cgroupPath = illFormed

        // Memfd executables with ill-formed names, and an ill-formed comm.
        var memfd = ECSDocumentFixture.event()
        memfd.flags = [.executablePseudo, .executableMemfd, .parentExecutablePseudo, .parentExecutableMemfd]
        memfd.executable = Array("memfd:x".utf8) + illFormed
        memfd.parentExecutable = Array("memfd:y".utf8) + illFormed
        memfd.name = illFormed

        // A rejected unshare in a container.
        var rejected = ECSDocumentFixture.event()
        rejected.args = [Array("unshare".utf8), Array("--bogus".utf8)]
        rejected.cgroupPath = Array("docker-\(ECSDocumentFixture.containerHex).scope".utf8)

        let lines = [
            renderer.renderAlert(full, rule: ECSDocumentFixture.rule, uncertain: false, createdNanoseconds: 0),
            renderer.renderEvent(memfd, createdNanoseconds: 0),
            renderer.renderEvent(rejected, createdNanoseconds: 0),
        ]
        return try lines.map { try ECSDocumentFixture.parse($0) }
    }

    @Test("every written field is listed")
    func writtenFieldsListed() throws {
        let documented = try Self.documentedFields()
        var written: Set<String> = []
        for document in try Self.renderedDocuments() {
            written.formUnion(Self.leafPaths(document))
        }
        #expect(written.subtracting(documented.keys).sorted() == [])
    }

    @Test("every listed field is written")
    func listedFieldsWritten() throws {
        let documented = Set(try Self.documentedFields().keys)
        var written: Set<String> = []
        for document in try Self.renderedDocuments() {
            written.formUnion(Self.leafPaths(document))
        }
        #expect(documented.subtracting(written).subtracting(Self.notYetWritten).sorted() == [])
    }

    @Test("ECS fields have their ECS types")
    func ecsTypes() throws {
        let catalog = try ECSFieldCatalog.load()
        let documented = try Self.documentedFields()
        #expect(documented.count > 100)
        for (name, type) in documented where !name.hasPrefix("execwarden.") {
            #expect(catalog.fields[name]?.type == type, "\(name)")
        }
    }
}
