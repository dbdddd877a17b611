import Glibc

/// A statistics file that could not be written.
public struct StatisticsFileError: Error, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let errorNumber: Int32

    public var description: String {
        "cannot \(operation) \(path): \(errnoText(errorNumber))"
    }
}

/// Replaces a file atomically, for node_exporter's textfile collector: the
/// text goes to a temporary file in the same directory, which is then
/// renamed over the target, so a reader sees the old or the new file whole.
///
/// The temporary name ends in `.tmp`, which the collector ignores (it reads
/// only `*.prom`). The file is mode 0644 so that node_exporter, running as
/// another user, can read it.
public struct StatisticsFile: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    var temporaryPath: String { "\(path).\(getpid()).tmp" }

    /// Writes `text` and renames it into place.
    public func write(_ text: String) throws(StatisticsFileError) {
        let temporary = temporaryPath
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard descriptor >= 0 else {
            throw StatisticsFileError(operation: "create", path: temporary, errorNumber: errno)
        }
        let bytes = Array(text.utf8)
        var offset = 0
        var failure: Int32?
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, bytes.count - offset) }
            if count > 0 {
                offset += count
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                failure = count < 0 ? errno : ENOSPC
                break
            }
        }
        if failure == nil && fchmod(descriptor, 0o644) != 0 { failure = errno }
        close(descriptor)
        if let failure {
            unlink(temporary)
            throw StatisticsFileError(operation: "write", path: temporary, errorNumber: failure)
        }
        guard rename(temporary, path) == 0 else {
            let errorNumber = errno
            unlink(temporary)
            throw StatisticsFileError(operation: "rename a new file over", path: path, errorNumber: errorNumber)
        }
    }
}
