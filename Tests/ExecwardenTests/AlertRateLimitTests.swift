import Testing
@testable import ExecwardenCore

@Suite struct AlertRateLimitTests {
    private let second: UInt64 = 1_000_000_000

    @Test func limitsAlertsPerWindow() {
        var limit = AlertRateLimit(maxSignals: 3, window: .seconds(300))
        let admitted = (0..<5).map { limit.admit(at: 1000 * second + UInt64($0) * second) }
        #expect(admitted == [true, true, true, false, false])
    }

    @Test func newWindowAdmitsAgain() {
        var limit = AlertRateLimit(maxSignals: 1, window: .seconds(300))
        let times: [UInt64] = [10, 309, 310, 311]
        let admitted = times.map { limit.admit(at: $0 * second) }
        #expect(admitted == [true, false, true, false])
    }

    @Test func earlierTimeCountsInCurrentWindow() {
        var limit = AlertRateLimit(maxSignals: 1, window: .seconds(300))
        let admitted = [500, 499].map { limit.admit(at: UInt64($0) * second) }
        #expect(admitted == [true, false])
    }

    @Test func defaultIsKibanaDefault() {
        var limit = AlertRateLimit(maxSignals: nil, window: .seconds(1))
        let admitted = (0..<101).filter { _ in limit.admit(at: 5 * second) }.count
        #expect(admitted == 100)
    }

    @Test func noWindowMeansNoLimit() {
        var limit = AlertRateLimit(maxSignals: 1, window: nil)
        let admitted = (0..<10).filter { _ in limit.admit(at: 0) }.count
        #expect(admitted == 10)
    }

    @Test func reloadKeepsCountersOfSameRuleVersion() throws {
        let rules = try BuiltinRules.compiled()
        var active = ActiveRule.replacing([], with: rules, window: .seconds(300))
        active[0].statistics.evaluations = 7
        active[1].statistics.matches = 3

        let reloaded = ActiveRule.replacing(active, with: [rules[1]], window: .seconds(300))
        #expect(reloaded.count == 1)
        #expect(reloaded[0].statistics.version == 10)
        #expect(reloaded[0].statistics.matches == 3)
        #expect(reloaded[0].statistics.evaluations == 0)
    }
}
