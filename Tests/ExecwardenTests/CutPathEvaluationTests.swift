import Testing
import ExecwardenCore

/// A source whose `process.executable` is only known to start with the
/// given bytes, as the probe reports a path cut at its capture limit.
struct CutPathSource: FieldSource {
    let known: [UInt8]

    func visitValues(of field: FieldReference, _ visit: (FieldValue) -> Bool) -> FieldVisit {
        guard field.name == "process.executable" else { return .exhausted }
        return known.withUnsafeBytes { visit(.prefix($0)) } ? .matched : .exhausted
    }
}

/// A cut path decides a condition when no longer text starting with it can
/// pass (or every one does), and leaves it uncertain otherwise.
@Suite struct CutPathEvaluationTests {
    static let cases: [(condition: String, known: String, expected: Verdict)] = [
        (#"process.executable == "/usr/bin/unshare""#, "/tmp/d/d/d", .noMatch),
        (#"process.executable == "/usr/bin/unshare""#, "/usr/bin/uns", .uncertain),
        // The real path is longer than what was kept, so it is not the
        // kept text itself.
        (#"process.executable == "/usr/bin/unshare""#, "/usr/bin/unshare", .noMatch),
        (#"process.executable : "/USR/BIN/UNSHARE""#, "/usr/bin/un", .uncertain),
        (#"process.executable : "/usr/*""#, "/tmp/x", .noMatch),
        (#"process.executable : "/usr/*""#, "/us", .uncertain),
        (#"process.executable : "/usr/*""#, "/usr/lib/x", .uncertain),
        (#"process.executable : "*/unshare""#, "/tmp/x", .uncertain),
        (#"process.executable : "*unshare*""#, "/tmp/x", .uncertain),
        (#"process.executable : "/t?p/*/x""#, "/tmp/a", .uncertain),
        (#"process.executable : "/t?p/*/x""#, "/usr/a", .noMatch),
        (#"process.executable : "/t?p""#, "/tmp", .noMatch),
        (#"process.executable in ("/a/b", "/tmp/dd/x")"#, "/tmp/d", .uncertain),
        (#"process.executable in ("/a/b", "/tmp/dd/x")"#, "/tmp/e", .noMatch),
        (#"process.executable != null"#, "/tmp/d", .match),
        (#"not process.executable == "/usr/bin/unshare""#, "/tmp/d", .match),
        (#"process.executable regex "/tmp/.*""#, "/tmp/d", .uncertain),
        (#"startsWith(process.executable, "/tmp")"#, "/tmp/d", .uncertain),
    ]

    @Test("cut path", arguments: cases.indices)
    func cutPath(_ index: Int) throws {
        let testCase = Self.cases[index]
        let query = try CompiledQuery("any where " + testCase.condition, catalog: .any)
        let verdict = query.evaluate(CutPathSource(known: Array(testCase.known.utf8)))
        #expect(verdict == testCase.expected, "\(testCase.condition) on \(testCase.known)…")
    }
}
