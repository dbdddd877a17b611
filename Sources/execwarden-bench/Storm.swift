import CExecwardenBench
import Foundation
import Glibc

/// The result of one storm, from the generator's own counts.
struct StormResult {
    /// Children that exited with status 0.
    var execs: UInt64
    /// Children that failed or could not start.
    var failures: UInt64
    var seconds: Double

    var execsPerSecond: Double { seconds > 0 ? Double(execs) / seconds : 0 }
}

struct StormError: Error, CustomStringConvertible {
    let description: String
}

/// The executable and arguments of a storm target, as C strings that stay
/// valid while the object lives.
final class ExecCommand {
    let path: UnsafeMutablePointer<CChar>
    let argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    let envp: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let argumentCount: Int

    init(path: String, arguments: [String]) {
        self.path = strdup(path)
        argumentCount = arguments.count
        argv = .allocate(capacity: arguments.count + 1)
        for (index, argument) in arguments.enumerated() {
            argv[index] = strdup(argument)
        }
        argv[arguments.count] = nil
        envp = .allocate(capacity: 2)
        envp[0] = strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin")
        envp[1] = nil
    }

    deinit {
        free(path)
        for index in 0..<argumentCount { free(argv[index]) }
        argv.deallocate()
        free(envp[0])
        envp.deallocate()
    }
}

/// Prepares storm targets: files for deep-path, and the argument lists.
/// Files live in a scratch directory under /tmp, removed by `cleanUp`.
final class StormWorkspace {
    let directory: String
    private var deepPathExecutable: String?

    init() throws {
        var template = Array("/tmp/bench-workspace-XXXXXX".utf8CString)
        guard let created = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw StormError(description: "cannot create a scratch directory under /tmp: \(String(cString: strerror(errno)))")
        }
        directory = String(cString: created)
    }

    func cleanUp() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Builds the command for one storm iteration. `tag` marks the storm's
    /// execs, so their events can be counted among the host's other execs.
    func command(for target: StormTarget, tag: String) throws -> ExecCommand {
        switch target {
        case .true:
            return ExecCommand(path: "/bin/true", arguments: ["true", tag])
        case .unshare:
            return ExecCommand(path: "/usr/bin/unshare", arguments: ["unshare", "-V", tag])
        case .longArgv:
            let filler = String(repeating: "a", count: 99)
            let arguments = ["true", tag] + (0..<1000).map { "\($0 % 10)\(filler)" }
            return ExecCommand(path: "/bin/true", arguments: arguments)
        case .deepPath:
            return ExecCommand(path: try deepExecutable(), arguments: ["true", tag])
        }
    }

    /// Creates, once, a copy of /bin/true 200 directories of 16 characters
    /// deep and returns its path. It uses mkdirat and openat, one level at
    /// a time, because Foundation's file operations fail on paths this long.
    private func deepExecutable() throws -> String {
        if let existing = deepPathExecutable { return existing }
        let name = "level-directory"
        var fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        var path = directory
        for _ in 0..<200 {
            guard fd >= 0 else { break }
            if mkdirat(fd, name, 0o755) != 0 && errno != EEXIST { break }
            let next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            close(fd)
            fd = next
            path += "/" + name
        }
        guard fd >= 0, copyTrue(into: fd) else {
            let reason = String(cString: strerror(errno))
            if fd >= 0 { close(fd) }
            throw StormError(description: "cannot create the deep-path target under \(directory): \(reason)")
        }
        close(fd)
        deepPathExecutable = path + "/true"
        return path + "/true"
    }

    /// Copies /bin/true into the directory open at `directoryFD`, as `true`.
    private func copyTrue(into directoryFD: Int32) -> Bool {
        guard let contents = FileManager.default.contents(atPath: "/bin/true") else { return false }
        let fd = openat(directoryFD, "true", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return contents.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return false }
                offset += written
            }
            return true
        }
    }
}

/// Runs one storm and blocks until its workers have finished.
func runStorm(_ spec: StormSpec, command: ExecCommand) throws -> StormResult {
    var config = ewb_storm_config()
    config.method = spec.method.code
    config.workers = Int32(spec.workers)
    config.count = spec.count
    config.duration_ns = spec.count > 0 ? 0 : UInt64(spec.durationSeconds * 1e9)
    var result = ewb_storm_result()
    let status = withExtendedLifetime(command) { () -> Int32 in
        config.path = UnsafePointer(command.path)
        config.argv = UnsafePointer(command.argv)
        config.envp = UnsafePointer(command.envp)
        return ewb_storm_run(&config, &result)
    }
    if status < 0 {
        throw StormError(description: "cannot start the storm's workers: \(String(cString: strerror(-status)))")
    }
    return StormResult(
        execs: result.execs, failures: result.failures, seconds: Double(result.elapsed_ns) / 1e9)
}
