import Testing
import ExecwardenCore

/// Shorthands that build expected syntax trees.
private func at(_ line: Int, _ column: Int) -> SourcePosition {
    SourcePosition(line: line, column: column)
}

private func field(_ name: String, optional: Bool = false, _ line: Int, _ column: Int) -> EQLExpression {
    EQLExpression(.field(name: name, isOptional: optional), at: at(line, column))
}

private func literal(_ value: EQLLiteral, _ line: Int, _ column: Int) -> EQLExpression {
    EQLExpression(.literal(value), at: at(line, column))
}

private func condition(_ text: String) throws -> EQLExpression {
    try EQLParser.parse(text).condition
}

@Suite struct EQLParserTests {
    @Test func categoryAndComparison() throws {
        let query = try EQLParser.parse(#"process where process.name == "bash""#)
        #expect(query.eventCategory == "process")
        #expect(query.condition == EQLExpression(
            .comparison(field("process.name", 1, 15), .equal, literal(.string("bash"), 1, 31)),
            at: at(1, 28)))
    }

    @Test func anyCategoryAndQuotedCategory() throws {
        #expect(try EQLParser.parse("any where true").eventCategory == nil)
        #expect(try EQLParser.parse(#""my-category" where true"#).eventCategory == "my-category")
        #expect(try EQLParser.parse("ANY WHERE TRUE").eventCategory == nil)
    }

    @Test func notBindsTighterThanAnd() throws {
        let parsed = try condition("any where not a == 1 and b == 2")
        guard case .and(let operands) = parsed.kind, operands.count == 2 else {
            Issue.record("expected and of two operands at the top, found \(parsed.kind)")
            return
        }
        let (left, right) = (operands[0], operands[1])
        guard case .not(let negated) = left.kind else {
            Issue.record("expected not on the left, found \(left.kind)")
            return
        }
        #expect(negated.kind == .comparison(field("a", 1, 15), .equal, literal(.integer(1), 1, 20)))
        #expect(right.kind == .comparison(field("b", 1, 26), .equal, literal(.integer(2), 1, 31)))
    }

    @Test func andBindsTighterThanOr() throws {
        let parsed = try condition("any where a == 1 or b == 2 and c == 3")
        guard case .or(let operands) = parsed.kind, operands.count == 2 else {
            Issue.record("expected or of two operands at the top, found \(parsed.kind)")
            return
        }
        guard case .and(let conjuncts) = operands[1].kind else {
            Issue.record("expected and on the right of or, found \(operands[1].kind)")
            return
        }
        #expect(conjuncts.count == 2)
    }

    @Test func keywordsIgnoreCase() throws {
        let parsed = try condition("any WHERE a == 1 AnD NOT b In (1) oR c LIKE~ \"x\"")
        guard case .or(let operands) = parsed.kind, operands.count == 2 else {
            Issue.record("expected or of two operands at the top, found \(parsed.kind)")
            return
        }
        guard case .and = operands[0].kind else {
            Issue.record("expected and on the left, found \(operands[0].kind)")
            return
        }
        #expect(operands[1].kind == .pattern(field("c", 1, 38), .likeInsensitive, [literal(.string("x"), 1, 46)]))
    }

    @Test func stringEscapes() throws {
        let parsed = try condition(#"any where a == "q\"b\\s\n\t\r\u{41}\u{1F600}""#)
        #expect(parsed.kind == .comparison(
            field("a", 1, 11), .equal, literal(.string("q\"b\\s\n\t\r\u{41}\u{1F600}"), 1, 16)))
    }

    @Test func rawStringKeepsBackslashes() throws {
        let parsed = try condition(#"any where a : """C:\Windows\*""""#)
        #expect(parsed.kind == .pattern(field("a", 1, 11), .insensitiveEquals, [literal(.string(#"C:\Windows\*"#), 1, 15)]))
    }

    @Test func rawStringKeepsTrailingQuotes() throws {
        let parsed = try condition(#"any where a == """say "hi"""""#)
        #expect(parsed.kind == .comparison(field("a", 1, 11), .equal, literal(.string(#"say "hi""#), 1, 16)))
    }

    @Test func quotedAndOptionalFieldNames() throws {
        let parsed = try condition("any where `my field`.`a``b` == 1 and ?process.foo == 2")
        guard case .and(let operands) = parsed.kind, operands.count == 2 else {
            Issue.record("expected and of two operands at the top, found \(parsed.kind)")
            return
        }
        let (left, right) = (operands[0], operands[1])
        #expect(left.kind == .comparison(field("my field.a`b", 1, 11), .equal, literal(.integer(1), 1, 32)))
        #expect(right.kind == .comparison(field("process.foo", optional: true, 1, 38), .equal, literal(.integer(2), 1, 54)))
    }

    @Test func keywordAfterDotIsFieldPart() throws {
        let parsed = try condition("any where event.sequence > 5")
        #expect(parsed.kind == .comparison(field("event.sequence", 1, 11), .greater, literal(.integer(5), 1, 28)))
    }

    @Test func caseInsensitiveFunctionCall() throws {
        let parsed = try condition(#"any where startsWith~(process.name, "Ba")"#)
        #expect(parsed.kind == .call(
            name: "startsWith", caseInsensitive: true,
            arguments: [field("process.name", 1, 23), literal(.string("Ba"), 1, 37)]))
    }

    @Test func membershipForms() throws {
        let negated = try condition(#"any where a not in ("x", "y")"#)
        #expect(negated.kind == .membership(
            field("a", 1, 11), [literal(.string("x"), 1, 21), literal(.string("y"), 1, 26)],
            caseInsensitive: false, negated: true))
        let insensitive = try condition(#"any where a in~ ("x")"#)
        #expect(insensitive.kind == .membership(
            field("a", 1, 11), [literal(.string("x"), 1, 18)], caseInsensitive: true, negated: false))
    }

    @Test func patternOperatorsTakeLists() throws {
        let parsed = try condition(#"any where a regex~ ("x.*", "y")"#)
        #expect(parsed.kind == .pattern(
            field("a", 1, 11), .regexInsensitive, [literal(.string("x.*"), 1, 21), literal(.string("y"), 1, 28)]))
    }

    @Test func numbersAndUnaryMinus() throws {
        let parsed = try condition("any where a == -1.5e2 or b == .5 or c == 7")
        guard case .or(let operands) = parsed.kind, operands.count == 3 else {
            Issue.record("expected or of three operands, found \(parsed.kind)")
            return
        }
        let (first, second, last) = (operands[0], operands[1], operands[2])
        #expect(first.kind == .comparison(
            field("a", 1, 11), .equal, EQLExpression(.negation(literal(.decimal(150), 1, 17)), at: at(1, 16))))
        #expect(second.kind == .comparison(field("b", 1, 26), .equal, literal(.decimal(0.5), 1, 31)))
        #expect(last.kind == .comparison(field("c", 1, 37), .equal, literal(.integer(7), 1, 42)))
    }

    @Test func arithmeticPrecedence() throws {
        let parsed = try condition("any where a + 2 * 3 > 4")
        guard case .comparison(let sum, .greater, _) = parsed.kind,
              case .arithmetic(_, .add, let product) = sum.kind
        else {
            Issue.record("expected (a + (2 * 3)) > 4, found \(parsed.kind)")
            return
        }
        #expect(product.kind == .arithmetic(literal(.integer(2), 1, 15), .multiply, literal(.integer(3), 1, 19)))
    }

    @Test func commentsAreSkipped() throws {
        let parsed = try condition("any where /* outer /* nested */ still */ a == 1 // trailing\n")
        #expect(parsed.kind == .comparison(field("a", 1, 42), .equal, literal(.integer(1), 1, 47)))
    }

    @Test func positionsCountLinesAndColumns() throws {
        let parsed = try condition("process where\n  a == 1 and\n  b == 2")
        guard case .and(let operands) = parsed.kind, operands.count == 2 else {
            Issue.record("expected and of two operands at the top, found \(parsed.kind)")
            return
        }
        let (left, right) = (operands[0], operands[1])
        #expect(left.position == at(2, 5))
        #expect(right.position == at(3, 5))
        #expect(parsed.position == at(2, 10))
    }

    @Test func longOrChainStaysFlat() throws {
        let terms = (0..<2000).map { "process.pid == \($0)" }.joined(separator: " or ")
        let parsed = try condition("any where " + terms)
        guard case .or(let operands) = parsed.kind else {
            Issue.record("expected or at the top, found \(parsed.kind)")
            return
        }
        #expect(operands.count == 2000)
        #expect(parsed.height == 3)
    }

    @Test func conditionParsesWithoutCategory() throws {
        let parsed = try EQLParser.parseCondition("a == 1")
        #expect(parsed.kind == .comparison(field("a", 1, 1), .equal, literal(.integer(1), 1, 6)))
    }

    @Test func unshareRuleQueryParses() throws {
        let rule = try #require(try BuiltinRules.load().first)
        let query = try EQLParser.parse(rule.query)
        #expect(query.eventCategory == "process")
    }
}

/// A query the engine rejects, the position it reports and a fragment of
/// the message.
struct RejectedQuery: Sendable, CustomTestStringConvertible {
    let label: String
    let query: String
    let line: Int
    let column: Int
    let messageFragment: String

    var testDescription: String { label }

    init(_ label: String, _ query: String, _ line: Int, _ column: Int, _ messageFragment: String) {
        self.label = label
        self.query = query
        self.line = line
        self.column = column
        self.messageFragment = messageFragment
    }

    static let all: [RejectedQuery] = [
        RejectedQuery("unknown function", #"process where foo(process.name)"#, 1, 15, #"unknown function "foo""#),
        RejectedQuery("unsupported cidrMatch", #"any where cidrMatch(process.name, "10.0.0.0/8")"#, 1, 11, "cidrMatch is not supported"),
        RejectedQuery("pipe", "process where true | head 5", 1, 20, #"pipes are not supported: found "| head""#),
        RejectedQuery("pipe on second line", "process where true\n| tail 2", 2, 1, "pipes are not supported"),
        RejectedQuery("sequence", "sequence [process where true] [process where true]", 1, 1, "sequence queries are not supported"),
        RejectedQuery("join", "join [process where true] [process where true]", 1, 1, "join queries are not supported"),
        RejectedQuery("sample", "sample by host.id [process where true] [process where true]", 1, 1, "sample queries are not supported"),
        RejectedQuery("unterminated string", #"process where process.name == "bash"#, 1, 31, "unterminated string"),
        RejectedQuery("string across lines", "process where process.name == \"ba\nsh\"", 1, 31, "found a line break"),
        RejectedQuery("unterminated raw string", #"process where process.name == """bash"#, 1, 31, "unterminated raw string"),
        RejectedQuery("single-quoted string", "process where process.name == 'bash'", 1, 31, "single-quoted strings are not supported"),
        RejectedQuery("question-mark raw string", #"process where process.name == ?"bash""#, 1, 31, #"?"..." raw strings are not supported"#),
        RejectedQuery("invalid escape", #"process where process.name == "a\qb""#, 1, 33, #"invalid escape \q"#),
        RejectedQuery("invalid unicode escape", #"process where process.name == "\u{d800}""#, 1, 32, "invalid Unicode escape"),
        RejectedQuery("unknown sensor field", #"process where process.working_directory : "*tmp*""#, 1, 15, #"unknown field "process.working_directory""#),
        RejectedQuery("unknown field in function", #"process where startsWith(file.path, "/tmp")"#, 1, 26, #"unknown field "file.path""#),
        RejectedQuery("two fields compared", "process where process.name == process.parent.name", 1, 31, "comparing two fields is not supported"),
        RejectedQuery("two fields in function", "process where length(process.name) < length(process.parent.name)", 1, 45, "comparing two fields"),
        RejectedQuery("chained comparison", "process where 1 < process.pid < 5", 1, 31, "comparisons cannot be chained"),
        RejectedQuery("single equals", #"process where process.name = "bash""#, 1, 28, "= is not an EQL operator"),
        RejectedQuery("array index", #"process where process.args[0] == "a""#, 1, 27, "array indexes"),
        RejectedQuery("missing where", #"process process.name == "a""#, 1, 9, "expected where after the event category"),
        RejectedQuery("missing category", #"where process.name == "a""#, 1, 1, "expected an event category"),
        RejectedQuery("wrong argument count", "process where startsWith(process.name)", 1, 15, "startsWith takes 2 arguments, found 1"),
        RejectedQuery("tilde on length", "process where length~(process.name) > 1", 1, 15, "has no case-insensitive form"),
        RejectedQuery("invalid regex", #"process where process.name regex "a(b""#, 1, 34, #"invalid regex "a(b": expected ) to close the group"#),
        RejectedQuery("regex operator", #"process where process.name regex "a@""#, 1, 34, #"the Lucene operator "@" is not supported"#),
        RejectedQuery("non-string in~ list", "process where process.pid in~ (1, 2)", 1, 15, "in~ compares strings only"),
        RejectedQuery("field in list", "process where process.name in (process.parent.name)", 1, 32, "expected a literal in the in list"),
        RejectedQuery("non-string pattern", "process where process.name : 5", 1, 30, "expected a string pattern after :"),
        RejectedQuery("string as condition", #"process where "bash""#, 1, 15, "expected a condition, found the string"),
        RejectedQuery("number function as condition", "process where length(process.name)", 1, 15, "returns a value, not a condition"),
        RejectedQuery("empty query", "", 1, 1, "expected an event category"),
        RejectedQuery("trailing token", "process where true true", 1, 20, "expected `and`, `or` or end of query, found \"true\""),
        RejectedQuery("missing closing parenthesis", #"process where process.name in ("a", "b""#, 1, 40, #"expected ")" or "," in the in list"#),
        RejectedQuery("unterminated comment", "process where true /* open", 1, 20, "unterminated comment"),
        RejectedQuery("unexpected character", "process where process.pid ! 5", 1, 27, "unexpected character \"!\""),
        RejectedQuery("integer out of range", "process where process.pid == 99999999999999999999", 1, 30, "out of range"),
        RejectedQuery("null compared with function", "process where length(process.name) == null", 1, 36, "null can only be compared with a field"),
        RejectedQuery("deep parentheses", "process where " + String(repeating: "(", count: 300) + "true" + String(repeating: ")", count: 300), 1, 15 + 200, "nested more than 200 levels"),
        RejectedQuery("long arithmetic chain", "process where process.pid" + String(repeating: " + 1", count: 500) + " > 0", 1, 4 * 400 + 23, "nested more than 400 levels"),
        RejectedQuery("deep regex groups", #"process where process.name regex ""# + String(repeating: "(", count: 150) + "a" + String(repeating: ")", count: 150) + #"""#, 1, 34, "nested more than 100 levels"),
        RejectedQuery("non-literal greedy", #"process where between(process.name, "a", "b", 1) == "x""#, 1, 47, "greedy argument of between"),
    ]
}

@Suite struct EQLRejectionTests {
    @Test("rejected query", arguments: RejectedQuery.all)
    func queryIsRejectedWithPosition(_ rejected: RejectedQuery) {
        #expect(throws: EQLSyntaxError.self) {
            _ = try CompiledQuery(rejected.query, catalog: .sensor)
        }
        do {
            _ = try CompiledQuery(rejected.query, catalog: .sensor)
        } catch {
            #expect(error.line == rejected.line, "\(error)")
            #expect(error.column == rejected.column, "\(error)")
            #expect(error.message.contains(rejected.messageFragment), "\(error)")
        }
    }

    @Test func optionalUnknownFieldCompiles() throws {
        let query = try CompiledQuery(#"process where ?process.working_directory : "*tmp*""#, catalog: .sensor)
        #expect(query.fields.map(\.name) == ["event.category"])
    }

    @Test func anyCatalogAcceptsEveryField() throws {
        let query = try CompiledQuery(#"process where process.command_line : "*curl*""#, catalog: .any)
        #expect(query.fields.map(\.name) == ["event.category", "process.command_line"])
    }

    @Test func customCatalogRejectsOtherFields() {
        let catalog = FieldCatalog(fieldNames: ["event.category", "process.name"])
        #expect(throws: EQLSyntaxError.self) {
            _ = try CompiledQuery(#"process where process.executable == "/bin/sh""#, catalog: catalog)
        }
        #expect(throws: Never.self) {
            _ = try CompiledQuery(#"process where process.name == "sh""#, catalog: catalog)
        }
    }

    @Test func errorDescriptionNamesPosition() {
        let error = EQLSyntaxError("expected where", at: SourcePosition(line: 3, column: 7))
        #expect(error.description == "line 3, column 7: expected where")
    }
}
