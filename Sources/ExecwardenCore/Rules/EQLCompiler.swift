/// Compiles a parsed query into a `CompiledCondition`: resolves fields
/// against a `FieldCatalog`, compiles patterns and rejects what the engine
/// cannot evaluate. Comparisons of a bare field with literals become
/// `.test` nodes, and the other conditions become `ExpressionPredicate`s.
struct EQLCompiler {
    /// The ECS field `process where` filters on.
    static let eventCategoryField = "event.category"

    let catalog: FieldCatalog
    let constants = ConstantStorage()
    /// The fields the query reads, in order of first use.
    private(set) var fields: [FieldReference] = []

    init(catalog: FieldCatalog) {
        self.catalog = catalog
    }

    mutating func compile(_ query: EQLQuery) throws(EQLSyntaxError) -> CompiledCondition {
        guard let category = query.eventCategory else {
            return try compileCondition(query.condition)
        }
        let categoryField = FieldReference(name: Self.eventCategoryField)
        register(categoryField)
        let filter = CompiledCondition.test(categoryField, .equalsAny([Array(category.utf8)]))
        let condition = try compileCondition(query.condition)
        if case .and(let operands) = condition {
            return .and([filter] + operands)
        }
        return .and([filter, condition])
    }

    // MARK: - Fields

    enum ResolvedField {
        case field(FieldReference)
        /// A `?field` the catalog does not contain: it has no values.
        case missing
    }

    mutating func resolveField(
        _ name: String, isOptional: Bool, at position: SourcePosition
    ) throws(EQLSyntaxError) -> ResolvedField {
        guard catalog.contains(name) else {
            if isOptional { return .missing }
            throw EQLSyntaxError(
                "unknown field \"\(name)\": the sensor does not supply it. Write ?\(name) to read it as a field with no values",
                at: position, isUnsupported: true)
        }
        let reference = FieldReference(name: name, isOptional: isOptional)
        register(reference)
        return .field(reference)
    }

    private mutating func register(_ reference: FieldReference) {
        if !fields.contains(where: { $0.name == reference.name }) {
            fields.append(reference)
        }
    }

    // MARK: - Conditions

    mutating func compileCondition(_ expression: EQLExpression) throws(EQLSyntaxError) -> CompiledCondition {
        switch expression.kind {
        case .and(let operands):
            return .and(try compileConditions(operands))
        case .or(let operands):
            return .or(try compileConditions(operands))
        case .not(let operand):
            return .not(try compileCondition(operand))
        case .literal(.boolean(let value)):
            return .constant(Truth(value))
        case .comparison(let left, let operation, let right):
            return try compileComparison(left, operation, right, at: expression.position)
        case .membership(let value, let items, let caseInsensitive, let negated):
            let membership = try compileMembership(value, items, caseInsensitive: caseInsensitive)
            return negated ? .not(membership) : membership
        case .pattern(let value, let operation, let patterns):
            return try compilePattern(value, operation, patterns)
        case .field:
            return try applyTest(.isTrue, to: expression)
        case .call:
            return try compileBooleanCall(expression)
        case .literal, .arithmetic, .negation:
            throw EQLSyntaxError("expected a condition, found \(Self.describe(expression))", at: expression.position)
        }
    }

    private mutating func compileConditions(_ expressions: [EQLExpression]) throws(EQLSyntaxError) -> [CompiledCondition] {
        var compiled: [CompiledCondition] = []
        for expression in expressions {
            compiled.append(try compileCondition(expression))
        }
        return compiled
    }

    /// Compiles `left op right`. `!=` is `not ==`, as in Elasticsearch, so a
    /// missing field makes `field != "x"` true.
    mutating func compileComparison(
        _ left: EQLExpression, _ operation: ComparisonOperator, _ right: EQLExpression, at position: SourcePosition
    ) throws(EQLSyntaxError) -> CompiledCondition {
        if Self.isNull(left) || Self.isNull(right) {
            return try compileNullComparison(Self.isNull(right) ? left : right, operation, at: position)
        }
        if operation == .notEqual {
            return .not(try compileComparison(left, .equal, right, at: position))
        }
        if case .field(let name, let isOptional) = left.kind, let literal = Self.literal(right) {
            return try compileFieldComparison(name, isOptional, operation, literal, at: left.position)
        }
        if case .field(let name, let isOptional) = right.kind, let literal = Self.literal(left) {
            return try compileFieldComparison(name, isOptional, operation.swapped, literal, at: right.position)
        }
        let field = try singleField(in: [left, right])
        return try makePredicate(reading: field) { compiler throws(EQLSyntaxError) in
            .comparison(try compiler.compileValue(left), operation, try compiler.compileValue(right))
        }
    }

    /// Compiles `field == null` (the field has no value) and `field != null`.
    /// Ordering comparisons with null are never true.
    private mutating func compileNullComparison(
        _ other: EQLExpression, _ operation: ComparisonOperator, at position: SourcePosition
    ) throws(EQLSyntaxError) -> CompiledCondition {
        guard case .field(let name, let isOptional) = other.kind else {
            throw EQLSyntaxError(
                "null can only be compared with a field, as in `field == null`, but found \(Self.describe(other))",
                at: position)
        }
        let resolved = try resolveField(name, isOptional: isOptional, at: other.position)
        guard operation == .equal || operation == .notEqual else {
            return .constant(.false)
        }
        let exists: CompiledCondition
        switch resolved {
        case .missing: exists = .constant(.false)
        case .field(let reference): exists = .test(reference, .exists)
        }
        return operation == .equal ? .not(exists) : exists
    }

    private mutating func compileFieldComparison(
        _ name: String, _ isOptional: Bool, _ operation: ComparisonOperator, _ literal: EQLLiteral,
        at position: SourcePosition
    ) throws(EQLSyntaxError) -> CompiledCondition {
        let test: ValueTest
        if operation == .equal, case .string(let string) = literal {
            test = .equalsAny([Array(string.utf8)])
        } else {
            test = .compare(operation, scalar(for: literal))
        }
        switch try resolveField(name, isOptional: isOptional, at: position) {
        case .missing: return .constant(.false)
        case .field(let reference): return .test(reference, test)
        }
    }
}
