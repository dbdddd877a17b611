import Foundation
import Testing
@testable import ExecwardenCore

@Suite("ECS field catalog")
struct ECSFieldCatalogTests {
    let catalog: ECSFieldCatalog

    init() throws {
        catalog = try ECSFieldCatalog.load()
    }

    private func violations(_ json: String) throws -> [String] {
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8))
        return catalog.violations(in: try #require(object as? [String: Any]))
    }

    @Test("fixture loads with types and array marks")
    func load() {
        #expect(catalog.fields.count > 2000)
        #expect(catalog.fields["process.pid"] == .init(type: "long", isArray: false))
        #expect(catalog.fields["process.args"] == .init(type: "keyword", isArray: true))
        #expect(catalog.fields["@timestamp"]?.type == "date")
        #expect(catalog.fields["field"] == nil)
    }

    @Test("valid document has no violations")
    func validDocument() throws {
        let json = """
            {"@timestamp":"2026-12-04T17:06:11.123456789Z","message":"m",
             "event":{"kind":"event","category":["process"],"risk_score":47,"severity":73},
             "process":{"pid":1,"args":["a",""],"interactive":false,"start":"2026-12-04T17:06:11+01:00",
                        "parent":{"pid":2}},
             "labels":{"anything":"goes"},
             "execwarden":{"whatever":{"deep":[1,"x",true]}}}
            """
        #expect(try violations(json) == [])
    }

    @Test("unknown field is reported")
    func unknownField() throws {
        #expect(try violations(#"{"process":{"pidd":1}}"#) == ["process.pidd: not an ECS field"])
        #expect(try violations(#"{"execwardenx":1}"#) == ["execwardenx: not an ECS field"])
    }

    @Test("dotted keys are joined like nested ones")
    func dottedKeys() throws {
        #expect(try violations(#"{"process.pid":1,"process.name":"x"}"#) == [])
        #expect(try violations(#"{"process.pid":"1"}"#).count == 1)
    }

    @Test("wrong JSON types are reported", arguments: [
        (#"{"process":{"pid":"1"}}"#, "process.pid: is a JSON string, but ECS types it long"),
        (#"{"process":{"pid":1.5}}"#, "process.pid: is a JSON non-integer number, but ECS types it long"),
        (#"{"process":{"pid":true}}"#, "process.pid: is a JSON boolean, but ECS types it long"),
        (#"{"user":{"id":0}}"#, "user.id: is a JSON integer, but ECS types it keyword"),
        (#"{"process":{"interactive":1}}"#, "process.interactive: is a JSON integer, but ECS types it boolean"),
        (#"{"event":{"risk_score":"47"}}"#, "event.risk_score: is a JSON string, but ECS types it float"),
        (#"{"process":{"args":["a",2]}}"#, "process.args: is a JSON integer, but ECS types it keyword"),
        (#"{"process":{"executable":{"text":"x"}}}"#, "process.executable: is a JSON object, but ECS types it keyword"),
        (#"{"process":{"tty":"x"}}"#, "process.tty: is a JSON string, but ECS types it object"),
    ])
    func wrongTypes(json: String, expected: String) throws {
        #expect(try violations(json) == [expected])
    }

    @Test("dates must be RFC 3339", arguments: [
        "2026-12-04 17:06:11Z", "2026-12-04T17:06:11", "1796403971", "2026-13-01T00:00:00Z",
        "2026-12-04T25:00:00Z", "2026-12-04T17:06:11.Z",
    ])
    func invalidDates(date: String) throws {
        let found = try violations(#"{"@timestamp":"\#(date)"}"#)
        #expect(found == ["@timestamp: \"\(date)\" is not an RFC 3339 date"])
    }

    @Test("number in a date field is reported")
    func numericDate() throws {
        let found = try violations(#"{"@timestamp":1796403971000}"#)
        #expect(found == ["@timestamp: is a JSON integer, but a date must be an RFC 3339 string"])
    }

    @Test("violations are listed in path order")
    func severalViolations() throws {
        let found = try violations(#"{"b":1,"a":{"x":1},"process":{"pid":"x"}}"#)
        #expect(found == [
            "a.x: not an ECS field",
            "b: not an ECS field",
            "process.pid: is a JSON string, but ECS types it long",
        ])
    }

    @Test("rendered documents fit ECS", arguments: [false, true])
    func renderedDocuments(alert: Bool) throws {
        var event = ECSDocumentFixture.event()
        event.flags = [.interpreted, .executablePseudo, .executableMemfd, .argsTruncated]
        event.executable = Array("memfd:x".utf8) + [0xFF]
        event.args.append([0xC0, 0x80])
        event.script = Array("/tmp/run.sh".utf8)
        event.cgroupPath = Array("docker-\(ECSDocumentFixture.containerHex).scope".utf8)
        let document = alert
            ? try ECSDocumentFixture.renderAlert(event)
            : try ECSDocumentFixture.renderEvent(event)
        #expect(catalog.violations(in: document) == [])
    }

    @Test("check catches a rendered field that ECS lacks")
    func renderedDocumentMutated() throws {
        var document = try ECSDocumentFixture.renderEvent(ECSDocumentFixture.event())
        var process = try #require(document["process"] as? [String: Any])
        process["ns_pid"] = 42
        document["process"] = process
        #expect(catalog.violations(in: document) == ["process.ns_pid: not an ECS field"])
    }
}
