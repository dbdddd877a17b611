/// The functions of Elasticsearch EQL, with their argument counts. Names
/// match ignoring case.
enum EQLFunction: String, CaseIterable, Sendable {
    case add, between, cidrMatch, concat, divide, endsWith, indexOf, length, modulo
    case multiply, number, startsWith, string, stringContains, substring, subtract, wildcard

    init?(name: String) {
        let lowercased = name.lowercased()
        guard let function = Self.allCases.first(where: { $0.rawValue.lowercased() == lowercased }) else {
            return nil
        }
        self = function
    }

    /// The accepted argument counts, where an upper bound of `Int.max` means any number.
    var argumentCounts: ClosedRange<Int> {
        switch self {
        case .add, .divide, .endsWith, .modulo, .multiply, .startsWith, .stringContains, .subtract:
            return 2...2
        case .between: return 3...4
        case .cidrMatch, .wildcard: return 2...Int.max
        case .concat: return 1...Int.max
        case .indexOf, .substring: return 2...3
        case .length, .string: return 1...1
        case .number: return 1...2
        }
    }

    /// True for the functions with a case-insensitive `name~` form.
    var hasCaseInsensitiveForm: Bool {
        switch self {
        case .between, .endsWith, .indexOf, .startsWith, .stringContains, .wildcard: return true
        default: return false
        }
    }

    var returnsBoolean: Bool {
        switch self {
        case .cidrMatch, .endsWith, .startsWith, .stringContains, .wildcard: return true
        default: return false
        }
    }

    var arithmeticOperator: ArithmeticOperator? {
        switch self {
        case .add: return .add
        case .subtract: return .subtract
        case .multiply: return .multiply
        case .divide: return .divide
        case .modulo: return .modulo
        default: return nil
        }
    }

    /// The supported functions, as an error message lists them.
    static var supportedNames: String {
        allCases.filter { $0 != .cidrMatch }.map(\.rawValue).joined(separator: ", ")
    }

    var argumentCountDescription: String {
        let counts = argumentCounts
        if counts.upperBound == Int.max { return "at least \(counts.lowerBound)" }
        if counts.count == 1 { return "\(counts.lowerBound)" }
        return "\(counts.lowerBound) or \(counts.upperBound)"
    }
}
