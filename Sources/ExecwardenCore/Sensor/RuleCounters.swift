/// Counts of one rule's work since the sensor started, kept across
/// reloads while the rule keeps its rule_id and version.
public struct RuleStatistics: Sendable, Equatable {
    public let ruleID: String
    public let name: String
    public let version: Int
    /// Records the rule was evaluated on: those whose executable file name
    /// or comm fits the rule's prefilter handle, or every record for a rule
    /// without a handle.
    public var evaluations: UInt64 = 0
    /// Evaluations that matched or were uncertain, alerted or not.
    public var matches: UInt64 = 0
    /// Matches that raised no alert because the rule had already raised
    /// its maximum number of alerts in the current window.
    public var suppressed: UInt64 = 0

    public init(ruleID: String, name: String, version: Int) {
        self.ruleID = ruleID
        self.name = name
        self.version = version
    }
}

/// Limits a rule to `limit` alerts per window, like Kibana's `max_signals`
/// per rule run. A window starts at the first match after the previous
/// window ended, so a quiet rule's next alert always gets through.
struct AlertRateLimit: Sendable {
    /// Kibana's default `max_signals` for a rule without one.
    static let defaultLimit = 100

    let limit: UInt64
    /// Window length in nanoseconds, or nil for no limit.
    let window: UInt64?
    private var windowStart: UInt64 = 0
    private var alertsInWindow: UInt64 = 0
    private var hasWindow = false

    init(maxSignals: Int?, window: Duration?) {
        self.limit = UInt64(maxSignals ?? Self.defaultLimit)
        self.window = window.map { duration in
            let (seconds, attoseconds) = duration.components
            return UInt64(max(seconds, 0)) * 1_000_000_000 + UInt64(max(attoseconds, 0) / 1_000_000_000)
        }
    }

    /// Counts one match at `time` (boot-clock nanoseconds) and returns
    /// whether it may raise an alert. Records from different CPUs can
    /// arrive slightly out of order; an earlier time counts in the current
    /// window.
    mutating func admit(at time: UInt64) -> Bool {
        guard let window else { return true }
        if !hasWindow || (time > windowStart && time - windowStart >= window) {
            hasWindow = true
            windowStart = time
            alertsInWindow = 0
        }
        guard alertsInWindow < limit else { return false }
        alertsInWindow += 1
        return true
    }
}

/// A rule in the sensor's hot path, with its counters and rate limit.
struct ActiveRule {
    let rule: CompiledRule
    var statistics: RuleStatistics
    var rateLimit: AlertRateLimit

    init(_ rule: CompiledRule, window: Duration?) {
        self.rule = rule
        self.statistics = RuleStatistics(
            ruleID: rule.rule.ruleID, name: rule.rule.name, version: rule.rule.version)
        self.rateLimit = AlertRateLimit(maxSignals: rule.rule.maxSignals, window: window)
    }

    /// Builds the active rules for `rules`, carrying counters and rate
    /// limits over from `previous` for every rule with the same rule_id,
    /// version and max_signals.
    static func replacing(
        _ previous: [ActiveRule], with rules: [CompiledRule], window: Duration?
    ) -> [ActiveRule] {
        var kept: [String: ActiveRule] = [:]
        for active in previous {
            kept[key(active.rule.rule)] = active
        }
        return rules.map { rule in
            guard let old = kept[key(rule.rule)], old.rule.rule.maxSignals == rule.rule.maxSignals else {
                return ActiveRule(rule, window: window)
            }
            var active = ActiveRule(rule, window: window)
            active.statistics = old.statistics
            active.rateLimit = old.rateLimit
            return active
        }
    }

    private static func key(_ rule: DetectionRule) -> String {
        "\(rule.ruleID)\u{0}\(rule.version)"
    }
}

/// A rule set waiting to be installed by the polling thread.
struct PendingRules: Sendable {
    let ruleSet: RuleSet
    let installed: @Sendable ((any Error)?) -> Void
}
