import Foundation
import Glibc
import Testing

/// The sensor run as a service: dropped privileges, file sinks on a full
/// disk, logrotate's SIGHUP, a closed stdout and the statistics file.
@Suite("Service binary", .serialized)
struct ServiceBinaryTests {
    /// Fields of /proc/PID/status, or of one thread's status.
    static func status(_ path: String) throws -> [String: String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            fields[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    /// Checks that every thread of `pid` has no capability and has
    /// no_new_privs.
    static func expectNoPrivileges(pid: Int32) throws {
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        #expect(!tasks.isEmpty)
        for task in tasks {
            let fields = try status("/proc/\(pid)/task/\(task)/status")
            #expect(fields["CapEff"] == "0000000000000000", "thread \(task)")
            #expect(fields["CapPrm"] == "0000000000000000", "thread \(task)")
            #expect(fields["CapBnd"] == "0000000000000000", "thread \(task)")
            #expect(fields["NoNewPrivs"] == "1", "thread \(task)")
        }
    }

    @Test("Root start drops every capability")
    func dropsCapabilities() async throws {
        let sensor = try RunningSensor(arguments: [])
        defer { sensor.stop() }
        try Self.expectNoPrivileges(pid: sensor.pid)
        #expect(try Self.status("/proc/\(sensor.pid)/status")["Uid"]?.hasPrefix("0\t") == true)

        // Still working without them.
        let marker = Shell.marker("nocaps")
        try Shell.run("unshare --uts true \(marker)")
        // One alert from each built-in unshare revision.
        #expect(await sensor.lines(count: 2, containing: marker).count == 2)
        #expect(sensor.stop() == 0)
        #expect(sensor.standardError.contains("lost_rules_ring_full=0"))
    }

    @Test("CAP_BPF and CAP_PERFMON suffice")
    func startsWithTwoCapabilities() async throws {
        let directory = try SinkFixture.directory("caps")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let copy = "\(directory)/execwarden"
        try FileManager.default.copyItem(atPath: SensorBinaryTests.executable, toPath: copy)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        let sensor = try RunningSensor(arguments: [
            "--reuid=65534", "--regid=65534", "--clear-groups",
            "--inh-caps=-all,+bpf,+perfmon", "--ambient-caps=-all,+bpf,+perfmon",
            "--bounding-set=-all,+bpf,+perfmon", copy,
        ], executable: "/usr/bin/setpriv")
        defer { sensor.stop() }
        let fields = try Self.status("/proc/\(sensor.pid)/status")
        #expect(fields["CapEff"] == "0000000000000000")
        #expect(fields["NoNewPrivs"] == "1")

        let marker = Shell.marker("caps")
        try Shell.run("unshare --uts true \(marker)")
        // One alert from each built-in unshare revision.
        #expect(await sensor.lines(count: 2, containing: marker).count == 2)
        #expect(sensor.stop() == 0)
    }

    @Test("--user switches to nobody")
    func switchesUser() async throws {
        let directory = try SinkFixture.directory("user")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try #require(chown(directory, 65534, 65534) == 0)
        let path = "\(directory)/alerts.log"
        let sensor = try RunningSensor(arguments: [
            "--user", "nobody", "--alerts-to", "file:\(path)", "--file-max-size", "8K", "--file-keep", "100",
        ])
        defer { sensor.stop() }
        try Self.expectNoPrivileges(pid: sensor.pid)
        let fields = try Self.status("/proc/\(sensor.pid)/status")
        #expect(fields["Uid"] == "65534\t65534\t65534\t65534")
        #expect(fields["Gid"] == "65534\t65534\t65534\t65534")

        // Alerts of about 3.5 KiB each, enough to rotate twice as nobody.
        // Other alerts on the host may land in the same files.
        let marker = Shell.marker("user")
        try Shell.run("for i in 1 2 3 4 5 6; do unshare --uts true \(marker); done")
        let deadline = ContinuousClock.now + .seconds(10)
        func count() -> Int {
            let files = [path] + (1...100).map { "\(path).\($0)" }
            return files.compactMap(SinkFixture.contents).joined()
                .split(separator: "\n").filter { $0.contains(marker) }.count
        }
        // Six execs, each alerting in both built-in unshare revisions.
        while count() < 12 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(count() == 12)
        #expect(FileManager.default.fileExists(atPath: "\(path).2"))
        #expect(SinkFixture.mode(path) == 0o600)
        #expect(sensor.stop() == 0)
        #expect(!sensor.standardError.contains("error"))
    }

    @Test("--user rejects a directory it cannot write")
    func rejectsUnwritableDirectory() throws {
        let directory = try SinkFixture.directory("user-dir")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outcome = try Shell.run(executable: SensorBinaryTests.executable, arguments: [
            "--user", "nobody", "--alerts-to", "file:\(directory)/alerts.log",
        ])
        #expect(outcome.status == 1)
        #expect(outcome.errorOutput.contains("user nobody cannot create files in \(directory)"))
    }

    @Test("--user warns about rules it cannot reread")
    func warnsAboutUnreadableRules() async throws {
        let directory = try SinkFixture.directory("user-rules")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let rules = "\(directory)/rules"
        try FileManager.default.createDirectory(atPath: rules, withIntermediateDirectories: true)
        let rule = #"{"rule_id": "r1", "name": "Rule r1", "description": "d", "severity": "low", "#
            + #""risk_score": 21, "type": "eql", "language": "eql", "version": 1, "#
            + #""query": "process where process.name == \"nc\""}"#
        try rule.write(toFile: "\(rules)/one.json", atomically: true, encoding: .utf8)
        // Root's private directory: readable at start, not after the switch.
        chmod(rules, 0o700)

        let sensor = try RunningSensor(arguments: ["--user", "nobody", "--rules", rules])
        defer { sensor.stop() }
        #expect(await sensor.waitForError(containing: "cannot read rules at \(rules) as user nobody"))
    }

    @Test("Unknown user fails at start")
    func unknownUser() throws {
        let outcome = try Shell.run(executable: SensorBinaryTests.executable, arguments: [
            "--user", "no-such-user-ew",
        ])
        #expect(outcome.status == 1)
        #expect(outcome.errorOutput.contains("no-such-user-ew"))
    }

    @Test("Full disk keeps running and reports")
    func fullDisk() async throws {
        let filesystem = try SmallFilesystem()
        let path = "\(filesystem.path)/alerts.log"
        let sensor = try RunningSensor(arguments: ["--alerts-to", "file:\(path)"])
        defer { sensor.stop() }

        try filesystem.fill()
        // An argument longer than the page the file already has.
        let lost = Shell.marker("full") + String(repeating: "z", count: 6000)
        try Shell.run("unshare --uts true \(lost)")
        #expect(await sensor.waitForError(containing: "alert not written to any output"))
        #expect(sensor.standardError.contains("No space left on device"))
        #expect(sensor.standardError.contains("Namespace Manipulation Using Unshare"))
        #expect(sensor.standardError.contains(String(lost.prefix(20))))
        #expect(sensor.isRunning)

        filesystem.free()
        let kept = Shell.marker("after-full")
        try Shell.run("unshare --uts true \(kept)")
        #expect(await sensor.waitForError(containing: "writable again"))
        let contents = SinkFixture.contents(path) ?? ""
        #expect(contents.contains(kept))
        #expect(!contents.contains(String(lost.prefix(20))))
        #expect(contents.split(separator: "\n").allSatisfy { $0.hasPrefix("{") && $0.hasSuffix("}") })
        #expect(sensor.stop() == 0)
        #expect(!sensor.standardError.contains("output_lost=0"))
    }

    @Test("SIGHUP reopens a rotated file")
    func reopensOnHangup() async throws {
        let directory = try SinkFixture.directory("hup")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/alerts.log"
        let sensor = try RunningSensor(arguments: ["--alerts-to", "file:\(path)"])
        defer { sensor.stop() }

        #expect(rename(path, "\(path).old") == 0)
        kill(sensor.pid, SIGHUP)
        // The reopen happens before the next write; give the signal time
        // to arrive first.
        try await Task.sleep(for: .milliseconds(300))
        let marker = Shell.marker("hup")
        try Shell.run("unshare --uts true \(marker)")
        let deadline = ContinuousClock.now + .seconds(10)
        while !(SinkFixture.contents(path) ?? "").contains(marker) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(SinkFixture.contents(path)?.contains(marker) == true)
        #expect(SinkFixture.contents("\(path).old")?.contains(marker) == false)
        #expect(sensor.isRunning)
        #expect(sensor.stop() == 0)
    }

    @Test("Closed stdout exits 0 with a message")
    func closedStdout() throws {
        let directory = try SinkFixture.directory("epipe")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // head exits after the first event line; the sensor must notice
        // and stop by itself.
        let outcome = try Shell.run("""
            ( '\(SensorBinaryTests.executable)' --events 2>'\(directory)/err'; echo $? >'\(directory)/status' ) \
              | head -n 1 >/dev/null &
            for i in $(seq 1 100); do /bin/true; sleep 0.1; [ -s '\(directory)/status' ] && break; done
            wait
            """)
        #expect(outcome.status == 0)
        #expect(SinkFixture.contents("\(directory)/status") == "0\n")
        #expect(SinkFixture.contents("\(directory)/err")?.contains("stdout was closed by its reader") == true)
    }

    @Test("Closed stdout is fine without stdout sink")
    func closedStdoutUnused() throws {
        let directory = try SinkFixture.directory("no-stdout")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let marker = Shell.marker("no-stdout")
        let outcome = try Shell.run("""
            '\(SensorBinaryTests.executable)' --alerts-to 'file:\(directory)/alerts.log' >&- 2>'\(directory)/err' &
            pid=$!
            for i in $(seq 1 100); do grep -q 'watching execs' '\(directory)/err' && break; sleep 0.1; done
            unshare --uts true \(marker)
            for i in $(seq 1 100); do grep -q '\(marker)' '\(directory)/alerts.log' && break; sleep 0.1; done
            kill -INT $pid
            wait $pid
            """)
        #expect(outcome.status == 0)
        #expect(SinkFixture.contents("\(directory)/alerts.log")?.contains(marker) == true)
        #expect(SinkFixture.contents("\(directory)/err")?.contains("totals:") == true)
    }

    @Test("Statistics file counts the run")
    func statisticsFile() async throws {
        let directory = try SinkFixture.directory("stats")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/execwarden.prom"
        let sensor = try RunningSensor(arguments: ["--stats-file", path, "--stats-file-interval", "1"])
        defer { sensor.stop() }
        let marker = Shell.marker("stats")
        try Shell.run("unshare --uts true \(marker)")
        // One alert from each built-in unshare revision.
        #expect(await sensor.lines(count: 2, containing: marker).count == 2)
        #expect(sensor.stop() == 0)

        // Written again at exit, so the totals are final.
        let text = try #require(SinkFixture.contents(path))
        func value(_ name: String) -> Double? {
            text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
                .flatMap { Double($0.split(separator: " ")[1]) }
        }
        #expect((value("execwarden_alerts_total") ?? 0) >= 1)
        #expect(value("execwarden_records_received_total")
            == (value(#"execwarden_kernel_records_sent_total{ring="rules"}"#) ?? 0)
                + (value(#"execwarden_kernel_records_sent_total{ring="events"}"#) ?? 0))
        #expect(text.contains(#"execwarden_output_lines_written_total{sink="stdout"}"#))
        // The alert's record was in the rules ring when its fill was noted.
        #expect((value(#"execwarden_ring_fill_bytes{ring="rules"}"#) ?? 0) > 0)
        #expect(text.contains(#"execwarden_kernel_records_lost_total{cause="rules_ring_full"} 0"#))
        #expect(text.contains(#"execwarden_rule_alerts_total{rule_id="d00f33e7-b57d-4023-9952-2db91b1767c4""#))
    }

    @Test("Unwritable statistics file fails at start")
    func statisticsFileMissingDirectory() throws {
        let outcome = try Shell.run(executable: SensorBinaryTests.executable, arguments: [
            "--stats-file", "/tmp/service-no-such-dir/execwarden.prom",
        ])
        #expect(outcome.status == 1)
        #expect(outcome.errorOutput.contains("/tmp/service-no-such-dir/execwarden.prom"))
        #expect(outcome.errorOutput.split(separator: "\n").count == 1)
    }

    @Test("Syslog sink gets the alert")
    func syslogAlert() async throws {
        let directory = try SinkFixture.directory("syslog-bin")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try DatagramServer(path: "\(directory)/log.sock")
        let sensor = try RunningSensor(arguments: ["--alerts-to", "syslog:\(server.path)"])
        defer { sensor.stop() }
        let marker = Shell.marker("syslog")
        try Shell.run("unshare --uts true \(marker)")
        var found: String?
        let deadline = ContinuousClock.now + .seconds(10)
        while found == nil && ContinuousClock.now < deadline {
            if let message = server.receive(milliseconds: 200), message.contains(marker) { found = message }
        }
        let message = try #require(found)
        #expect(message.hasPrefix("<28>1 "))  // daemon, warning: the rule is medium
        #expect(message.contains(" execwarden \(sensor.pid) alert - {"))
        #expect(sensor.lines(containing: marker).isEmpty)
    }
}
