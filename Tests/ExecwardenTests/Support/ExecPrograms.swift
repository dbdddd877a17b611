import Foundation
import Glibc
import Testing
@testable import ExecwardenCore

/// Builds the programs the real-kernel tests run: C sources compiled at
/// test time, copies of system binaries under new names, and minimal root
/// directories for chroot and overlay tests.
enum ExecPrograms {
    /// Compiles `source` with the system C compiler into `directory/name`
    /// and returns the executable's path. Throws when the compiler fails,
    /// with its messages.
    static func compile(
        _ source: String, named name: String, in directory: String,
        flags: [String] = []
    ) throws -> String {
        let sourcePath = "\(directory)/\(name).c"
        let output = "\(directory)/\(name)"
        try source.write(toFile: sourcePath, atomically: true, encoding: .utf8)
        let outcome = try Shell.run(
            executable: "/usr/bin/cc", arguments: ["-O1", "-o", output, sourcePath] + flags)
        guard outcome.status == 0 else {
            throw ProgramError(message: "cc failed for \(name).c: \(outcome.errorOutput)")
        }
        return output
    }

    /// The file /usr/bin/python3 links to, so a copy runs as python under
    /// another name.
    static var pythonBinary: String {
        URL(fileURLWithPath: "/usr/bin/python3").resolvingSymlinksInPath().path
    }

    /// Copies the python interpreter to `path`, keeping it executable.
    static func copyPython(to path: String) throws {
        try FileManager.default.copyItem(atPath: pythonBinary, toPath: path)
    }

    /// Copies each binary and the shared libraries `ldd` lists for it into
    /// `root` at the same paths, with the merged-/usr symbolic links
    /// (`bin`, `lib`, `lib64`) Debian has, so the binaries run after a
    /// chroot or pivot_root into `root`.
    static func populateRoot(_ root: String, with binaries: [String]) throws {
        let quoted = binaries.map { "'\($0)'" }.joined(separator: " ")
        let outcome = try Shell.run("""
            set -e
            R='\(root)'
            mkdir -p "$R/usr/bin" "$R/usr/lib"
            ln -s usr/bin "$R/bin"; ln -s usr/lib "$R/lib"; ln -s usr/lib "$R/lib64"
            for b in \(quoted); do
              cp "$b" "$R/usr/bin/"
              for l in $(ldd "$b" | grep -o '/[^ ]*'); do
                mkdir -p "$R$(dirname "$l")"
                cp -n "$l" "$R$l"
              done
            done
            """)
        guard outcome.status == 0 else {
            throw ProgramError(message: "populating \(root) failed: \(outcome.errorOutput)")
        }
    }

    /// Removes a directory tree of any depth or path length, which
    /// `FileManager` cannot do once paths exceed PATH_MAX.
    static func removeTree(_ path: String) {
        _ = try? Shell.run(executable: "/bin/rm", arguments: ["-rf", "--one-file-system", path])
    }
}

struct ProgramError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Reads fields of a rendered ECS document by their dotted names.
extension CapturedLine {
    /// Returns the value at `path`, such as `process.parent.entity_id`, or
    /// nil when a member on the way is missing.
    func field(_ path: String) -> Any? {
        var value: Any? = document
        for key in path.split(separator: ".") {
            guard let object = value as? [String: Any] else { return nil }
            value = object[String(key)]
        }
        return value
    }

    func string(_ path: String) -> String? {
        field(path) as? String
    }

    func bool(_ path: String) -> Bool? {
        field(path) as? Bool
    }

    /// Reads an RFC 3339 UTC timestamp with up to nine fractional digits as
    /// nanoseconds since the Unix epoch.
    func timestampNanoseconds(_ path: String) -> Int64? {
        guard let text = string(path), text.hasSuffix("Z") else { return nil }
        let parts = text.dropLast().split(separator: ".", maxSplits: 1)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        guard let date = formatter.date(from: parts[0] + "Z") else { return nil }
        var nanoseconds = Int64(date.timeIntervalSince1970) * 1_000_000_000
        if parts.count == 2 {
            let digits = parts[1].padding(toLength: 9, withPad: "0", startingAt: 0)
            guard let fraction = Int64(digits) else { return nil }
            nanoseconds += fraction
        }
        return nanoseconds
    }
}

extension KernelHarness {
    /// Returns the event line (not an alert) that carries `event`.
    func eventLine(_ event: ExecEvent) -> CapturedLine? {
        lines { $0 == event }.first { !$0.isAlert }
    }
}

/// Reads a clock in nanoseconds.
func clockNanoseconds(_ clock: clockid_t) -> Int64 {
    var time = timespec()
    clock_gettime(clock, &time)
    return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
}
