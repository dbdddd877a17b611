import Foundation

/// Runs the commands of the real-kernel tests.
enum Shell {
    struct Outcome {
        let status: Int32
        let output: String
        /// Pid of the process started, which the execs it makes keep.
        let pid: Int32
    }

    /// Runs `script` with /bin/sh and waits for it; standard output is
    /// returned, standard error goes to the test log.
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
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus,
            output: String(decoding: data, as: UTF8.self), pid: pid)
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
