import Foundation
import Glibc
import Testing
@testable import ExecwardenCore

@Suite("Host facts")
struct HostInfoTests {
    private func firstLine(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?
            .split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    @Test("current host matches /proc and uname")
    func currentHost() {
        let host = HostInfo.current()
        var names = utsname()
        #expect(uname(&names) == 0)
        let nodename = withUnsafeBytes(of: names.nodename) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        #expect(host.hostname == nodename)
        #expect(host.kernelRelease == firstLine("/proc/sys/kernel/osrelease"))
        #expect(host.bootID == firstLine("/proc/sys/kernel/random/boot_id"))
        #expect(!host.architecture.isEmpty)
    }

    @Test("machine id comes from /etc/machine-id when present")
    func machineID() throws {
        let expected = try #require(firstLine("/etc/machine-id") ?? firstLine("/var/lib/dbus/machine-id"))
        let host = HostInfo.current()
        #expect(host.machineID == expected)
        #expect(!host.problems.contains { $0.contains("machine id") })
    }

    @Test("boot time converts to the current wall clock")
    func clockConversion() {
        let host = HostInfo.current()
        let boot = HostInfo.readClock(CLOCK_BOOTTIME)
        let wall = HostInfo.readClock(CLOCK_REALTIME)
        let converted = host.wallClockNanoseconds(bootNanoseconds: UInt64(boot))
        // Both reads happen within a few microseconds; 50 ms allows for a
        // loaded test machine.
        #expect(abs(converted - wall) < 50_000_000)
    }

    @Test("refresh keeps the offset consistent")
    func refresh() {
        let host = HostInfo(hostname: "h", machineID: "m", bootID: "b", kernelRelease: "k",
                            architecture: "a", os: OSRelease(), clockOffsetNanoseconds: 0)
        #expect(host.wallClockNanoseconds(bootNanoseconds: 5) == 5)
        host.refreshClockOffset()
        let expected = HostInfo.readClock(CLOCK_REALTIME) - HostInfo.readClock(CLOCK_BOOTTIME)
        #expect(abs(host.clockOffsetNanoseconds - expected) < 50_000_000)
    }
}

@Suite("os-release parsing")
struct OSReleaseTests {
    @Test("Debian file")
    func debian() {
        let release = OSRelease(parsing: """
            PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
            NAME="Debian GNU/Linux"
            VERSION_ID="12"
            VERSION="12 (bookworm)"
            ID=debian
            """)
        #expect(release.name == "Debian GNU/Linux")
        #expect(release.version == "12")
        #expect(release.prettyName == "Debian GNU/Linux 12 (bookworm)")
        #expect(release.id == "debian")
        #expect(release.family == "debian")
    }

    @Test("family is the first ID_LIKE word")
    func family() {
        let release = OSRelease(parsing: "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n")
        #expect(release.id == "rocky")
        #expect(release.family == "rhel")
    }

    @Test("quotes, escapes and comments")
    func quoting() {
        let lines = [
            #"# NAME="commented out""#,
            #"NAME='Single "quoted"'"#,
            #"PRETTY_NAME="Say \"hi\" \$HOME \\ end"   "#,
            #"  VERSION_ID=1.2"#,
            #"ID="#,
        ]
        let release = OSRelease(parsing: lines.joined(separator: "\n"))
        #expect(release.name == "Single \"quoted\"")
        #expect(release.prettyName == "Say \"hi\" $HOME \\ end")
        #expect(release.version == "1.2")
        #expect(release.id == nil)
        #expect(release.family == nil)
    }

    @Test("empty text gives no fields")
    func empty() {
        #expect(OSRelease(parsing: "") == OSRelease())
    }
}
