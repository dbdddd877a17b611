import CExecwarden
import Testing
@testable import ExecwardenCore

/// Builds raw exec records the way the probe lays them out.
struct RecordBuilder {
    var header = ew_exec_record()
    var data: [UInt8] = []

    init() {
        header.version = UInt16(EW_RECORD_VERSION)
        header.header_size = UInt16(MemoryLayout<ew_exec_record>.size)
        header.pid = 4242
        header.tid = 4243
        header.ppid = 4000
        header.argc = 0
    }

    /// Appends bytes to the data area and returns their span.
    mutating func append(_ bytes: [UInt8]) -> ew_span {
        let offset = UInt32(MemoryLayout<ew_exec_record>.size + data.count)
        data.append(contentsOf: bytes)
        return ew_span(offset: offset, length: UInt32(bytes.count))
    }

    mutating func setArguments(_ arguments: [[UInt8]]) {
        header.args = append(arguments.flatMap { $0 + [0] })
        header.argc = UInt32(arguments.count)
    }

    func bytes() -> [UInt8] {
        var header = self.header
        header.size = UInt32(MemoryLayout<ew_exec_record>.size + data.count)
        var result = withUnsafeBytes(of: &header) { Array($0) }
        result.append(contentsOf: data)
        return result
    }
}

@Suite("Exec record decoder")
struct ExecRecordTests {
    private func decode(_ bytes: [UInt8]) -> Result<ExecEvent, RecordError> {
        bytes.withUnsafeBytes { raw in
            Result { () throws(RecordError) -> ExecEvent in
                ExecEvent(record: try ExecRecord(bytes: raw))
            }
        }
    }

    @Test("Layout matches the C compiler's")
    func layoutMatchesShim() {
        let layout = ew_record_layout()
        #expect(Int(layout.header_size) == ExecRecord.headerSize)
        #expect(Int(layout.flags) == ExecRecord.offset(\.flags))
        #expect(Int(layout.pid) == ExecRecord.offset(\.pid))
        #expect(Int(layout.argc) == ExecRecord.offset(\.argc))
        #expect(Int(layout.event_time_ns) == ExecRecord.offset(\.event_time_ns))
        #expect(Int(layout.cgroup_id) == ExecRecord.offset(\.cgroup_id))
        #expect(Int(layout.ns_inum) == ExecRecord.offset(\.ns_inum))
        #expect(Int(layout.comm) == ExecRecord.offset(\.comm))
        #expect(Int(layout.parent_comm) == ExecRecord.offset(\.parent_comm))
        #expect(Int(layout.args) == ExecRecord.offset(\.args))
        #expect(Int(layout.executable) == ExecRecord.offset(\.executable))
        #expect(Int(layout.parent_executable) == ExecRecord.offset(\.parent_executable))
        #expect(Int(layout.script) == ExecRecord.offset(\.script))
        #expect(Int(layout.cgroup_path) == ExecRecord.offset(\.cgroup_path))
        #expect(Int(layout.script_directory) == ExecRecord.offset(\.script_directory))
        #expect(Int(layout.parent_args) == ExecRecord.offset(\.parent_args))
    }

    @Test("Valid record decodes every field")
    func validRecord() throws {
        var builder = RecordBuilder()
        builder.setArguments([Array("unshare".utf8), [], Array("-m".utf8)])
        builder.header.executable = builder.append(Array("/usr/bin/unshare".utf8))
        builder.header.parent_executable = builder.append(Array("/usr/bin/bash".utf8))
        withUnsafeMutableBytes(of: &builder.header.comm) { $0.copyBytes(from: Array("unshare".utf8)) }
        withUnsafeMutableBytes(of: &builder.header.parent_comm) {
            $0.copyBytes(from: Array("0123456789abcdef".utf8))
        }
        builder.header.ns_inum.1 = 4026531836

        let event = try decode(builder.bytes()).get()
        #expect(event.pid == 4242)
        #expect(event.tid == 4243)
        #expect(event.parentPID == 4000)
        #expect(event.args == [Array("unshare".utf8), [], Array("-m".utf8)])
        #expect(event.argc == 3)
        #expect(event.executable == Array("/usr/bin/unshare".utf8))
        #expect(event.parentExecutable == Array("/usr/bin/bash".utf8))
        #expect(event.name == Array("unshare".utf8))
        #expect(event.parentName == Array("0123456789abcdef".utf8))
        #expect(event.namespaceInode(.pid) == 4026531836)
        #expect(event.script.isEmpty)
    }

    @Test("Truncated argv drops its partial element")
    func truncatedArguments() throws {
        var builder = RecordBuilder()
        builder.header.args = builder.append(Array("a\0\0/usr/bin/snap".utf8))
        builder.header.argc = 9
        builder.header.flags = RecordFlags.argsTruncated.rawValue

        let event = try decode(builder.bytes()).get()
        #expect(event.args == [Array("a".utf8), []])
        #expect(event.argc == 9)
        #expect(event.flags.contains(.argsTruncated))
    }

    @Test("Truncated argv leaves the v9 verdict uncertain")
    func truncatedArgumentsVerdict() throws {
        var builder = RecordBuilder()
        builder.header.args = builder.append(Array("unshare\0--uts\0/usr/bin/snap".utf8))
        builder.header.argc = 4
        builder.header.flags = RecordFlags.argsTruncated.rawValue
        builder.header.executable = builder.append(Array("/usr/bin/unshare".utf8))
        builder.header.parent_executable = builder.append(Array("/usr/bin/bash".utf8))
        let rule = try #require(try BuiltinRules.compiled().first)

        let verdict = builder.bytes().withUnsafeBytes { raw in
            rule.evaluate(RecordFieldSource(record: try! ExecRecord(bytes: raw)))
        }
        #expect(verdict == .uncertain)
    }

    /// A partial path must not decide the rule either way: an excluded
    /// parent path that is partial does not exclude, and a matching
    /// executable path that is partial does not match. A cut path is the
    /// beginning of the real one, so its kept part must still fit the
    /// rule's path.
    @Test("Partial path leaves the verdict uncertain", arguments: [
        (RecordFlags.executableTruncated, "/usr/bin/uns", "/usr/bin/bash"),
        (.executableIncomplete, "/usr/bin/unshare", "/usr/bin/bash"),
        (.parentExecutableTruncated, "/usr/bin/unshare", "/usr/bin/udevadm"),
        (.parentExecutableIncomplete, "/usr/bin/unshare", "/usr/bin/udevadm"),
    ])
    func partialPathVerdict(flag: RecordFlags, executable: String, parent: String) throws {
        var builder = RecordBuilder()
        builder.setArguments([Array("unshare".utf8)])
        builder.header.executable = builder.append(Array(executable.utf8))
        builder.header.parent_executable = builder.append(Array(parent.utf8))
        builder.header.flags = flag.rawValue
        let rule = try #require(try BuiltinRules.compiled().first)

        let verdict = builder.bytes().withUnsafeBytes { raw in
            rule.evaluate(RecordFieldSource(record: try! ExecRecord(bytes: raw)))
        }
        #expect(verdict == .uncertain)
    }

    /// The real path is longer than a cut one, so a cut path equal to the
    /// rule's path, or one that already differs from it, does not match.
    @Test("Cut path that cannot become the rule's path does not match", arguments: [
        "/usr/bin/unshare", "/tmp/d/d/d",
    ])
    func cutPathRulesOut(executable: String) throws {
        var builder = RecordBuilder()
        builder.setArguments([Array("unshare".utf8)])
        builder.header.executable = builder.append(Array(executable.utf8))
        builder.header.parent_executable = builder.append(Array("/usr/bin/bash".utf8))
        builder.header.flags = RecordFlags.executableTruncated.rawValue
        let rule = try #require(try BuiltinRules.compiled().first)

        let verdict = builder.bytes().withUnsafeBytes { raw in
            rule.evaluate(RecordFieldSource(record: try! ExecRecord(bytes: raw)))
        }
        #expect(verdict == .noMatch)
    }

    /// The kernel keeps 15 bytes of a name, so a 15-byte comm may be the
    /// start of a longer one.
    @Test("Full-length comm is decided only where a longer name cannot differ", arguments: [
        (#"process.name == "averylongprogramname""#, "averylongprogra", Verdict.uncertain),
        (#"process.name == "averylongprogra""#, "averylongprogra", .match),
        (#"process.name == "other""#, "averylongprogra", .noMatch),
        (#"process.name : "averylong*""#, "averylongprogra", .match),
        (#"process.parent.name == "averylongprogramname""#, "short", .noMatch),
        (#"process.name == "shortname1""#, "shortname", .noMatch),
    ])
    func fullLengthComm(condition: String, comm: String, expected: Verdict) throws {
        var builder = RecordBuilder()
        builder.setArguments([Array("x".utf8)])
        withUnsafeMutableBytes(of: &builder.header.comm) { $0.copyBytes(from: Array(comm.utf8)) }
        withUnsafeMutableBytes(of: &builder.header.parent_comm) { $0.copyBytes(from: Array(comm.utf8)) }
        let query = try CompiledQuery("process where " + condition, catalog: .sensor)
        let verdict = builder.bytes().withUnsafeBytes { raw in
            query.evaluate(RecordFieldSource(record: try! ExecRecord(bytes: raw)))
        }
        #expect(verdict == expected)
    }

    @Test("Command lines join the elements with spaces", arguments: [
        (#"process.command_line == "curl -o /tmp/x http://h""#, false, Verdict.match),
        (#"process.command_line : "*-o /tmp/*""#, false, .match),
        (#"process.command_line == "curl -o""#, false, .noMatch),
        // Cut: the kept text "curl -o /tm" is the start of the real line.
        (#"process.command_line : "curl -o /tmp/*""#, true, .uncertain),
        (#"process.command_line : "wget *""#, true, .noMatch),
        (#"process.parent.command_line == "bash -c run""#, false, .match),
    ])
    func commandLines(condition: String, cut: Bool, expected: Verdict) throws {
        var builder = RecordBuilder()
        if cut {
            builder.header.args = builder.append(Array("curl\0-o\0/tm".utf8))
            builder.header.argc = 4
            builder.header.flags = RecordFlags.argsTruncated.rawValue
        } else {
            builder.setArguments(["curl", "-o", "/tmp/x", "http://h"].map { Array($0.utf8) })
        }
        builder.header.parent_args = builder.append(Array("bash\0-c\0run\0".utf8))
        builder.header.parent_argc = 3
        let query = try CompiledQuery("process where " + condition, catalog: .sensor)
        let verdict = builder.bytes().withUnsafeBytes { raw in
            query.evaluate(RecordFieldSource(record: try! ExecRecord(bytes: raw)))
        }
        #expect(verdict == expected)
    }

    @Test("Relative script name joins its directory")
    func relativeScript() throws {
        var builder = RecordBuilder()
        builder.header.script = builder.append(Array("./run.sh".utf8))
        builder.header.script_directory = builder.append(Array("/opt/tools".utf8))
        let event = try decode(builder.bytes()).get()
        #expect(event.script == Array("/opt/tools/run.sh".utf8))
    }

    @Test("Script names are joined and cleaned", arguments: [
        ("./run.sh", "/opt/tools", "/opt/tools/run.sh"),
        (".//run.sh", "/opt/tools", "/opt/tools/run.sh"),
        ("../tools/run.sh", "/opt/tools", "/opt/tools/run.sh"),
        ("../../run.sh", "/opt/tools", "/run.sh"),
        ("../../../run.sh", "/opt/tools", "/run.sh"),
        ("link/../run.sh", "/opt/tools", "/opt/tools/link/../run.sh"),
        ("/abs/run.sh", "/opt/tools", "/abs/run.sh"),
        ("//abs/./x/../run.sh", "/opt/tools", "/abs/x/../run.sh"),
        ("run.sh", "/", "/run.sh"),
    ])
    func scriptNames(name: String, directory: String, expected: String) throws {
        var builder = RecordBuilder()
        builder.header.script = builder.append(Array(name.utf8))
        builder.header.script_directory = builder.append(Array(directory.utf8))
        let event = try decode(builder.bytes()).get()
        #expect(String(decoding: event.script, as: UTF8.self) == expected)
    }

    @Test("Short record is rejected", arguments: [0, 1, 8, ExecRecord.headerSize - 1])
    func shortRecord(size: Int) {
        let bytes = Array(RecordBuilder().bytes().prefix(size))
        #expect(throws: RecordError.tooShort(size: size)) { try decode(bytes).get() }
    }

    @Test("Unknown version is rejected")
    func unknownVersion() {
        var builder = RecordBuilder()
        builder.header.version = 99
        #expect(throws: RecordError.unsupportedVersion(99)) { try decode(builder.bytes()).get() }
    }

    @Test("Declared size past the bytes is rejected")
    func sizeBeyondBytes() {
        var bytes = RecordBuilder().bytes()
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(
                of: UInt32(ExecRecord.headerSize + 10), toByteOffset: ExecRecord.offset(\.size),
                as: UInt32.self)
        }
        #expect(throws: RecordError.sizeMismatch(declared: ExecRecord.headerSize + 10, received: ExecRecord.headerSize)) {
            try decode(bytes).get()
        }
    }

    @Test("Span outside the record is rejected")
    func spanOutOfBounds() {
        var builder = RecordBuilder()
        builder.header.executable = ew_span(offset: UInt32(ExecRecord.headerSize), length: 5)
        #expect(throws: RecordError.spanOutOfBounds(
            field: "executable", offset: ExecRecord.headerSize, length: 5, size: ExecRecord.headerSize)
        ) {
            try decode(builder.bytes()).get()
        }
    }

    @Test("Span into the header is rejected")
    func spanIntoHeader() {
        var builder = RecordBuilder()
        builder.header.args = ew_span(offset: 0, length: 4)
        #expect(throws: RecordError.self) { try decode(builder.bytes()).get() }
    }

    @Test("Span of maximum length does not overflow")
    func spanLengthOverflow() {
        var builder = RecordBuilder()
        _ = builder.append([1, 2, 3])
        builder.header.args = ew_span(offset: UInt32.max, length: UInt32.max)
        #expect(throws: RecordError.self) { try decode(builder.bytes()).get() }
    }

    /// Random mutations of a valid record must decode or throw, never trap.
    @Test("Random corruption never crashes")
    func randomCorruption() {
        var generator = SystemRandomNumberGenerator()
        var builder = RecordBuilder()
        builder.setArguments([Array("x".utf8), Array("y".utf8)])
        builder.header.executable = builder.append(Array("/bin/x".utf8))
        let valid = builder.bytes()
        var decoded = 0
        var rejected = 0
        for _ in 0..<20_000 {
            var bytes = valid
            let flips = Int.random(in: 1...8, using: &generator)
            for _ in 0..<flips {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                bytes[index] = UInt8.random(in: 0...255, using: &generator)
            }
            if Bool.random(using: &generator) {
                bytes.removeLast(Int.random(in: 0..<bytes.count, using: &generator))
            }
            switch decode(bytes) {
            case .success: decoded += 1
            case .failure: rejected += 1
            }
        }
        #expect(decoded + rejected == 20_000)
        #expect(rejected > 0)
    }
}
