import Foundation
import Testing
@testable import ExecwardenCore

/// Which execs produce an event and with which process-wide values: failed
/// attempts, an exec from a thread, times, user and group ids, and a storm
/// of execs where every one is either delivered or counted as lost.
@Suite("Kernel exec events")
struct KernelExecCaseTests {
    let harness: KernelHarness

    init() throws {
        harness = try KernelHarness.require()
    }

    @Test("Failed exec attempts give no event")
    func failedAttempts() async throws {
        let directory = try Shell.makeDirectory("failed")
        defer { Shell.remove(directory) }
        let marker = Shell.marker("failed")
        let noExecBit = "\(directory)/unshare"
        try FileManager.default.copyItem(atPath: "/usr/bin/unshare", toPath: noExecBit)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: noExecBit)
        let garbage = "\(directory)/garbage"
        try Data(repeating: 0x7F, count: 64).write(to: URL(fileURLWithPath: garbage))
        let orphanScript = "\(directory)/orphan-script"
        try "#!/nonexistent/interpreter\n".write(toFile: orphanScript, atomically: true, encoding: .utf8)
        let busy = "\(directory)/busy"
        try FileManager.default.copyItem(atPath: "/usr/bin/true", toPath: busy)
        for path in [garbage, orphanScript] {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }

        // Each attempt carries the marker, and python prints the errno of
        // each. The last file is held open for writing. Then two execs
        // that succeed follow.
        let outcome = try Shell.run(executable: "/usr/bin/python3", arguments: ["-c", """
            import errno, os, subprocess, sys
            marker = sys.argv[1]
            attempts = [
                ("/usr/bin/unshare", ["unshare", "--uts", "/bin/true", marker, "A" * 140000]),
                ("/usr/bin/unshare", ["unshare", "--uts", "/bin/true", marker] + ["B" * 100000] * 40),
                ("\(noExecBit)", ["unshare", "--uts", "/bin/true", marker]),
                ("/nonexistent/program", ["program", marker]),
                ("\(garbage)", ["garbage", marker]),
                ("\(orphanScript)", ["orphan-script", marker]),
                ("\(directory)", ["directory", marker]),
                ("\(busy)", ["busy", marker]),
            ]
            writer = open("\(busy)", "ab")
            for path, argv in attempts:
                try:
                    os.execv(path, argv)
                except OSError as error:
                    print(errno.errorcode[error.errno])
            subprocess.run(["/usr/bin/unshare", "--uts", "/nonexistent/program", marker])
            subprocess.run(["/bin/true", marker, "last"], check=True)
            """, marker])
        try #require(outcome.status == 0, "\(outcome.errorOutput)")
        #expect(outcome.output.split(separator: "\n")
            == ["E2BIG", "E2BIG", "EACCES", "ENOENT", "ENOEXEC", "ENOENT", "EACCES", "ETXTBSY"])

        // Records arrive in the order of the execs, so once the last one is
        // here every earlier one would be too.
        let last = await harness.events(count: 1) {
            $0.hasArgument(marker) && $0.hasArgument("last")
        }
        try #require(last.count == 1)
        let events = harness.lines { $0.hasArgument(marker) }.filter { !$0.isAlert }.map(\.event)
        #expect(events.map(\.executableString) == [
            ExecPrograms.pythonBinary, "/usr/bin/unshare", "/usr/bin/true",
        ])
        let alerts = harness.alerts { $0.hasArgument(marker) }
        #expect(alerts.count == 1)
        #expect(alerts.first?.event.argStrings == [
            "/usr/bin/unshare", "--uts", "/nonexistent/program", marker,
        ])
    }

    @Test("Exec from a thread reports the leader's pid", arguments: [false, true])
    func execFromThread(leaderExits: Bool) async throws {
        let directory = try Shell.makeDirectory("thread-exec")
        defer { Shell.remove(directory) }
        // With a second argument the leader exits first, so the exec comes
        // from a process whose leader is a zombie.
        let program = try ExecPrograms.compile("""
            #include <pthread.h>
            #include <stdio.h>
            #include <sys/syscall.h>
            #include <unistd.h>
            static char *marker;
            static int leader_exits;
            static void *worker(void *unused) {
                if (leader_exits) usleep(100000);
                printf("%ld\\n", (long)syscall(SYS_gettid));
                fflush(stdout);
                execl("/bin/true", "true", marker, (char *)0);
                return unused;
            }
            int main(int argc, char **argv) {
                pthread_t thread;
                if (argc < 2) return 2;
                marker = argv[1];
                leader_exits = argc > 2;
                pthread_create(&thread, 0, worker, 0);
                if (leader_exits) pthread_exit(0);
                pthread_join(thread, 0);
                return 1;
            }
            """, named: "thread-exec", in: directory, flags: ["-pthread"])
        let marker = Shell.marker("thread-exec")
        let arguments = leaderExits ? [marker, "exit-leader"] : [marker]
        let outcome = try Shell.run(executable: program, arguments: arguments)
        try #require(outcome.status == 0, "\(outcome.errorOutput)")
        let threadID = try #require(UInt32(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)))
        let leader = UInt32(outcome.pid)
        #expect(threadID != leader)

        let events = await harness.events(count: 2) { $0.hasArgument(marker) }
        try #require(events.count == 2)
        let (launcher, exec) = (events[0], events[1])
        #expect(launcher.pid == leader)
        #expect(exec.executableString == "/usr/bin/true")
        #expect(exec.pid == leader)
        #expect(exec.tid == threadID)
        #expect(exec.startTimeNanoseconds == launcher.startTimeNanoseconds)
        #expect(exec.parentPID == launcher.parentPID)

        let line = try #require(harness.eventLine(exec))
        #expect(line.field("process.pid") as? Int == Int(leader))
        let launcherLine = try #require(harness.eventLine(launcher))
        #expect(line.string("process.entity_id") == launcherLine.string("process.entity_id"))
    }

    @Test("Times are ordered and near now")
    func times() async throws {
        let marker = Shell.marker("times")
        let bootBefore = clockNanoseconds(CLOCK_BOOTTIME)
        let wallBefore = clockNanoseconds(CLOCK_REALTIME)
        let outcome = try Shell.run(executable: "/bin/sh", arguments: ["-c", "/bin/true \"$0\"", marker])
        let bootAfter = clockNanoseconds(CLOCK_BOOTTIME)
        let wallAfter = clockNanoseconds(CLOCK_REALTIME)
        try #require(outcome.status == 0)

        let events = await harness.events(count: 2) { $0.hasArgument(marker) }
        try #require(events.count == 2)
        let (shell, child) = (events[0], events[1])
        let bootRange = UInt64(bootBefore)...UInt64(bootAfter)
        #expect(bootRange.contains(shell.startTimeNanoseconds))
        #expect(bootRange.contains(child.eventTimeNanoseconds))
        #expect(child.parentStartTimeNanoseconds == shell.startTimeNanoseconds)
        #expect(child.parentStartTimeNanoseconds <= child.startTimeNanoseconds)
        #expect(child.startTimeNanoseconds <= child.eventTimeNanoseconds)
        #expect(shell.eventTimeNanoseconds <= child.startTimeNanoseconds)

        // Rendered wall-clock times, allowing a second for the boot-time
        // to wall-clock offset measured at start.
        let line = try #require(harness.eventLine(child))
        let timestamp = try #require(line.timestampNanoseconds("@timestamp"))
        let start = try #require(line.timestampNanoseconds("process.start"))
        let parentStart = try #require(line.timestampNanoseconds("process.parent.start"))
        let created = try #require(line.timestampNanoseconds("event.created"))
        let slack: Int64 = 1_000_000_000
        #expect(timestamp >= wallBefore - slack)
        #expect(timestamp <= wallAfter + slack)
        #expect(parentStart <= start)
        #expect(start <= timestamp)
        #expect(created >= timestamp - slack)
        let renderedSpan: Int64 = timestamp - start
        let recordedSpan = Int64(child.eventTimeNanoseconds - child.startTimeNanoseconds)
        #expect(renderedSpan == recordedSpan)
    }

    @Test("Real ids from setpriv are reported with names", arguments: [65534, 54321])
    func realIDs(id: UInt32) async throws {
        let marker = Shell.marker("setpriv")
        let outcome = try Shell.run(executable: "/usr/bin/setpriv", arguments: [
            "--reuid=\(id)", "--regid=\(id)", "--clear-groups", "/bin/true", marker,
        ])
        try #require(outcome.status == 0, "\(outcome.errorOutput)")

        let event = try #require(await harness.events(count: 1) {
            $0.hasArgument(marker) && $0.nameString == "true"
        }.first)
        #expect(event.uid == id)
        #expect(event.euid == id)
        #expect(event.gid == id)
        #expect(event.egid == id)
        let line = try #require(harness.eventLine(event))
        let userName = AccountNames.systemUserName(id)
        let groupName = AccountNames.systemGroupName(id)
        #expect(line.string("user.id") == "\(id)")
        #expect(line.string("user.name") == userName)
        #expect(line.string("user.effective.id") == "\(id)")
        #expect(line.string("group.id") == "\(id)")
        #expect(line.string("group.name") == groupName)
        #expect(line.string("process.user.id") == "\(id)")
        #expect(line.string("process.real_group.id") == "\(id)")
    }

    @Test("setuid and setgid copy reports effective ids apart")
    func effectiveIDs() async throws {
        let directory = try Shell.makeDirectory("setuid")
        defer { Shell.remove(directory) }
        let copy = "\(directory)/true-setuid"
        try FileManager.default.copyItem(atPath: "/usr/bin/true", toPath: copy)
        try #require(chown(copy, 65534, 65534) == 0)
        try #require(chmod(copy, 0o6755) == 0)
        let marker = Shell.marker("setuid")
        let outcome = try Shell.run(executable: copy, arguments: [marker])
        try #require(outcome.status == 0)

        let event = try #require(await harness.events(count: 1) { $0.hasArgument(marker) }.first)
        #expect(event.uid == 0)
        #expect(event.euid == 65534)
        #expect(event.gid == 0)
        #expect(event.egid == 65534)
        let line = try #require(harness.eventLine(event))
        #expect(line.string("user.id") == "0")
        #expect(line.string("user.name") == "root")
        #expect(line.string("user.effective.id") == "65534")
        #expect(line.string("user.effective.name") == AccountNames.systemUserName(65534))
        #expect(line.string("user.effective.group.id") == "65534")
        #expect(line.string("user.effective.group.name") == AccountNames.systemGroupName(65534))
        #expect(line.string("group.id") == "0")
        #expect(line.string("group.name") == "root")
        #expect(line.string("process.user.id") == "65534")
        #expect(line.string("process.group.id") == "65534")
        #expect(line.string("process.real_user.id") == "0")
        #expect(line.string("process.real_group.id") == "0")
    }

    @Test("Storm of execs is delivered or counted lost")
    func execStorm() async throws {
        let directory = try Shell.makeDirectory("storm")
        defer { Shell.remove(directory) }
        let stormBinary = "\(directory)/storm-true"
        try FileManager.default.copyItem(atPath: "/usr/bin/true", toPath: stormBinary)
        let marker = Shell.marker("storm")
        let execs = 3000
        let lostBefore = harness.statistics.kernel.lost

        let outcome = try Shell.run("""
            seq 1 \(execs) | xargs -P 2 -n 250 sh -c 'for i; do "$0" \(marker); done' \(stormBinary) &
            sleep 0.5
            /usr/bin/unshare --uts -- /bin/true \(marker) unshare
            wait
            """)
        try #require(outcome.status == 0, "\(outcome.errorOutput)")

        let isStorm: (ExecEvent) -> Bool = {
            $0.hasArgument(marker) && $0.executableString == stormBinary
        }
        let delivered = await harness.events(count: execs, timeout: .seconds(30), where: isStorm).count
        // The sensor publishes its counts every 100 ms.
        try await Task.sleep(for: .milliseconds(300))
        let lost = harness.statistics.kernel.lost - lostBefore

        #expect(delivered <= execs)
        #expect(UInt64(delivered) + lost >= UInt64(execs))
        let unshare = harness.lines { $0.hasArgument(marker) && $0.nameString == "unshare" }
        if lost == 0 {
            #expect(unshare.filter { !$0.isAlert }.count == 1)
            #expect(unshare.filter { $0.isAlert && $0.ruleVersion == 9 }.count == 1)
        }
    }
}
