import Foundation

/// Runs the commands of the real-kernel tests.
enum Shell {
    struct Outcome {
        let status: Int32
        let output: String
        let errorOutput: String
        /// Pid of the process started, which the execs it makes keep.
        let pid: Int32
    }

    /// Runs `script` with /bin/sh and waits for it, collecting standard
    /// output and standard error.
    @discardableResult
    static func run(
        _ script: String, environment: [String: String]? = nil,
        directory: String? = nil
    ) throws -> Outcome {
        try run(
            executable: "/bin/sh", arguments: ["-c", script],
            environment: environment, directory: directory)
    }

    @discardableResult
    static func run(
        executable: String, arguments: [String],
        environment: [String: String]? = nil, directory: String? = nil
    ) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment {
            process.environment = environment
        }
        if let directory {
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
        }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        // Read standard error on another thread so that neither pipe can
        // fill up and block the child.
        let errorData = ErrorCollector(errors.fileHandleForReading)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus,
            output: String(decoding: data, as: UTF8.self),
            errorOutput: String(decoding: errorData.wait(), as: UTF8.self), pid: pid)
    }

    /// Returns a unique argument that lets a test pick out its own execs.
    static func marker(_ tag: String) -> String {
        "EW-\(tag)-\(UUID().uuidString.prefix(8))"
    }

    /// Creates a fresh directory under /tmp; the caller removes it.
    static func makeDirectory(_ tag: String) throws -> String {
        let path = "/tmp/ew-\(tag)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Reads a pipe to its end on a background thread.
private final class ErrorCollector: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
