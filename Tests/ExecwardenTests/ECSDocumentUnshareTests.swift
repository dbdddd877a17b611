import Foundation
import Testing
@testable import ExecwardenCore

@Suite("ECS unshare fields")
struct ECSDocumentUnshareTests {
    static func unshareObject(_ document: [String: Any]) -> [String: Any]? {
        (document["execwarden"] as? [String: Any])?["unshare"] as? [String: Any]
    }

    static func event(_ words: [String]) -> ExecEvent {
        var event = ECSDocumentFixture.event()
        event.args = (["unshare"] + words).map { Array($0.utf8) }
        event.argc = UInt32(event.args.count)
        return event
    }

    @Test("alert carries the parsed request")
    func alert() throws {
        let document = try ECSDocumentFixture.renderAlert(Self.event(["-Urm", "--propagation", "private", "bash"]))
        let unshare = try #require(Self.unshareObject(document))
        #expect(unshare["summary"] as? String == "new user + mount namespace, mapped root, propagation private")
        #expect(unshare["outcome"] as? String == "run")
        #expect(unshare["complete"] as? Bool == true)
        #expect(unshare["namespaces"] as? [String] == ["user", "mnt"])
        #expect(unshare["map_root_user"] as? Bool == true)
        #expect(unshare["map_user"] as? String == "0")
        #expect(unshare["map_group"] as? String == "0")
        #expect(unshare["propagation"] as? String == "private")
        #expect(unshare["fork"] as? Bool == false)
        #expect(unshare["keep_caps"] as? Bool == false)
        #expect((unshare["command_index"] as? NSNumber)?.intValue == 4)
        #expect(unshare["error"] == nil)
        #expect(unshare["root"] == nil)
    }

    @Test("event carries it too, with every value field")
    func eventDocument() throws {
        let words = [
            "--net=/run/netns/n", "-f", "--kill-child=TERM", "--mount-proc=/p", "-R/r", "-w/w", "-S1", "-G2",
            "--setgroups=deny", "--map-users=0:1:2", "--map-groups=auto", "--map-user=7", "--map-group=8",
            "-T", "--monotonic=3", "--boottime=4", "--keep-caps", "--clear-env", "--whitelist-env=A",
            "--forward-signals", "--owner=5:6", "--mount-binfmt=/b", "-lI",
        ]
        let document = try ECSDocumentFixture.renderEvent(Self.event(words))
        let unshare = try #require(Self.unshareObject(document))
        #expect(unshare["namespaces"] as? [String] == ["user", "mnt", "net", "time"])
        #expect((unshare["persist"] as? [String: String]) == ["net": "/run/netns/n"])
        #expect(unshare["kill_child"] as? String == "TERM")
        #expect(unshare["mount_proc"] as? String == "/p")
        #expect(unshare["mount_binfmt"] as? String == "/b")
        #expect(unshare["load_interp"] as? String == "I")
        #expect(unshare["root"] as? String == "/r")
        #expect(unshare["wd"] as? String == "/w")
        #expect(unshare["setuid"] as? String == "1")
        #expect(unshare["setgid"] as? String == "2")
        #expect(unshare["setgroups"] as? String == "deny")
        #expect(unshare["map_users"] as? [String] == ["0:1:2"])
        #expect(unshare["map_groups"] as? [String] == ["auto"])
        #expect(unshare["map_user"] as? String == "7")
        #expect(unshare["map_group"] as? String == "8")
        #expect(unshare["owner"] as? String == "5:6")
        #expect(unshare["monotonic"] as? String == "3")
        #expect(unshare["boottime"] as? String == "4")
        #expect(unshare["whitelist_env"] as? String == "A")
        #expect(unshare["fork"] as? Bool == true)
        #expect(unshare["forward_signals"] as? Bool == true)
        #expect(unshare["keep_caps"] as? Bool == true)
        #expect(unshare["clear_env"] as? Bool == true)
        #expect(unshare["map_root_user"] as? Bool == false)
        #expect(unshare["command_index"] == nil)
    }

    @Test("invalid command line has an error")
    func invalid() throws {
        let document = try ECSDocumentFixture.renderAlert(Self.event(["-U", "--bogus"]))
        let unshare = try #require(Self.unshareObject(document))
        #expect(unshare["outcome"] as? String == "invalid")
        #expect(unshare["error"] as? String == "unrecognized option '--bogus'")
        #expect(unshare["namespaces"] as? [String] == [])
    }

    @Test("truncated argv is marked incomplete")
    func truncated() throws {
        var event = Self.event(["-U", "-m"])
        event.flags.insert(.argsTruncated)
        event.argc = 40
        let unshare = try #require(Self.unshareObject(try ECSDocumentFixture.renderAlert(event)))
        #expect(unshare["complete"] as? Bool == false)
        #expect((unshare["summary"] as? String)?.hasSuffix("argv not captured whole, parse incomplete") == true)
    }

    @Test("unreadable argv is marked incomplete")
    func unreadable() throws {
        var event = Self.event([])
        event.args = []
        event.flags.insert(.argsUnreadable)
        let unshare = try #require(Self.unshareObject(try ECSDocumentFixture.renderEvent(event)))
        #expect(unshare["complete"] as? Bool == false)
    }

    @Test("found by executable name when comm differs")
    func executableName() throws {
        var event = Self.event(["-n"])
        event.name = Array("renamed".utf8)
        let unshare = try #require(Self.unshareObject(try ECSDocumentFixture.renderEvent(event)))
        #expect(unshare["namespaces"] as? [String] == ["net"])
    }

    @Test("other execs have no unshare fields", arguments: ["/usr/bin/unshared", "/usr/bin/unshare/x", "/bin/sh"])
    func otherExecs(executable: String) throws {
        var event = Self.event(["-n"])
        event.name = Array("sh".utf8)
        event.executable = Array(executable.utf8)
        #expect(Self.unshareObject(try ECSDocumentFixture.renderEvent(event)) == nil)
    }

    @Test("memfd named unshare is found by comm only")
    func memfd() throws {
        var event = Self.event(["-n"])
        event.name = Array("x".utf8)
        event.executable = Array("memfd:unshare".utf8)
        event.flags = [.executablePseudo, .executableMemfd]
        #expect(Self.unshareObject(try ECSDocumentFixture.renderEvent(event)) == nil)
    }

    @Test("ill-formed path gets U+FFFD")
    func illFormed() throws {
        var event = Self.event(["-R", "/r", "sh"])
        event.args[2] = Array("/r".utf8) + [0xFF]
        let document = try ECSDocumentFixture.renderEvent(event)
        let unshare = try #require(Self.unshareObject(document))
        #expect(unshare["root"] as? String == "/r\u{FFFD}")
        let raw = (document["execwarden"] as? [String: Any])?["raw"] as? [String: Any]
        let rawArgs = (raw?["process"] as? [String: Any])?["args"] as? [String]
        #expect(rawArgs?[2] == Data(Array("/r".utf8) + [0xFF]).base64EncodedString())
    }
}

@Suite("ECS unshare fields, exits")
struct ECSDocumentUnshareExitTests {
    @Test("help creates no namespace", arguments: [["-U", "-h"], ["-m", "-V"]])
    func helpAndVersion(words: [String]) throws {
        let document = try ECSDocumentFixture.renderEvent(ECSDocumentUnshareTests.event(words))
        let unshare = try #require(ECSDocumentUnshareTests.unshareObject(document))
        #expect(unshare["namespaces"] as? [String] == [])
        #expect(unshare["outcome"] as? String == (words.last == "-h" ? "help" : "version"))
    }
}
