extension EQLCompiler {
    // MARK: - Lists and patterns

    /// Compiles `value in (...)` and `value in~ (...)`. The list must hold
    /// literals, because Elasticsearch rejects comparing two fields.
    mutating func compileMembership(
        _ value: EQLExpression, _ items: [EQLExpression], caseInsensitive: Bool
    ) throws(EQLSyntaxError) -> CompiledCondition {
        var literals: [EQLLiteral] = []
        for item in items {
            guard let literal = Self.literal(item), literal != .null else {
                throw EQLSyntaxError(
                    "expected a literal in the in list, found \(Self.describe(item)). Write `field == null` to test for a missing field",
                    at: item.position)
            }
            literals.append(literal)
        }
        let strings = literals.compactMap { literal -> [UInt8]? in
            if case .string(let string) = literal { return Array(string.utf8) }
            return nil
        }
        if caseInsensitive {
            guard strings.count == literals.count else {
                throw EQLSyntaxError("in~ compares strings only, but the list contains a non-string literal", at: value.position)
            }
            return try applyTest(.equalsAnyIgnoringCase(strings.map(ByteText.foldCase)), to: value)
        }
        if strings.count == literals.count {
            return try applyTest(.equalsAny(strings), to: value)
        }
        return try applyTest(.equalsAnyLiteral(literals.map(scalar(for:))), to: value)
    }

    /// Compiles `:`, `like`, `like~`, `regex` and `regex~`, whose patterns
    /// must be string literals.
    mutating func compilePattern(
        _ value: EQLExpression, _ operation: PatternOperator, _ patterns: [EQLExpression]
    ) throws(EQLSyntaxError) -> CompiledCondition {
        var strings: [String] = []
        for pattern in patterns {
            guard case .literal(.string(let string)) = pattern.kind else {
                throw EQLSyntaxError(
                    "expected a string pattern after \(operation.rawValue), found \(Self.describe(pattern))",
                    at: pattern.position)
            }
            strings.append(string)
        }
        switch operation {
        case .insensitiveEquals, .likeInsensitive:
            return try applyTest(.wildcard(strings.map { WildcardPattern($0, caseInsensitive: true) }), to: value)
        case .like:
            return try applyTest(.wildcard(strings.map { WildcardPattern($0, caseInsensitive: false) }), to: value)
        case .regex, .regexInsensitive:
            var programs: [RegexProgram] = []
            for (string, pattern) in zip(strings, patterns) {
                programs.append(try Self.compileRegex(string, caseInsensitive: operation == .regexInsensitive, at: pattern.position))
            }
            return try applyTest(.regex(programs), to: value)
        }
    }

    static func compileRegex(
        _ pattern: String, caseInsensitive: Bool, at position: SourcePosition
    ) throws(EQLSyntaxError) -> RegexProgram {
        do {
            return try RegexProgram(pattern, caseInsensitive: caseInsensitive)
        } catch {
            throw EQLSyntaxError(
                "invalid regex \"\(pattern)\": \(error.message) at character \(error.offset + 1)", at: position)
        }
    }

    // MARK: - Boolean functions

    /// Compiles a function call used as a condition. `startsWith`,
    /// `endsWith`, `stringContains` and `wildcard` on a bare field with
    /// literal arguments become a wildcard test on the field.
    mutating func compileBooleanCall(_ expression: EQLExpression) throws(EQLSyntaxError) -> CompiledCondition {
        guard case .call(let name, let caseInsensitive, let arguments) = expression.kind else {
            preconditionFailure("compileBooleanCall needs a call")
        }
        let function = try Self.resolveFunction(name, caseInsensitive: caseInsensitive, arguments: arguments, at: expression.position)
        guard function.returnsBoolean else {
            throw EQLSyntaxError(
                "function \(function.rawValue) returns a value, not a condition: compare its result, as in \(function.rawValue)(...) > 0",
                at: expression.position)
        }
        if case .field = arguments[0].kind,
           let patterns = Self.literalPatterns(function, Array(arguments.dropFirst()), caseInsensitive: caseInsensitive) {
            return try applyTest(.wildcard(patterns), to: arguments[0])
        }
        let field = try singleField(in: [expression])
        return try makePredicate(reading: field) { compiler throws(EQLSyntaxError) in
            .truthy(try compiler.compileValue(expression))
        }
    }

    /// Returns the wildcard patterns that stand for the literal arguments of
    /// a boolean string function, or nil when an argument is not a string
    /// literal. The result is empty for `stringContains(x, "")`, which
    /// Elasticsearch documents as false, so no value matches it.
    static func literalPatterns(
        _ function: EQLFunction, _ arguments: [EQLExpression], caseInsensitive: Bool
    ) -> [WildcardPattern]? {
        var strings: [String] = []
        for argument in arguments {
            guard case .literal(.string(let string)) = argument.kind else { return nil }
            strings.append(string)
        }
        let shape: WildcardPattern.Shape
        switch function {
        case .startsWith: shape = .prefix
        case .endsWith: shape = .suffix
        case .stringContains:
            guard !strings[0].isEmpty else { return [] }
            shape = .contains
        case .wildcard:
            return strings.map { WildcardPattern($0, caseInsensitive: caseInsensitive) }
        default:
            return nil
        }
        return [WildcardPattern(literal: Array(strings[0].utf8), shape: shape, caseInsensitive: caseInsensitive)]
    }

    // MARK: - Predicates

    /// Applies `test` to a bare field directly, or to the result of an
    /// expression through a predicate.
    mutating func applyTest(_ test: ValueTest, to value: EQLExpression) throws(EQLSyntaxError) -> CompiledCondition {
        if case .field(let name, let isOptional) = value.kind {
            switch try resolveField(name, isOptional: isOptional, at: value.position) {
            case .missing: return .constant(.false)
            case .field(let reference): return .test(reference, test)
            }
        }
        let field = try singleField(in: [value])
        return try makePredicate(reading: field) { compiler throws(EQLSyntaxError) in
            .test(try compiler.compileValue(value), test)
        }
    }

    /// Builds a predicate over `field`. A predicate over a missing `?field`
    /// is false, because it has no value to satisfy it, and one that reads no
    /// field is evaluated now.
    mutating func makePredicate(
        reading field: (name: String, isOptional: Bool, position: SourcePosition)?,
        body: (inout EQLCompiler) throws(EQLSyntaxError) -> ExpressionPredicate.Body
    ) throws(EQLSyntaxError) -> CompiledCondition {
        var reference: FieldReference?
        if let field {
            switch try resolveField(field.name, isOptional: field.isOptional, at: field.position) {
            case .missing: return .constant(.false)
            case .field(let resolved): reference = resolved
            }
        }
        let predicate = ExpressionPredicate(field: reference, body: try body(&self))
        guard reference != nil else {
            return .constant(predicate.evaluate(NoFieldSource()))
        }
        return .predicate(predicate)
    }

    /// Returns the one field the expressions read, or nil when they read
    /// none, and rejects expressions that read two different fields.
    func singleField(
        in expressions: [EQLExpression]
    ) throws(EQLSyntaxError) -> (name: String, isOptional: Bool, position: SourcePosition)? {
        var found: (name: String, isOptional: Bool, position: SourcePosition)?
        for expression in expressions {
            for field in Self.fieldNames(in: expression) {
                guard let first = found else {
                    found = field
                    continue
                }
                guard first.name == field.name else {
                    throw EQLSyntaxError(
                        "comparing two fields is not supported by Elasticsearch EQL: this condition reads both \(first.name) and \(field.name). Compare each field with a literal instead",
                        at: field.position)
                }
            }
        }
        return found
    }

    static func fieldNames(in expression: EQLExpression) -> [(name: String, isOptional: Bool, position: SourcePosition)] {
        if case .field(let name, let isOptional) = expression.kind {
            return [(name, isOptional, expression.position)]
        }
        return expression.kind.children.flatMap(fieldNames(in:))
    }
}

/// A source with no fields, for evaluating predicates that read none.
private struct NoFieldSource: FieldSource {
    func visitValues(of field: FieldReference, _ visit: (FieldValue) -> Bool) -> FieldVisit {
        .exhausted
    }
}
