import Foundation
import Testing
import ExecwardenCore

/// A query, an ECS event and the result Elasticsearch gives for them.
struct EvaluationCase: Sendable, CustomTestStringConvertible {
    let label: String
    let query: String
    let event: String
    let expected: Verdict

    var testDescription: String { label }

    /// Creates a case whose query is `any where <condition>`.
    init(_ label: String, _ condition: String, _ event: String, _ expected: Verdict) {
        self.init(label, query: "any where " + condition, event: event, expected: expected)
    }

    init(_ label: String, query: String, event: String, expected: Verdict) {
        self.label = label
        self.query = query
        self.event = event
        self.expected = expected
    }
}

extension EvaluationCase {
    static let equality: [EvaluationCase] = [
        .init("== exact", #"process.name == "bash""#, #"{"process":{"name":"bash"}}"#, .match),
        .init("== is case-sensitive", #"process.name == "bash""#, #"{"process":{"name":"Bash"}}"#, .noMatch),
        .init("== on missing field", #"process.name == "bash""#, #"{"process":{}}"#, .noMatch),
        .init("== star is literal", #"process.name == "ba*""#, #"{"process":{"name":"bash"}}"#, .noMatch),
        .init("== matches literal star", #"process.name == "ba*""#, #"{"process":{"name":"ba*"}}"#, .match),
        .init("== any array element", #"process.args == "-m""#, #"{"process":{"args":["unshare","-m"]}}"#, .match),
        .init("== on empty array", #"process.args == "-m""#, #"{"process":{"args":[]}}"#, .noMatch),
        .init("== on null", #"process.args == "-m""#, #"{"process":{"args":null}}"#, .noMatch),
        .init("!= on missing field", #"process.name != "bash""#, #"{}"#, .match),
        .init("!= on equal value", #"process.name != "bash""#, #"{"process":{"name":"bash"}}"#, .noMatch),
        .init("!= on other value", #"process.name != "bash""#, #"{"process":{"name":"sh"}}"#, .match),
        .init("!= when one element equals", #"process.args != "-m""#, #"{"process":{"args":["-m","-u"]}}"#, .noMatch),
        .init("== literal on left", #""bash" == process.name"#, #"{"process":{"name":"bash"}}"#, .match),
        .init("string less than", #"process.name < "b""#, #"{"process":{"name":"a"}}"#, .match),
        .init("string not less than", #"process.name < "b""#, #"{"process":{"name":"c"}}"#, .noMatch),
        .init("string order is byte-wise", #"process.name < "a""#, #"{"process":{"name":"Z"}}"#, .match),
    ]

    static let numbersAndNull: [EvaluationCase] = [
        .init("integer ==", "process.pid == 42", #"{"process":{"pid":42}}"#, .match),
        .init("integer against keyword text", "process.pid == 42", #"{"process":{"pid":"42"}}"#, .match),
        .init("keyword text against integer", #"user.id == "1000""#, #"{"user":{"id":1000}}"#, .match),
        .init("integer <", "process.pid < 100", #"{"process":{"pid":42}}"#, .match),
        .init("integer >= fails", "process.pid >= 43", #"{"process":{"pid":42}}"#, .noMatch),
        .init("literal on left swaps operator", "100 > process.pid", #"{"process":{"pid":42}}"#, .match),
        .init("negative literal", "process.pid > -1", #"{"process":{"pid":0}}"#, .match),
        .init("any array element >", "process.pid > 5", #"{"process":{"pid":[1,10]}}"#, .match),
        .init("double ==", "x.ratio == 1.5", #"{"x":{"ratio":1.5}}"#, .match),
        .init("double against integer", "x.ratio < 2", #"{"x":{"ratio":1.5}}"#, .match),
        .init("boolean == true", "process.interactive == true", #"{"process":{"interactive":true}}"#, .match),
        .init("boolean == true on false", "process.interactive == true", #"{"process":{"interactive":false}}"#, .noMatch),
        .init("bare boolean field", "process.interactive", #"{"process":{"interactive":true}}"#, .match),
        .init("bare boolean field false", "process.interactive", #"{"process":{"interactive":false}}"#, .noMatch),
        .init("== null on missing", "process.name == null", #"{}"#, .match),
        .init("== null on empty array", "process.name == null", #"{"process":{"name":[]}}"#, .match),
        .init("== null on JSON null", "process.name == null", #"{"process":{"name":null}}"#, .match),
        .init("== null on value", "process.name == null", #"{"process":{"name":"a"}}"#, .noMatch),
        .init("!= null on value", "process.name != null", #"{"process":{"name":"a"}}"#, .match),
        .init("!= null on missing", "process.name != null", #"{}"#, .noMatch),
        .init("null on the left", "null == process.name", #"{}"#, .match),
        .init("true condition", "true", #"{}"#, .match),
        .init("false condition", "false", #"{}"#, .noMatch),
    ]

    static let insensitiveEquals: [EvaluationCase] = [
        .init(": ignores case", #"process.name : "BASH""#, #"{"process":{"name":"bash"}}"#, .match),
        .init(": suffix wildcard", #"process.parent.executable : "*/lib/systemd/systemd-udevd""#,
              #"{"process":{"parent":{"executable":"/usr/lib/systemd/systemd-udevd"}}}"#, .match),
        .init(": star matches empty run", #"process.executable : "/usr/*bin""#, #"{"process":{"executable":"/usr/bin"}}"#, .match),
        .init(": star matches slashes", #"process.executable : "/*/bash""#, #"{"process":{"executable":"/usr/local/bin/bash"}}"#, .match),
        .init(": is anchored", #"process.executable : "*/bash""#, #"{"process":{"executable":"/bin/bash2"}}"#, .noMatch),
        .init(": question mark one character", #"process.name : "ba?h""#, #"{"process":{"name":"bash"}}"#, .match),
        .init(": question mark needs a character", #"process.name : "ba?h""#, #"{"process":{"name":"bah"}}"#, .noMatch),
        .init(": question mark is one code point", #"process.name : "caf?""#, #"{"process":{"name":"café"}}"#, .match),
        .init(": two question marks on one code point", #"process.name : "caf??""#, #"{"process":{"name":"café"}}"#, .noMatch),
        .init(": backslash is literal", #"file.path : "C:\\Windows\\*""#, #"{"file":{"path":"C:\\Windows\\cmd.exe"}}"#, .match),
        .init(": backslash does not escape star", #"file.path : "x\\*""#, #"{"file":{"path":"x*"}}"#, .noMatch),
        .init(": backslash then wildcard", #"file.path : "x\\*""#, #"{"file":{"path":"x\\abc"}}"#, .match),
        .init(": raw string pattern", #"file.path : """C:\Windows\*""""#, #"{"file":{"path":"c:\\windows\\system32"}}"#, .match),
        .init(": no Unicode folding", #"process.name : "é""#, #"{"process":{"name":"É"}}"#, .noMatch),
        .init(": list is an or", #"process.name : ("sh", "BA*")"#, #"{"process":{"name":"bash"}}"#, .match),
        .init(": list without match", #"process.name : ("sh", "zsh")"#, #"{"process":{"name":"bash"}}"#, .noMatch),
        .init(": any array element", #"process.args : "--USER""#, #"{"process":{"args":["unshare","--user"]}}"#, .match),
        .init(": on missing field", #"process.name : "*""#, #"{}"#, .noMatch),
        .init(": star on empty string", #"process.name : "*""#, #"{"process":{"name":""}}"#, .match),
        .init(": on integer text", #"process.pid : "4*""#, #"{"process":{"pid":42}}"#, .match),
    ]

    static let listsAndPatterns: [EvaluationCase] = [
        .init("in member", #"process.name in ("bash", "sh")"#, #"{"process":{"name":"sh"}}"#, .match),
        .init("in is case-sensitive", #"process.name in ("bash", "sh")"#, #"{"process":{"name":"SH"}}"#, .noMatch),
        .init("in~ ignores case", #"process.name in~ ("bash", "sh")"#, #"{"process":{"name":"SH"}}"#, .match),
        .init("not in on missing field", #"process.name not in ("bash")"#, #"{}"#, .match),
        .init("not in on member", #"process.name not in ("bash")"#, #"{"process":{"name":"bash"}}"#, .noMatch),
        .init("in with numbers", "process.pid in (1, 42)", #"{"process":{"pid":42}}"#, .match),
        .init("in with mixed literals", #"process.pid in ("x", 42)"#, #"{"process":{"pid":42}}"#, .match),
        .init("like is case-sensitive", #"process.name like "ba*""#, #"{"process":{"name":"Bash"}}"#, .noMatch),
        .init("like matches", #"process.name like ("x", "ba*")"#, #"{"process":{"name":"bash"}}"#, .match),
        .init("like~ ignores case", #"process.name like~ "BA*""#, #"{"process":{"name":"bash"}}"#, .match),
        .init("regex dot", #"process.name regex "ba.h""#, #"{"process":{"name":"bash"}}"#, .match),
        .init("regex is anchored", #"process.name regex "ba""#, #"{"process":{"name":"bash"}}"#, .noMatch),
        .init("regex is case-sensitive", #"process.name regex "BA.*""#, #"{"process":{"name":"bash"}}"#, .noMatch),
        .init("regex~ ignores case", #"process.name regex~ "BA.*""#, #"{"process":{"name":"bash"}}"#, .match),
        .init("regex class and plus", #"process.name regex "[a-c]+sh""#, #"{"process":{"name":"abcsh"}}"#, .match),
        .init("regex negated class", #"process.name regex "[^a]+""#, #"{"process":{"name":"bcd"}}"#, .match),
        .init("regex negated class rejects", #"process.name regex "[^a]+""#, #"{"process":{"name":"bad"}}"#, .noMatch),
        .init("regex bounded repetition", #"process.name regex "a{2,3}""#, #"{"process":{"name":"aaa"}}"#, .match),
        .init("regex above repetition bound", #"process.name regex "a{2,3}""#, #"{"process":{"name":"aaaa"}}"#, .noMatch),
        .init("regex alternation group", #"process.name regex "(foo|bar)baz""#, #"{"process":{"name":"barbaz"}}"#, .match),
        .init("regex digit class", #"process.name regex "python3\\.\\d+""#, #"{"process":{"name":"python3.11"}}"#, .match),
        .init("regex optional", #"process.name regex "colou?r""#, #"{"process":{"name":"color"}}"#, .match),
        .init("regex dot is one code point", #"process.name regex "caf.""#, #"{"process":{"name":"café"}}"#, .match),
        .init("regex quoted literal", #"process.name regex "\"a+\"b+""#, #"{"process":{"name":"a+bbb"}}"#, .match),
        .init("regex list", #"process.name regex ("x", "b.*")"#, #"{"process":{"name":"bash"}}"#, .match),
    ]

    static let notAndOptional: [EvaluationCase] = [
        .init("not == on missing field", #"not process.name == "x""#, #"{}"#, .match),
        .init("not : on missing field", #"not process.name : "x*""#, #"{}"#, .match),
        .init("not when one element matches", #"not process.args == "/usr/bin/snap""#,
              #"{"process":{"args":["snap","/usr/bin/snap"]}}"#, .noMatch),
        .init("not when no element matches", #"not process.args == "/usr/bin/snap""#,
              #"{"process":{"args":["/usr/bin/snapctl"]}}"#, .match),
        .init("double not", #"not not process.name == "x""#, #"{"process":{"name":"x"}}"#, .match),
        .init("optional field present", #"?process.name == "x""#, #"{"process":{"name":"x"}}"#, .match),
        .init("optional field missing", #"?process.name == "x""#, #"{}"#, .noMatch),
        .init("not optional field missing", #"not ?process.name == "x""#, #"{}"#, .match),
        .init("and with or", #"process.name == "a" and (process.pid == 1 or process.pid == 2)"#,
              #"{"process":{"name":"a","pid":2}}"#, .match),
    ]

    static let functions: [EvaluationCase] = [
        .init("startsWith", #"startsWith(process.name, "ba")"#, #"{"process":{"name":"bash"}}"#, .match),
        .init("startsWith is case-sensitive", #"startsWith(process.name, "BA")"#, #"{"process":{"name":"bash"}}"#, .noMatch),
        .init("startsWith~", #"startsWith~(process.name, "BA")"#, #"{"process":{"name":"bash"}}"#, .match),
        .init("startsWith star is literal", #"startsWith(process.name, "b*")"#, #"{"process":{"name":"bash"}}"#, .noMatch),
        .init("endsWith", #"endsWith(process.executable, "/bash")"#, #"{"process":{"executable":"/bin/bash"}}"#, .match),
        .init("endsWith~", #"endsWith~(process.executable, "/BASH")"#, #"{"process":{"executable":"/bin/bash"}}"#, .match),
        .init("stringContains", #"stringContains(process.command_line, "curl")"#,
              #"{"process":{"command_line":"sh -c curl x"}}"#, .match),
        .init("stringContains~", #"stringContains~(process.command_line, "CURL")"#,
              #"{"process":{"command_line":"sh -c curl x"}}"#, .match),
        .init("stringContains empty needle", #"stringContains(process.command_line, "")"#,
              #"{"process":{"command_line":"x"}}"#, .noMatch),
        .init("not startsWith on missing", #"not startsWith(process.name, "a")"#, #"{}"#, .match),
        .init("startsWith any element", #"startsWith(process.args, "--map")"#,
              #"{"process":{"args":["unshare","--map-root-user"]}}"#, .match),
        .init("startsWith literal source", #"startsWith("bash", process.name)"#, #"{"process":{"name":"ba"}}"#, .match),
        .init("length ==", "length(process.name) == 4", #"{"process":{"name":"bash"}}"#, .match),
        .init("length >", "length(process.name) > 10", #"{"process":{"name":"bash"}}"#, .noMatch),
        .init("length counts characters", "length(process.name) == 4", #"{"process":{"name":"café"}}"#, .match),
        .init("length counts UTF-16 units", "length(process.name) == 2", #"{"process":{"name":"😀"}}"#, .match),
        .init("length any element", "length(process.args) > 5", #"{"process":{"args":["a","longargument"]}}"#, .match),
        .init("length on missing", "length(process.name) >= 0", #"{}"#, .noMatch),
        .init("substring", #"substring(process.name, 0, 2) == "ba""#, #"{"process":{"name":"bash"}}"#, .match),
        .init("substring negative start", #"substring(process.name, -2) == "sh""#, #"{"process":{"name":"bash"}}"#, .match),
        .init("concat", #"concat(process.name, "-", 1) == "bash-1""#, #"{"process":{"name":"bash"}}"#, .match),
        .init("concat with null", #"concat(process.name, null) == "bash""#, #"{"process":{"name":"bash"}}"#, .noMatch),
        .init("between", #"between(process.executable, "/usr/", "/") == "bin""#,
              #"{"process":{"executable":"/usr/bin/bash"}}"#, .match),
        .init("between greedy", #"between(process.executable, "/", "/", true) == "usr/bin""#,
              #"{"process":{"executable":"/usr/bin/bash"}}"#, .match),
        .init("between~", #"between~(process.executable, "/USR/", "/") == "bin""#,
              #"{"process":{"executable":"/usr/bin/bash"}}"#, .match),
        .init("indexOf", #"indexOf(process.name, "s") == 2"#, #"{"process":{"name":"bash"}}"#, .match),
        .init("indexOf missing needle", #"indexOf(process.name, "z") >= 0"#, #"{"process":{"name":"bash"}}"#, .noMatch),
        .init("number of keyword", "number(labels.count) + 1 == 43", #"{"labels":{"count":"42"}}"#, .match),
        .init("number hexadecimal", "number(labels.count) == 255", #"{"labels":{"count":"0xff"}}"#, .match),
        .init("number float", "number(labels.count) > 1.2", #"{"labels":{"count":" 1.25 "}}"#, .match),
        .init("string of integer", #"string(process.pid) : "4*""#, #"{"process":{"pid":42}}"#, .match),
        .init("add", "add(process.pid, 1) == 43", #"{"process":{"pid":42}}"#, .match),
        .init("multiply operator", "process.pid * 2 == 84", #"{"process":{"pid":42}}"#, .match),
        .init("integer division truncates", "process.pid / 4 == 10", #"{"process":{"pid":42}}"#, .match),
        .init("float division", "process.pid / 4.0 == 10.5", #"{"process":{"pid":42}}"#, .match),
        .init("modulo", "process.pid % 5 == 2", #"{"process":{"pid":42}}"#, .match),
        .init("division by zero", "process.pid / 0 == 0", #"{"process":{"pid":42}}"#, .noMatch),
        .init("wildcard function", #"wildcard(process.name, "z*", "b*")"#, #"{"process":{"name":"bash"}}"#, .match),
        .init("wildcard is case-sensitive", #"wildcard(process.name, "B*")"#, #"{"process":{"name":"bash"}}"#, .noMatch),
        .init("function result with pattern", #"substring(process.name, 1) : "AS*""#, #"{"process":{"name":"bash"}}"#, .match),
        .init("function result in list", #"substring(process.name, 0, 1) in ("a", "b")"#, #"{"process":{"name":"bash"}}"#, .match),
        .init("constant predicate", "length(\"abc\") == 3", #"{}"#, .match),
    ]

    static let documentShapes: [EvaluationCase] = [
        .init("dotted key", #"process.name == "bash""#, #"{"process.name":"bash"}"#, .match),
        .init("mixed dotted and nested keys", #"process.parent.name == "sh""#,
              #"{"process":{"parent.name":"sh","name":"bash"}}"#, .match),
        .init("dotted and nested values merge", #"process.name == "sh""#,
              #"{"process":{"name":"bash"},"process.name":"sh"}"#, .match),
        .init("array of objects", #"process.parent.name == "b""#,
              #"{"process":{"parent":[{"name":"a"},{"name":"b"}]}}"#, .match),
        .init("nested arrays flatten", #"process.args == "c""#, #"{"process":{"args":[["a"],["b",["c"]]]}}"#, .match),
        .init("category matches", query: "process where true", event: #"{"event":{"category":["process"]}}"#, expected: .match),
        .init("category scalar", query: "process where true", event: #"{"event":{"category":"process"}}"#, expected: .match),
        .init("category is case-sensitive", query: "process where true", event: #"{"event":{"category":"Process"}}"#, expected: .noMatch),
        .init("other category", query: "process where true", event: #"{"event":{"category":["file"]}}"#, expected: .noMatch),
        .init("missing category", query: "process where true", event: #"{}"#, expected: .noMatch),
        .init("any of several categories", query: "file where true",
              event: #"{"event":{"category":["process","file"]}}"#, expected: .match),
    ]

    static let arraysAndEscapes: [EvaluationCase] = [
        .init("in~ any array element", #"process.args in~ ("-M")"#, #"{"process":{"args":["unshare","-m"]}}"#, .match),
        .init("like~ list any element", #"process.args like~ ("x", "*MAP*")"#,
              #"{"process":{"args":["unshare","--map-root-user"]}}"#, .match),
        .init("regex any element", #"process.args regex "--map-.*""#, #"{"process":{"args":["x","--map-user"]}}"#, .match),
        .init("not in when one element is a member", #"process.args not in ("-m")"#,
              #"{"process":{"args":["-u","-m"]}}"#, .noMatch),
        .init("not in when no element is a member", #"process.args not in ("-m")"#, #"{"process":{"args":["-u"]}}"#, .match),
        .init("not like on empty array", #"not process.args like "/snap/*""#, #"{"process":{"args":[]}}"#, .match),
        .init("not like~ when one element matches", #"not process.args like~ "/SNAP/*""#,
              #"{"process":{"args":["a","/snap/x"]}}"#, .noMatch),
        .init("escaped quote", #"process.name == "a\"b""#, #"{"process":{"name":"a\"b"}}"#, .match),
        .init("escaped tab", #"process.name == "x\ty""#, #"{"process":{"name":"x\ty"}}"#, .match),
        .init("escaped backslash", #"process.name == "x\\y""#, #"{"process":{"name":"x\\y"}}"#, .match),
        .init("unicode escape", #"process.name == "caf\u{e9}""#, #"{"process":{"name":"café"}}"#, .match),
        .init("stringContains~ any element", #"stringContains~(process.args, "SNAP")"#,
              #"{"process":{"args":["/usr/bin/snap"]}}"#, .match),
        .init("endsWith~ on missing optional", #"endsWith~(?process.missing, "x")"#, #"{}"#, .noMatch),
        .init("not endsWith~ on missing optional", #"not endsWith~(?process.missing, "x")"#, #"{}"#, .match),
        .init("length of an empty element", "length(process.args) == 0", #"{"process":{"args":["", "a"]}}"#, .match),
        .init("add of length", "add(length(process.name), 1) == 5", #"{"process":{"name":"bash"}}"#, .match),
        .init("concat of one field twice", #"concat(process.name, "/", process.name) == "bash/bash""#,
              #"{"process":{"name":"bash"}}"#, .match),
        .init("substring negative end", #"substring(process.name, 1, -1) == "as""#, #"{"process":{"name":"bash"}}"#, .match),
        .init("range on one field", "process.pid >= 42 and process.pid <= 42", #"{"process":{"pid":42}}"#, .match),
        .init("boolean == false", "process.interactive == false", #"{"process":{"interactive":false}}"#, .match),
        .init("!= null on empty array", "process.name != null", #"{"process":{"name":[]}}"#, .noMatch),
    ]

    static let all = equality + numbersAndNull + insensitiveEquals + listsAndPatterns + notAndOptional + functions
        + documentShapes + arraysAndEscapes
}

/// Wraps a JSON event and reports `process.args` as cut short by the
/// capture limit: `.incomplete` whenever no visited value matched.
struct TruncatedArgumentsSource: FieldSource {
    let event: JSONFieldSource

    func visitValues(of field: FieldReference, _ visit: (FieldValue) -> Bool) -> FieldVisit {
        let result = event.visitValues(of: field, visit)
        if field.name == "process.args" && result == .exhausted {
            return .incomplete
        }
        return result
    }
}

@Suite struct RuleEvaluatorTests {
    @Test("evaluation", arguments: EvaluationCase.all)
    func caseGivesElasticsearchResult(_ testCase: EvaluationCase) throws {
        let query = try CompiledQuery(testCase.query, catalog: .any)
        let verdict = query.evaluate(try JSONFieldSource(json: testCase.event))
        #expect(verdict == testCase.expected)
    }

    @Test func unknownOptionalFieldIsNullForSensor() throws {
        let event = try JSONFieldSource(json: #"{"process":{"working_directory":"/tmp/x"}}"#)
        let matchQuery = try CompiledQuery(#"any where ?process.working_directory : "/tmp*""#, catalog: .sensor)
        #expect(matchQuery.evaluate(event) == .noMatch)
        let nullQuery = try CompiledQuery("any where ?process.working_directory == null", catalog: .sensor)
        #expect(nullQuery.evaluate(event) == .match)
        let notNullQuery = try CompiledQuery("any where ?process.working_directory != null", catalog: .sensor)
        #expect(notNullQuery.evaluate(event) == .noMatch)
        let functionQuery = try CompiledQuery(#"any where not startsWith(?process.working_directory, "/tmp")"#, catalog: .sensor)
        #expect(functionQuery.evaluate(event) == .match)
    }

    @Test func longConcatIsUncertain() throws {
        let longValue = String(repeating: "a", count: 2000)
        let event = try JSONFieldSource(json: #"{"process":{"command_line":""# + longValue + #""}}"#)
        let query = try CompiledQuery(#"any where concat(process.command_line, "x") == "y""#, catalog: .any)
        #expect(query.evaluate(event) == .uncertain)
    }

    @Test func evaluationIsRepeatable() throws {
        let query = try CompiledQuery(#"any where concat(process.name, "-", process.name) == "a-a""#, catalog: .any)
        let event = try JSONFieldSource(json: #"{"process":{"name":["b","a"]}}"#)
        for _ in 0..<3 {
            #expect(query.evaluate(event) == .match)
        }
    }
}

@Suite struct RuleEvaluatorIncompleteTests {
    func verdict(_ condition: String, _ event: String) throws -> Verdict {
        let query = try CompiledQuery("any where " + condition, catalog: .any)
        return query.evaluate(TruncatedArgumentsSource(event: try JSONFieldSource(json: event)))
    }

    static let arguments = #"{"process":{"name":"bash","args":["unshare","-m"]}}"#

    @Test func unmatchedTruncatedFieldIsUncertain() throws {
        #expect(try verdict(#"process.args == "/usr/bin/snap""#, Self.arguments) == .uncertain)
    }

    @Test func matchedTruncatedFieldIsMatch() throws {
        #expect(try verdict(#"process.args == "-m""#, Self.arguments) == .match)
    }

    @Test func notOfUnknownIsUnknown() throws {
        #expect(try verdict(#"not process.args == "/usr/bin/snap""#, Self.arguments) == .uncertain)
    }

    @Test func falseAndUnknownIsFalse() throws {
        #expect(try verdict(#"process.args == "x" and process.name == "zsh""#, Self.arguments) == .noMatch)
        #expect(try verdict(#"process.name == "zsh" and process.args == "x""#, Self.arguments) == .noMatch)
    }

    @Test func trueAndUnknownIsUnknown() throws {
        #expect(try verdict(#"process.name == "bash" and process.args == "x""#, Self.arguments) == .uncertain)
    }

    @Test func trueOrUnknownIsTrue() throws {
        #expect(try verdict(#"process.args == "x" or process.name == "bash""#, Self.arguments) == .match)
        #expect(try verdict(#"process.name == "bash" or process.args == "x""#, Self.arguments) == .match)
    }

    @Test func falseOrUnknownIsUnknown() throws {
        #expect(try verdict(#"process.args == "x" or process.name == "zsh""#, Self.arguments) == .uncertain)
    }

    @Test func predicateOnTruncatedFieldIsUncertain() throws {
        #expect(try verdict("length(process.args) > 100", Self.arguments) == .uncertain)
        #expect(try verdict("length(process.args) > 3", Self.arguments) == .match)
    }

    @Test func nullTestOnTruncatedFieldWithoutValues() throws {
        #expect(try verdict("process.args == null", #"{"process":{"args":[]}}"#) == .uncertain)
        #expect(try verdict("process.args == null", Self.arguments) == .noMatch)
    }

    @Test func unshareRuleWithTruncatedArguments() throws {
        let rule = try #require(try BuiltinRules.compiled(catalog: .sensor).first)
        let base = #"""
            {"event":{"category":["process"],"type":["start"],"action":"exec"},"host":{"os":{"type":"linux"}},
             "process":{"executable":"/usr/bin/unshare","args":["unshare","-m"],"parent":{"executable":"/usr/bin/bash","name":"bash"}}}
            """#
        let source = TruncatedArgumentsSource(event: try JSONFieldSource(json: base))
        #expect(rule.evaluate(source) == .uncertain)
        #expect(rule.evaluate(try JSONFieldSource(json: base)) == .match)

        let snap = base.replacingOccurrences(of: #""-m"]"#, with: #""/usr/bin/snap"]"#)
        let snapSource = TruncatedArgumentsSource(event: try JSONFieldSource(json: snap))
        #expect(rule.evaluate(snapSource) == .noMatch)

        let otherExecutable = base.replacingOccurrences(of: "/usr/bin/unshare", with: "/usr/bin/env")
        let otherSource = TruncatedArgumentsSource(event: try JSONFieldSource(json: otherExecutable))
        #expect(rule.evaluate(otherSource) == .noMatch)
    }
}
