import CExecwarden
import Foundation
import Testing
@testable import ExecwardenCore

private func names(_ values: String...) -> Set<[UInt8]> {
    Set(values.map { Array($0.utf8) })
}

private func handle(_ condition: String) throws -> PrefilterHandle {
    let query = try CompiledQuery("process where " + condition, catalog: .sensor)
    return PrefilterDerivation.handle(for: query)
}

/// A condition and the handle the derivation must give for it.
struct HandleCase: Sendable, CustomTestStringConvertible {
    let condition: String
    let expected: PrefilterHandle?
    var testDescription: String { condition }

    /// `expected` nil means no handle.
    init(_ condition: String, executables: Set<[UInt8]>? = nil, processes: Set<[UInt8]> = []) {
        self.condition = condition
        self.expected = executables.map { .names(executableNames: $0, processNames: processes) }
            ?? (processes.isEmpty ? nil : .names(executableNames: [], processNames: processes))
    }

    static let all: [HandleCase] = [
        .init(#"process.executable == "/usr/bin/unshare""#, executables: names("unshare")),
        .init(#"process.executable : "/USR/BIN/Unshare""#, executables: names("unshare")),
        .init(#"process.executable : "*/lib/systemd/systemd-udevd""#, executables: names("systemd-udevd")),
        .init(#"process.executable : "*unshare""#),
        .init(#"process.executable : "/usr/*/un*share""#),
        .init(#"process.executable : "/usr/*/bin/unshare""#, executables: names("unshare")),
        .init(#"process.executable : "/usr/bin/unshar?""#),
        .init(#"process.executable like~ ("/a/X", "*/y")"#, executables: names("x", "y")),
        .init(#"process.executable : "/usr/bin/*""#),
        .init(#"endsWith(process.executable, "/nc")"#, executables: names("nc")),
        .init(#"endsWith~(process.executable, "/N*C")"#, executables: names("n*c")),
        .init(#"startsWith(process.executable, "/usr/bin/nc")"#),
        .init(#"process.executable regex "/usr/bin/nc""#),
        .init(#"process.executable in ("/bin/nc", "/bin/ncat")"#, executables: names("nc", "ncat")),
        .init(#"process.name == "GDB""#, processes: names("gdb")),
        .init(#"process.name in~ ("linux-exploit-suggester.sh")"#, processes: names("linux-exploit-s")),
        .init(#"process.name : "python*""#),
        .init(#"process.name : "nc" or process.executable : "*/ncat""#, executables: names("ncat"), processes: names("nc")),
        .init(#"process.name : "nc" or process.args : "-e""#),
        .init(#"process.name : "nc" and process.args : "-e""#, processes: names("nc")),
        .init(#"process.name in ("a", "b") and process.executable : "*/c""#, executables: names("c")),
        .init(#"not process.name == "nc""#),
        .init(#"not (not process.name == "nc")"#, processes: names("nc")),
        .init(#"not (process.name != "nc" or process.pid == 1)"#, processes: names("nc")),
        .init(#"process.parent.name == "nc""#),
        .init(#"length(process.name) == 2"#),
        .init(#"event.action == "exec" and process.name == "nc""#, processes: names("nc")),
        .init(#"event.action == "exec""#),
        .init(#"event.action == "fork" or process.name == "nc""#, processes: names("nc")),
        .init(#"host.os.type : "windows""#, executables: []),
        .init(#"event.type == "end" and process.pid > 1"#, executables: []),
        .init(#"not event.type == "start""#, executables: []),
        .init("false", executables: []),
        .init(#"?process.working_directory : "*x*""#, executables: []),
        .init(#"process.command_line : "*x*""#),
    ]
}

@Suite struct PrefilterDerivationTests {
    @Test("handle", arguments: HandleCase.all)
    func derivationGivesExpectedHandle(_ testCase: HandleCase) throws {
        let derived = try handle(testCase.condition)
        if let expected = testCase.expected {
            #expect(derived == expected)
        } else {
            guard case .none(let reason) = derived else {
                Issue.record("expected no handle, got \(derived)")
                return
            }
            #expect(!reason.isEmpty)
        }
    }

    @Test func unionOfHandles() {
        let prefilter = KernelPrefilter(handles: [
            .names(executableNames: names("a"), processNames: []),
            .names(executableNames: [], processNames: names("b")),
            .never,
        ])
        #expect(prefilter == KernelPrefilter(executableNames: names("a"), processNames: names("b")))
        let open = KernelPrefilter(handles: [.names(executableNames: names("a"), processNames: []), .none(reason: "x")])
        #expect(open == .everything)
    }

    @Test func kernelModelComparesLowercasedNames() {
        let prefilter = KernelPrefilter(executableNames: names("unshare"), processNames: names("linux-exploit-s"))
        #expect(prefilter.admits(executable: Array("/usr/bin/UnShare".utf8), comm: []))
        #expect(!prefilter.admits(executable: Array("/usr/bin/unshare2".utf8), comm: []))
        #expect(!prefilter.admits(executable: nil, comm: Array("unshare".utf8)))
        #expect(prefilter.admits(executable: nil, comm: Array("LINUX-EXPLOIT-SUGGESTER".utf8)))
    }

    /// The constant fields the derivation decides must have the values the
    /// record source gives every exec.
    @Test func constantsMatchRecordSource() throws {
        let bytes = RecordBuilder().bytes()
        try bytes.withUnsafeBytes { raw in
            let source = RecordFieldSource(record: try ExecRecord(bytes: raw))
            for (field, value) in ExecConstants.values {
                var seen: [String] = []
                _ = source.visitValues(of: FieldReference(name: field.rawValue)) { value in
                    if case .bytes(let text) = value { seen.append(String(decoding: text, as: UTF8.self)) }
                    return false
                }
                #expect(seen == [value], "\(field.rawValue)")
            }
        }
    }
}

// MARK: - Random soundness check

/// A deterministic generator (SplitMix64), so a failure can be replayed
/// from its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// A random exec, built as a raw record so that rules see it through the
/// same `RecordFieldSource` as in the sensor.
struct RandomExec: CustomStringConvertible {
    /// nil for an exec without a path, such as a memfd.
    let executable: String?
    let comm: String
    let args: [String]
    let parentExecutable: String
    let parentComm: String

    static let executables = [
        "/usr/bin/unshare", "/usr/bin/UNSHARE", "/bin/bash", "/usr/local/bin/nc", "/tmp/x/unshare",
        "/usr/lib/systemd/systemd-udevd", "/usr/bin/python3.11", "/opt/a b/caf\u{e9}", "/snap/bin/gdb",
        "/usr/bin/linux-exploit-suggester.sh", "/x", "/usr/bin/nc.openbsd",
    ]
    static let comms = [
        "unshare", "Unshare", "bash", "nc", "gdb", "python3", "linux-exploit-s", "java", "zz-proxmox-boot", "caf\u{e9}",
    ]
    static let arguments = ["-p", "1", "--pid", "/usr/bin/snap", "unshare", "-e", "x*y", "/tmp/x/unshare"]

    static func random(using generator: inout SeededGenerator) -> RandomExec {
        let executable = Bool.random(using: &generator) && Int.random(in: 0..<8, using: &generator) == 0
            ? nil : executables.randomElement(using: &generator)!
        let comm: String
        if let executable, Bool.random(using: &generator) {
            comm = String(decoding: Array(executable.split(separator: "/").last!.utf8).prefix(15), as: UTF8.self)
        } else {
            comm = comms.randomElement(using: &generator)!
        }
        let argumentCount = Int.random(in: 0...3, using: &generator)
        return RandomExec(
            executable: executable, comm: comm,
            args: (0..<argumentCount).map { _ in arguments.randomElement(using: &generator)! },
            parentExecutable: executables.randomElement(using: &generator)!,
            parentComm: comms.randomElement(using: &generator)!)
    }

    func record(flags: RecordFlags = []) -> [UInt8] {
        var builder = RecordBuilder()
        builder.setArguments(args.map { Array($0.utf8) })
        if let executable {
            builder.header.executable = builder.append(Array(executable.utf8))
        } else {
            builder.header.executable = builder.append(Array("memfd:payload".utf8))
            builder.header.flags = RecordFlags.executablePseudo.rawValue
        }
        builder.header.parent_executable = builder.append(Array(parentExecutable.utf8))
        builder.header.flags |= flags.rawValue
        Self.setComm(&builder.header.comm, comm)
        Self.setComm(&builder.header.parent_comm, parentComm)
        return builder.bytes()
    }

    private static func setComm<T>(_ field: inout T, _ text: String) {
        withUnsafeMutableBytes(of: &field) { raw in
            for (index, byte) in text.utf8.prefix(raw.count - 1).enumerated() {
                raw[index] = byte
            }
        }
    }

    var description: String {
        "exe=\(executable ?? "<memfd>") comm=\(comm) args=\(args) parent=\(parentExecutable) parent_comm=\(parentComm)"
    }
}

/// Random single-event conditions over the fields the prefilter uses and
/// others, with every pattern operator, functions, `not` and `or`.
enum RandomCondition {
    static let fields = [
        "process.executable", "process.executable", "process.executable", "process.executable",
        "process.name", "process.name", "process.name", "process.args",
        "process.parent.executable", "process.parent.name", "event.action", "event.type", "host.os.type",
    ]
    static let values = [
        "/usr/bin/unshare", "/USR/BIN/UNSHARE", "unshare", "UNSHARE", "*unshare", "*/unshare", "*/UNSHARE",
        "/usr/*/unshare", "/usr/bin/unshar?", "?", "*", "bash", "BASH", "nc", "/usr/bin/*", "/usr/local/bin/nc",
        "*/lib/systemd/systemd-*", "*/lib/systemd/systemd-udevd", "exec", "start", "linux", "windows", "process",
        "linux-exploit-s", "linux-exploit-suggester.sh", "/x", "x", "*/x", "/tmp/*", "caf\u{e9}", "*/caf?",
        "-p", "/usr/bin/snap", "gdb", "*gdb", "*/GDB", "python3", "*.sh", "/usr/bin/nc*", "x*y", "",
        "*share", "*.openbsd", "*-udevd", "*sh", "sh", ".openbsd", "*/*", "?*/nc", "*/n?", "-udevd", "*/B?SH",
    ]
    static let patternOperators = [":", "like", "like~", "==", "!=", "in", "in~", "not in", ":"]
    static let functions = ["startsWith", "endsWith", "endsWith~", "stringContains", "stringContains~", "startsWith~"]

    static func literal(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static func leaf(using generator: inout SeededGenerator) -> String {
        let field = fields.randomElement(using: &generator)!
        let value = literal(values.randomElement(using: &generator)!)
        switch Int.random(in: 0..<10, using: &generator) {
        case 0..<6:
            let operation = patternOperators.randomElement(using: &generator)!
            if operation.contains("in") || Bool.random(using: &generator) {
                let second = literal(values.randomElement(using: &generator)!)
                return "\(field) \(operation) (\(value), \(second))"
            }
            return "\(field) \(operation) \(value)"
        case 6..<8:
            return "\(functions.randomElement(using: &generator)!)(\(field), \(value))"
        case 8:
            return "length(\(field)) > \(Int.random(in: 0...12, using: &generator))"
        default:
            return "\(field) regex~ \(literal("/usr/bin/[a-z]+"))"
        }
    }

    static func condition(depth: Int, using generator: inout SeededGenerator) -> String {
        guard depth > 0, Int.random(in: 0..<3, using: &generator) != 0 else {
            return leaf(using: &generator)
        }
        let left = condition(depth: depth - 1, using: &generator)
        let right = condition(depth: depth - 1, using: &generator)
        switch Int.random(in: 0..<5, using: &generator) {
        case 0: return "not (\(left))"
        case 1, 2: return "(\(left)) and (\(right))"
        default: return "(\(left)) or (\(right))"
        }
    }
}

@Suite struct PrefilterSoundnessTests {
    static let seed: UInt64 = 0x5EED_0005

    /// For random rules and random execs, the prefilter derived from a rule
    /// (and from a set of rules) admits every exec the rule alerts on,
    /// including uncertain verdicts.
    @Test func prefilterNeverDropsAMatch() throws {
        var generator = SeededGenerator(state: Self.seed)
        let execs = (0..<80).map { _ in RandomExec.random(using: &generator) }
        let records = execs.map { $0.record() }
        var failures: [String] = []
        var (rulesWithHandle, alerts, dropped, compiled) = (0, 0, 0, 0)
        var ruleSetPrefilterRules: [(CompiledQuery, PrefilterHandle)] = []

        for _ in 0..<1000 {
            let text = "process where " + RandomCondition.condition(depth: 3, using: &generator)
            guard let query = try? CompiledQuery(text, catalog: .sensor) else { continue }
            compiled += 1
            let handle = PrefilterDerivation.handle(for: query)
            if case .names = handle { rulesWithHandle += 1 }
            ruleSetPrefilterRules.append((query, handle))
            let prefilter = KernelPrefilter(handles: [handle])
            for (exec, record) in zip(execs, records) {
                let verdict = try record.withUnsafeBytes { raw in
                    query.evaluate(RecordFieldSource(record: try ExecRecord(bytes: raw)))
                }
                let admitted = prefilter.admits(
                    executable: exec.executable.map { Array($0.utf8) }, comm: Array(exec.comm.utf8.prefix(15)))
                if verdict != .noMatch { alerts += 1 }
                if !admitted { dropped += 1 }
                if verdict != .noMatch && !admitted && failures.count < 5 {
                    failures.append("query: \(text)\nhandle: \(handle)\nexec: \(exec)\nverdict: \(verdict)")
                }
            }
        }

        #expect(failures.isEmpty, "seed \(Self.seed):\n\(failures.joined(separator: "\n\n"))")
        #expect(compiled >= 750, "most random queries should compile")
        #expect(rulesWithHandle >= 50, "the test needs rules with a handle to mean anything")
        #expect(alerts >= 1000)
        #expect(dropped >= 1000)

        // A set of a dozen rules: the union admits every exec any of them
        // alerts on.
        for start in stride(from: 0, to: ruleSetPrefilterRules.count - 12, by: 12) {
            let group = ruleSetPrefilterRules[start..<(start + 12)]
            let prefilter = KernelPrefilter(handles: group.map(\.1))
            for (exec, record) in zip(execs, records) {
                let alerted = try record.withUnsafeBytes { raw in
                    let source = RecordFieldSource(record: try ExecRecord(bytes: raw))
                    return group.contains { $0.0.evaluate(source) != .noMatch }
                }
                let admitted = prefilter.admits(
                    executable: exec.executable.map { Array($0.utf8) }, comm: Array(exec.comm.utf8.prefix(15)))
                #expect(!alerted || admitted, "rules \(start)..<\(start + 12), exec \(exec)")
            }
        }
    }
}

@Suite struct RuleDispatchTests {
    /// For random sets of a dozen rules and random records, including
    /// records with a truncated executable path, evaluating only the
    /// dispatched candidates gives the same alerts as evaluating every rule.
    @Test func candidatesGiveSameAlertsAsAllRules() throws {
        var generator = SeededGenerator(state: 0x5EED_0006)
        let execs = (0..<60).map { _ in RandomExec.random(using: &generator) }
        let records = execs.flatMap { [$0.record(), $0.record(flags: .executableTruncated)] }
        var (alerts, skippedEvaluations) = (0, 0)

        for _ in 0..<40 {
            var queries: [CompiledQuery] = []
            while queries.count < 12 {
                let text = "process where " + RandomCondition.condition(depth: 2, using: &generator)
                if let query = try? CompiledQuery(text, catalog: .sensor) { queries.append(query) }
            }
            var dispatch = RuleDispatch(handles: queries.map(PrefilterDerivation.handle(for:)))
            for record in records {
                try record.withUnsafeBytes { raw in
                    let parsed = try ExecRecord(bytes: raw)
                    let source = RecordFieldSource(record: parsed)
                    let expected = queries.indices.filter { queries[$0].evaluate(source) != .noMatch }
                    var candidates: [Int] = []
                    dispatch.forEachCandidate(
                        executable: RuleDispatch.executableName(of: parsed), comm: parsed.comm
                    ) { candidates.append($0) }
                    let found = candidates.filter { queries[$0].evaluate(source) != .noMatch }
                    #expect(found == expected, "records with executable \(String(decoding: parsed.executable, as: UTF8.self))")
                    #expect(candidates == candidates.sorted())
                    alerts += expected.count
                    skippedEvaluations += queries.count - candidates.count
                }
            }
        }
        #expect(alerts >= 500)
        #expect(skippedEvaluations >= 5000)
    }

    @Test func truncatedPathMakesEveryRuleACandidate() throws {
        var dispatch = RuleDispatch(handles: [
            .names(executableNames: names("unshare"), processNames: []), .never,
        ])
        var candidates: [Int] = []
        dispatch.forEachCandidate(executable: .unknown, comm: UnsafeRawBufferPointer(start: nil, count: 0)) {
            candidates.append($0)
        }
        #expect(candidates == [0, 1])
    }

    @Test func memfdMatchesOnlyByComm() throws {
        var dispatch = RuleDispatch(handles: [
            .names(executableNames: names("x"), processNames: []),
            .names(executableNames: [], processNames: names("x")),
        ])
        var candidates: [Int] = []
        Array("X".utf8).withUnsafeBytes { comm in
            dispatch.forEachCandidate(executable: .absent, comm: comm) { candidates.append($0) }
        }
        #expect(candidates == [1])
    }
}
