import Foundation
import Testing
import ExecwardenCore
@testable import execwarden_fuzz

/// The fuzzers' seeds and checks, and the inputs kept from fuzzing runs.
///
/// `Fixtures/fuzz/TARGET/` keeps inputs from fuzzing runs: every input that
/// failed a check, and a few from the corpus that reach deep into each
/// parser (named `corpus-*`). `replayKeptInputs` runs them through the same
/// checks. A check that fails again traps, which stops the test run with
/// the target's message.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    @Test("Seed record alerts on the built-in rule")
    func seedRecordAlerts() throws {
        let rules = try BuiltinRules.compiled()
        try SeedRecord.unshare.withUnsafeBytes { bytes in
            let record = try ExecRecord(bytes: bytes)
            #expect(rules.first?.evaluate(RecordFieldSource(record: record)) == .match)
        }
    }

    @Test("Every target has seeds that pass", arguments: FuzzTarget.allCases)
    func seedsPass(target: FuzzTarget) {
        let seeds = target.seeds
        #expect(!seeds.isEmpty)
        for seed in seeds {
            seed.withUnsafeBytes { target.run($0) }
        }
    }

    @Test("Seed queries compile", arguments: FuzzTarget.eql.seeds)
    func seedQueriesCompile(seed: [UInt8]) {
        let text = String(decoding: seed, as: UTF8.self)
        #expect(throws: Never.self, "query: \(text)") {
            _ = try CompiledQuery(text, catalog: .sensor)
        }
    }

    @Test("Reference UTF-8 repair", arguments: [
        ([0x41, 0xC3, 0xA9], "A\u{E9}"),
        ([0xE2, 0x82, 0x41], "\u{FFFD}\u{FFFD}A"),
        ([0xED, 0xA0, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}"),
        ([0xF4, 0x90, 0x80, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"),
        ([0xF0, 0x9F, 0x98, 0x80], "\u{1F600}"),
        ([0xC0, 0xAF], "\u{FFFD}\u{FFFD}"),
        ([0xE0, 0x9F, 0xBF], "\u{FFFD}\u{FFFD}\u{FFFD}"),
    ] as [([UInt8], String)])
    func referenceRepair(bytes: [UInt8], expected: String) {
        let repaired = bytes.withUnsafeBytes { ReferenceUTF8.repaired($0) }
        #expect(repaired == expected)
    }

    @Test("Kept fuzz inputs pass every check")
    func replayKeptInputs() throws {
        let fixtures = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let root = fixtures.appendingPathComponent("fuzz")
        var replayed = 0
        for target in FuzzTarget.allCases {
            let directory = root.appendingPathComponent(target.rawValue)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            for name in names.sorted() {
                let input = try Data(contentsOf: directory.appendingPathComponent(name))
                input.withUnsafeBytes { target.run($0) }
                replayed += 1
            }
        }
        #expect(replayed == Self.keptInputCount)
    }

    /// The number of files under `Fixtures/fuzz`, so that a fixture folder
    /// missing from the bundle fails the test instead of replaying nothing.
    static let keptInputCount = 8
}
