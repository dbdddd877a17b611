import CExecwarden
import ExecwardenCore
import Foundation

/// An input parser that the fuzzer feeds arbitrary bytes.
///
/// Each target runs the code under test and then checks what it produced:
/// a violated check stops the process with `fatalError`, which libFuzzer and
/// the random loop both report as a crash with the input that caused it.
enum FuzzTarget: String, CaseIterable {
    /// `ExecRecord` validation, then decoding, rule evaluation and ECS
    /// rendering of a record that passed it.
    case record
    /// The EQL parser and compiler, then evaluation of a query that
    /// compiled against a fixed record.
    case eql
    /// The Kibana rule loader, single JSON and NDJSON export.
    case ruleFile = "rule-file"
    /// The JSON writer's string escaping, UTF-8 repair and base64.
    case jsonWriter = "json-writer"

    func run(_ input: UnsafeRawBufferPointer) {
        switch self {
        case .record: Self.fuzzRecord(input)
        case .eql: Self.fuzzQuery(input)
        case .ruleFile: Self.fuzzRuleFile(input)
        case .jsonWriter: Self.fuzzJSONWriter(input)
        }
    }

    /// Inputs that reach deep into each parser, for the random loop and as
    /// libFuzzer's starting corpus.
    var seeds: [[UInt8]] {
        switch self {
        case .record:
            return [SeedRecord.unshare, SeedRecord.empty]
        case .eql:
            return BuiltinRules.json.compactMap { try? DetectionRule(json: $0).query }.map { Array($0.utf8) }
                + Self.querySeeds.map { Array($0.utf8) }
        case .ruleFile:
            return BuiltinRules.json.map { Array($0.utf8) }
                + [Array((BuiltinRules.json.map { Self.oneLine($0) } + [#"{"exported_count":1}"#])
                    .joined(separator: "\n").utf8)]
        case .jsonWriter:
            return [Array("plain ascii".utf8), Array("tab\tquote\"slash\\".utf8),
                    [0xE2, 0x80, 0xA8, 0xF0, 0x9F, 0x98, 0x80, 0xC3, 0x28, 0xED, 0xA0, 0x80, 0x7F, 0x00]]
        }
    }

    /// Queries that compile against the sensor's fields and between them
    /// use every kind of comparison, pattern and function it supports.
    static let querySeeds = [
        #"process where process.name : "un*" and process.args_count >= 2"#,
        #"process where process.executable regex~ "/usr/(s)?bin/[a-z]+" or length(process.name) > 3"#,
        #"process where startsWith~(process.parent.name, "sh") and not process.pid in (1, 2, 3)"#,
        #"process where process.args like~ ("*--uts*", "?bin*") and (user.id + 1) * 2 != 7"#,
        #"any where substring(process.name, -2, 5) == "re" or indexOf(process.executable, "/", 1) == 4"#,
        #"process where process.parent.args : """a"b\n""" and process.pid % 0 == 1"#,
    ]

    private static func oneLine(_ json: String) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject:
            JSONSerialization.jsonObject(with: Data(json.utf8))) else { return json }
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: Targets

    private static let rules: [CompiledRule] = {
        do {
            return try BuiltinRules.compiled()
        } catch {
            fatalError("built-in rules are invalid: \(error)")
        }
    }()

    /// A renderer with fixed host facts and no account lookups, so a run
    /// depends on its input alone. Used by one thread only.
    nonisolated(unsafe) private static let renderer = ECSRenderer(
        host: HostInfo(
            hostname: "fuzz", machineID: "0123456789abcdef0123456789abcdef",
            bootID: "00000000-0000-0000-0000-000000000000", kernelRelease: "6.1.0",
            architecture: "x86_64", os: OSRelease(), clockOffsetNanoseconds: 0),
        accountNames: AccountNames(userLookup: { _ in nil }, groupLookup: { _ in nil }))

    private static func fuzzRecord(_ input: UnsafeRawBufferPointer) {
        guard let record = try? ExecRecord(bytes: input) else { return }
        let event = ExecEvent(record: record)
        let source = RecordFieldSource(record: record)
        for rule in rules {
            let verdict = rule.evaluate(source)
            checkOneJSONLine(
                renderer.renderAlert(event, rule: rule.metadata, uncertain: verdict == .uncertain),
                what: "alert")
        }
        checkOneJSONLine(renderer.renderEvent(event, createdNanoseconds: 0), what: "event")
    }

    private static func fuzzQuery(_ input: UnsafeRawBufferPointer) {
        let text = String(decoding: input, as: UTF8.self)
        _ = try? EQLParser.parse(text)
        guard let query = try? CompiledQuery(text, catalog: .sensor) else { return }
        SeedRecord.unshare.withUnsafeBytes { bytes in
            guard let record = try? ExecRecord(bytes: bytes) else {
                fatalError("the seed record no longer decodes")
            }
            _ = query.evaluate(RecordFieldSource(record: record))
        }
    }

    private static func fuzzRuleFile(_ input: UnsafeRawBufferPointer) {
        if let rule = try? DetectionRule(json: Data(input)) {
            _ = try? rule.compile()
        }
        let text = String(decoding: input, as: UTF8.self)
        if let rules = try? DetectionRule.rules(ndjson: text) {
            for rule in rules { _ = try? rule.compile() }
        }
    }

    private static func fuzzJSONWriter(_ input: UnsafeRawBufferPointer) {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("bytes", bytes: input)
        writer.key("raw")
        writer.base64(input)
        writer.endObject()
        let line = writer.bytes[...]
        let document = checkOneJSONLine(line, what: "writer output")

        let expected = ReferenceUTF8.repaired(input)
        guard let text = document["bytes"] as? String, text == expected else {
            fatalError("string value \(String(describing: document["bytes"])) differs from"
                + " the expected \(expected.debugDescription)")
        }
        guard let raw = document["raw"] as? String, let decoded = Data(base64Encoded: raw),
              decoded.elementsEqual(input)
        else {
            fatalError("base64 value does not decode to the input")
        }
    }

    /// Checks that `line` is one line of valid UTF-8 and one JSON object,
    /// and returns the object.
    @discardableResult
    private static func checkOneJSONLine(_ line: ArraySlice<UInt8>, what: String) -> [String: Any] {
        guard !line.contains(UInt8(ascii: "\n")), !line.contains(UInt8(ascii: "\r")) else {
            fatalError("\(what) contains a raw line break")
        }
        guard String(validating: line, as: UTF8.self) != nil else {
            fatalError("\(what) is not valid UTF-8")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(line))
        } catch {
            fatalError("\(what) is not valid JSON: \(error)")
        }
        guard let document = object as? [String: Any] else {
            fatalError("\(what) is not a JSON object")
        }
        return document
    }
}
