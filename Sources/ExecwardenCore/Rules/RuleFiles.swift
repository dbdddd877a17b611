import Foundation

/// The source of a rule: a file, with the line for a rule in an NDJSON
/// export, or the built-in rules.
public struct RuleOrigin: Hashable, Sendable, CustomStringConvertible {
    public let path: String
    /// The 1-based line of an NDJSON export, or nil for a file holding one
    /// rule.
    public let line: Int?

    public init(path: String, line: Int? = nil) {
        self.path = path
        self.line = line
    }

    public static let builtin = RuleOrigin(path: "built-in")

    public var description: String {
        line.map { "\(path):\($0)" } ?? path
    }
}

/// One rule object read from a file, or the reason no rule could be read
/// there.
struct RuleDocument {
    let origin: RuleOrigin
    let content: Result<JSONValue, RuleLoadProblem>
}

/// Reads rule documents from the files Elastic ships rules in: a Kibana
/// export (NDJSON, one rule a line), a single rule JSON as in the prebuilt
/// rules package, or a directory holding such files.
enum RuleFiles {
    /// Reads every path in order. A directory is read recursively in name
    /// order, taking files ending in `.json` or `.ndjson` and reporting
    /// `.toml` files, and skipping hidden entries and other files.
    static func read(paths: [String]) -> [RuleDocument] {
        var documents: [RuleDocument] = []
        // Directories already read, by resolved path, so that a symbolic
        // link back up the tree or to a directory read before is not
        // followed again.
        var visited: Set<String> = []
        for path in paths {
            documents += read(path: path, explicit: true, visited: &visited)
        }
        return documents
    }

    private static func read(path: String, explicit: Bool, visited: inout Set<String>) -> [RuleDocument] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return [failure(path, .invalid("no such file or directory"))]
        }
        if isDirectory.boolValue {
            let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            guard visited.insert(resolved).inserted else { return [] }
            return readDirectory(path, visited: &visited)
        }
        let lowercased = path.lowercased()
        if lowercased.hasSuffix(".toml") {
            return [failure(path, .unsupported(
                "TOML rule sources from the detection-rules repository are not supported; export the rules from Kibana as NDJSON, or use the JSON files of the prebuilt rules package"))]
        }
        if !explicit && !lowercased.hasSuffix(".json") && !lowercased.hasSuffix(".ndjson") {
            return []
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            return [failure(path, .invalid("cannot read the file: \(error.localizedDescription)"))]
        }
        return parse(data, path: path, isNDJSON: lowercased.hasSuffix(".ndjson"))
    }

    private static func readDirectory(_ path: String, visited: inout Set<String>) -> [RuleDocument] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        } catch {
            return [failure(path, .invalid("cannot list the directory: \(error.localizedDescription)"))]
        }
        var documents: [RuleDocument] = []
        for name in names where !name.hasPrefix(".") {
            documents += read(
                path: (path as NSString).appendingPathComponent(name), explicit: false, visited: &visited)
        }
        return documents
    }

    /// Parses a file as one JSON document (a rule, or an array of rules),
    /// or as NDJSON when its name ends in `.ndjson` or the whole file is
    /// not one JSON document but its first line is.
    static func parse(_ data: Data, path: String, isNDJSON: Bool) -> [RuleDocument] {
        if !isNDJSON {
            switch Result(catching: { () throws(JSONValue.ParseError) in try JSONValue.parse(data) }) {
            case .success(.array(let elements)):
                return elements.map { RuleDocument(origin: RuleOrigin(path: path), content: .success($0)) }
            case .success(let document):
                return [RuleDocument(origin: RuleOrigin(path: path), content: .success(document))]
            case .failure(let error):
                guard firstLineIsJSON(data) else {
                    return [failure(path, .invalid(error.description))]
                }
            }
        }
        return parseLines(data, path: path)
    }

    /// Parses NDJSON, skipping blank lines and the summary lines Kibana
    /// appends, which carry `exported_count` or `missing_rules`.
    private static func parseLines(_ data: Data, path: String) -> [RuleDocument] {
        var documents: [RuleDocument] = []
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            let origin = RuleOrigin(path: path, line: index + 1)
            guard line.contains(where: { !isWhitespace($0) }) else { continue }
            do {
                let document = try JSONValue.parse(Data(line))
                if isExportSummary(document) { continue }
                documents.append(RuleDocument(origin: origin, content: .success(document)))
            } catch {
                documents.append(RuleDocument(origin: origin, content: .failure(.invalid(error.description))))
            }
        }
        return documents
    }

    private static func isExportSummary(_ document: JSONValue) -> Bool {
        guard case .object(let members) = document, members["rule_id"] == nil else { return false }
        return members["exported_count"] != nil || members["missing_rules"] != nil
            || members["exported_rules_count"] != nil
    }

    private static func firstLineIsJSON(_ data: Data) -> Bool {
        let lines = data.split(separator: UInt8(ascii: "\n"))
        guard let first = lines.first(where: { $0.contains { !isWhitespace($0) } }) else { return false }
        return (try? JSONValue.parse(Data(first))) != nil
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private static func failure(_ path: String, _ problem: RuleLoadProblem) -> RuleDocument {
        RuleDocument(origin: RuleOrigin(path: path), content: .failure(problem))
    }
}

/// The reason a rule was not loaded. An unsupported rule is valid but cannot run
/// on this sensor; an invalid one is broken and has to be fixed.
enum RuleLoadProblem: Error, Hashable, Sendable {
    case unsupported(String)
    case invalid(String)
}
