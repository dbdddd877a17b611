import Foundation

/// A rule compiled for the sensor, with where it came from and what the
/// kernel prefilter keeps for it.
public struct LoadedRule: Sendable {
    public let rule: CompiledRule
    public let origin: RuleOrigin
    public let handle: PrefilterHandle
    /// Differences from the rule as Kibana runs it, such as exception lists
    /// the sensor does not apply.
    public let warnings: [String]
}

/// A rule that was not loaded, and why.
public struct SkippedRule: Sendable, Hashable, CustomStringConvertible {
    public let origin: RuleOrigin
    public let ruleID: String?
    public let ruleName: String?
    public let reason: String
    /// True for a broken rule or file (invalid JSON, a missing key, a query
    /// that is not valid EQL, an unreadable path), false for a valid rule
    /// that the sensor cannot run.
    public let isInvalid: Bool

    public var description: String {
        var label = ""
        switch (ruleName, ruleID) {
        case let (name?, id?): label = "rule \"\(name)\" (\(id)): "
        case let (name?, nil): label = "rule \"\(name)\": "
        case let (nil, id?): label = "rule \(id): "
        case (nil, nil): break
        }
        return "\(origin): \(label)\(reason)"
    }
}

/// The rules the sensor runs, read from Kibana rule files and the built-in
/// rules, with the rules it skipped and the kernel prefilter they need.
public struct RuleSet: Sendable {
    public let loaded: [LoadedRule]
    public let skipped: [SkippedRule]
    /// The prefilter the probe needs for these rules.
    public let prefilter: KernelPrefilter

    public var rules: [CompiledRule] { loaded.map(\.rule) }
    /// The skipped rules that are broken, as opposed to unsupported.
    public var invalid: [SkippedRule] { skipped.filter(\.isInvalid) }

    init(loaded: [LoadedRule], skipped: [SkippedRule]) {
        self.loaded = loaded
        self.skipped = skipped
        self.prefilter = KernelPrefilter(handles: loaded.map(\.handle))
    }

    /// Reads, compiles and checks the rules in `paths` (files or
    /// directories), after the built-in rules when `includeBuiltins` is set.
    /// Every rule or file that cannot be loaded is listed in `skipped` with
    /// its origin and reason.
    ///
    /// Skipped as unsupported: rules of another type or language, rules
    /// disabled in Kibana, queries on events other than process events,
    /// sequences and pipes, plain fields the sensor does not supply, and
    /// rules that no exec can match. A second rule with the rule_id and
    /// version of one already loaded is skipped as a duplicate.
    public static func load(
        paths: [String], includeBuiltins: Bool, catalog: FieldCatalog = .sensor
    ) -> RuleSet {
        var builder = RuleSetBuilder(catalog: catalog)
        if includeBuiltins {
            for text in BuiltinRules.json {
                let document = Result { () throws(JSONValue.ParseError) in try JSONValue.parse(Data(text.utf8)) }
                builder.add(RuleDocument(
                    origin: .builtin, content: document.mapError { .invalid($0.description) }))
            }
        }
        for document in RuleFiles.read(paths: paths) {
            builder.add(document)
        }
        return RuleSet(loaded: builder.loaded, skipped: builder.skipped)
    }

    /// Compiles already parsed rules, such as the built-in ones.
    public init(rules: [DetectionRule], catalog: FieldCatalog = .sensor) {
        var builder = RuleSetBuilder(catalog: catalog)
        for rule in rules {
            builder.add(rule, origin: .builtin)
        }
        self.init(loaded: builder.loaded, skipped: builder.skipped)
    }
}

/// Collects loaded and skipped rules, one document at a time.
private struct RuleSetBuilder {
    let catalog: FieldCatalog
    var loaded: [LoadedRule] = []
    var skipped: [SkippedRule] = []
    /// Origins of the loaded rules by rule_id and version, to find
    /// duplicates.
    var origins: [String: RuleOrigin] = [:]

    init(catalog: FieldCatalog) {
        self.catalog = catalog
    }

    mutating func add(_ document: RuleDocument) {
        let value: JSONValue
        switch document.content {
        case .failure(let problem):
            skip(document.origin, nil, nil, problem)
            return
        case .success(let parsed):
            value = parsed
        }
        if let problem = Self.notARule(value) {
            skip(document.origin, nil, nil, problem)
            return
        }
        let members = Self.ruleMembers(value)
        let ruleID = members?["rule_id"].flatMap(Self.string)
        let name = members?["name"].flatMap(Self.string)
        if case .boolean(false)? = members?["enabled"] {
            skip(document.origin, ruleID, name, .unsupported("the rule is disabled in Kibana"))
            return
        }
        var warnings: [String] = []
        if case .array(let lists)? = members?["exceptions_list"], !lists.isEmpty {
            warnings.append(
                "its \(lists.count) exception list(s) are not applied, so it may alert where Kibana would not")
        }
        do {
            add(try DetectionRule(document: value), origin: document.origin, warnings: warnings)
        } catch {
            skip(document.origin, error.ruleID ?? ruleID, error.ruleName ?? name, Self.problem(error))
        }
    }

    mutating func add(_ rule: DetectionRule, origin: RuleOrigin, warnings: [String] = []) {
        // The category is checked first, so that a rule on file events is
        // reported as such rather than for its first file field.
        if let category = (try? EQLParser.parse(rule.query))?.eventCategory, category != "process" {
            skip(origin, rule.ruleID, rule.name, .unsupported(
                "the query selects \(category) events, but the sensor reports only process events"))
            return
        }
        let compiled: CompiledRule
        do {
            compiled = try rule.compile(catalog: catalog)
        } catch {
            skip(origin, rule.ruleID, rule.name, Self.problem(error))
            return
        }
        let handle = PrefilterDerivation.handle(for: compiled.query)
        if handle.neverMatches {
            skip(origin, rule.ruleID, rule.name, .unsupported(Self.neverMatchesReason(compiled.query)))
            return
        }
        let key = "\(rule.ruleID) v\(rule.version)"
        if let first = origins[key] {
            skip(origin, rule.ruleID, rule.name, .unsupported(
                "duplicate of version \(rule.version) of this rule, already loaded from \(first)"))
            return
        }
        origins[key] = origin
        loaded.append(LoadedRule(rule: compiled, origin: origin, handle: handle, warnings: warnings))
    }

    private mutating func skip(_ origin: RuleOrigin, _ ruleID: String?, _ name: String?, _ problem: RuleLoadProblem) {
        let (reason, isInvalid): (String, Bool)
        switch problem {
        case .unsupported(let text): (reason, isInvalid) = (text, false)
        case .invalid(let text): (reason, isInvalid) = (text, true)
        }
        skipped.append(SkippedRule(origin: origin, ruleID: ruleID, ruleName: name, reason: reason, isInvalid: isInvalid))
    }

    private static func neverMatchesReason(_ query: CompiledQuery) -> String {
        if let field = PrefilterDerivation.excludingField(of: query), let value = ExecConstants.values[field] {
            return "the query can never match an exec: its condition on \(field.rawValue) is false for every exec, because the sensor reports \(field.rawValue) \(value)"
        }
        return "the query can never match an exec: for every exec the sensor reports event.category process, event.type start, event.action exec, event.kind event and host.os.type linux"
    }

    /// Sorts a load error into unsupported or invalid, with its message
    /// without the rule label, which `SkippedRule` adds.
    private static func problem(_ error: RuleError) -> RuleLoadProblem {
        let bare = RuleError(error.reason).description
        switch error.reason {
        case .unsupportedType, .unsupportedLanguage:
            return .unsupported(bare)
        case .invalidQuery(let syntaxError) where syntaxError.isUnsupported:
            return .unsupported("unsupported query at \(syntaxError)")
        case .invalidJSON, .missingKey, .invalidValue, .invalidQuery:
            return .invalid(bare)
        }
    }

    /// Recognizes the other objects found beside rules: the exception lists
    /// and list items of a Kibana export, and saved objects of other types.
    /// Returns nil for anything that may be a rule.
    private static func notARule(_ value: JSONValue) -> RuleLoadProblem? {
        guard case .object(let members) = value, members["rule_id"] == nil else { return nil }
        if members["list_id"] != nil {
            return .unsupported("an exception list or list item, not a rule (the sensor does not apply exceptions)")
        }
        if case .string(let type)? = members["type"], members["attributes"] != nil, type != "security-rule" {
            return .unsupported("a saved object of type \(type), not a rule")
        }
        return nil
    }

    /// Returns the rule's own members, also from inside a saved object's
    /// `attributes`.
    private static func ruleMembers(_ value: JSONValue) -> [String: JSONValue]? {
        guard case .object(let members) = value else { return nil }
        if members["rule_id"] == nil, case .object(let attributes)? = members["attributes"] {
            return attributes
        }
        return members
    }

    private static func string(_ value: JSONValue) -> String? {
        if case .string(let text) = value { return text }
        return nil
    }
}
