import Glibc

/// A failure to write or read an input file.
struct FuzzFileError: Error, CustomStringConvertible {
    let description: String
}

/// Writes one line to stderr.
func printError(_ message: String) {
    let line = Array((message + "\n").utf8)
    _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

enum SeedFiles {
    /// Writes each seed to `directory/prefix-seed-N`, creating the
    /// directory when it is missing.
    static func write(_ seeds: [[UInt8]], to directory: String, prefix: String) throws(FuzzFileError) {
        if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw FuzzFileError(description: "creating \(directory) failed: \(String(cString: strerror(errno)))")
        }
        for (number, seed) in seeds.enumerated() {
            try writeFile("\(directory)/\(prefix)-seed-\(number)", seed)
        }
    }

    static func writeFile(_ path: String, _ bytes: [UInt8]) throws(FuzzFileError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw FuzzFileError(description: "creating \(path) failed: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset)
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                throw FuzzFileError(description: "writing \(path) failed: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    static func readFile(_ path: String) throws(FuzzFileError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw FuzzFileError(description: "opening \(path) failed: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else {
                throw FuzzFileError(description: "reading \(path) failed: \(String(cString: strerror(errno)))")
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[..<count])
        }
    }
}
