import Glibc
import Synchronization

/// When a file sink starts a new file.
public struct FileRotation: Sendable, Equatable {
    /// Size in bytes past which the file is rotated; 0 never rotates.
    public var maximumBytes: UInt64
    /// Rotated files kept, named PATH.1 (newest) to PATH.N.
    public var keep: Int

    public init(maximumBytes: UInt64 = 100 << 20, keep: Int = 5) {
        self.maximumBytes = maximumBytes
        self.keep = keep
    }
}

/// A file that could not be opened.
public struct FileSinkError: Error, CustomStringConvertible {
    public let path: String
    public let errorNumber: Int32

    public var description: String {
        if errorNumber == EINVAL {
            return "cannot append to \(path): it is neither a regular file nor a character device"
        }
        return "cannot open \(path) for appending: \(errnoText(errorNumber))"
    }
}

/// Appends lines to a file created with mode 0600, rotating it by size and
/// reopening it on request, so that logrotate can move it away.
///
/// Lines never straddle two files. After a failed write the file is cut
/// back to its last whole line. Should that fail too, the file is closed,
/// and the fragment gets a newline when the file is reopened. After a
/// failure, each flush opens the file again if needed and retries.
public final class FileSink: LineSink {
    public let name: String
    public let path: String
    public let rotation: FileRotation
    private var descriptor: Int32 = -1
    /// Bytes in the open file, as far as this sink wrote them.
    private var size: UInt64 = 0
    private var buffer: [UInt8] = []
    /// End offset in `buffer` of each line, its newline included.
    private var lineEnds: [Int] = []
    private let reopenRequested = Atomic<Bool>(false)
    private var owner: (uid: uid_t, gid: gid_t)?
    private var isRegularFile = true

    /// Opens (or creates) `path` for appending; throws when it cannot, so
    /// that a wrong path stops the sensor at startup.
    public init(path: String, rotation: FileRotation = FileRotation()) throws(FileSinkError) {
        self.name = "file:\(path)"
        self.path = path
        self.rotation = rotation
        if let errorNumber = open() {
            throw FileSinkError(path: path, errorNumber: errorNumber)
        }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Gives the file, and the files it creates later, to `uid` and `gid`,
    /// for a sensor that switches to an unprivileged user.
    public func setOwner(uid: uid_t, gid: gid_t) throws(FileSinkError) {
        owner = (uid, gid)
        if descriptor >= 0 && isRegularFile && fchown(descriptor, uid, gid) != 0 {
            throw FileSinkError(path: path, errorNumber: errno)
        }
    }

    public func append(_ line: SensorLine) {
        buffer.append(contentsOf: line.json)
        buffer.append(UInt8(ascii: "\n"))
        lineEnds.append(buffer.count)
    }

    /// May be called from any thread, such as a SIGHUP handler's queue.
    public func reopen() {
        reopenRequested.store(true, ordering: .relaxed)
    }

    /// Writes the buffered lines. A regular file never makes the sensor
    /// wait, so `giveUp` is not called.
    public func flush(whileWaiting: () -> Bool, giveUp: () -> Bool) -> SinkFlushResult {
        var result = SinkFlushResult()
        defer {
            buffer.removeAll(keepingCapacity: true)
            lineEnds.removeAll(keepingCapacity: true)
        }
        if reopenRequested.exchange(false, ordering: .relaxed) {
            closeFile()
        }
        guard !lineEnds.isEmpty else { return result }
        if descriptor < 0, let errorNumber = open() {
            result.fail(
                from: 0, count: lineEnds.count,
                because: "cannot open \(path): \(errnoText(errorNumber))")
            return result
        }

        var line = 0
        // After a failed rotation, the rest of the batch is appended
        // rather than trying again for every line.
        var mayRotate = true
        while line < lineEnds.count {
            if mayRotate && needsRotation(before: line) {
                if let warning = rotate() {
                    result.warning = warning
                    mayRotate = false
                }
                if descriptor < 0, let errorNumber = open() {
                    result.fail(
                        from: line, count: lineEnds.count,
                        because: "cannot open \(path) after rotating it: \(errnoText(errorNumber))")
                    return result
                }
            }
            let last = lastLineFitting(from: line)
            let written = write(lines: line...last)
            line = written.wholeLines
            if let errorNumber = written.errorNumber {
                result.fail(
                    from: line, count: lineEnds.count,
                    because: "writing to \(path) failed: \(errnoText(errorNumber))")
                return result
            }
        }
        return result
    }

    /// Returns the offset in `buffer` where line `index` starts.
    private func start(of index: Int) -> Int {
        index == 0 ? 0 : lineEnds[index - 1]
    }

    /// True when line `index` would take a non-empty file past the size
    /// limit.
    private func needsRotation(before index: Int) -> Bool {
        let length = UInt64(lineEnds[index] - start(of: index))
        return isRegularFile && rotation.maximumBytes > 0 && size > 0
            && size + length > rotation.maximumBytes
    }

    /// Returns the last line, from `first` on, that still fits in the file
    /// under the size limit; at least `first` itself.
    private func lastLineFitting(from first: Int) -> Int {
        guard isRegularFile, rotation.maximumBytes > 0, size < rotation.maximumBytes else {
            return lineEnds.count - 1
        }
        let base = start(of: first)
        var last = first
        while last + 1 < lineEnds.count,
              size + UInt64(lineEnds[last + 1] - base) <= rotation.maximumBytes {
            last += 1
        }
        return last
    }

    /// Writes `lines` and returns the index of the first line not written
    /// whole, with the errno when a write failed. After a failure the file
    /// is cut back to its last whole line, so no fragment stays in it.
    private func write(lines: ClosedRange<Int>) -> (wholeLines: Int, errorNumber: Int32?) {
        let first = start(of: lines.lowerBound)
        let end = lineEnds[lines.upperBound]
        var offset = first
        var failure: Int32?
        while offset < end {
            let count = buffer.withUnsafeBytes { raw in
                Glibc.write(descriptor, raw.baseAddress! + offset, end - offset)
            }
            if count > 0 {
                offset += count
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                failure = count < 0 ? errno : ENOSPC
                break
            }
        }
        let fileStart = size
        var whole = lines.lowerBound
        while whole <= lines.upperBound && lineEnds[whole] <= offset {
            whole += 1
        }
        size = fileStart + UInt64(start(of: whole) - first)
        if failure != nil && offset > start(of: whole) {
            cutFragment(length: offset - start(of: whole))
        }
        return (whole, failure)
    }

    /// Removes a fragment of a line, its last `length` bytes, from the file,
    /// because it would join the next line written. Reads the file's size
    /// rather than trusting `size`, which another program may have changed
    /// (logrotate's copytruncate, for one). When that fails, it closes the
    /// file, and reopening ends the fragment with a newline.
    private func cutFragment(length: Int) {
        var status = stat()
        guard isRegularFile, fstat(descriptor, &status) == 0, status.st_size >= length,
              ftruncate(descriptor, status.st_size - off_t(length)) == 0
        else {
            closeFile()
            return
        }
        size = UInt64(status.st_size) - UInt64(length)
    }

    /// Opens the file for appending; returns the errno when that fails.
    /// O_NOFOLLOW keeps a symlink planted in the log directory from
    /// redirecting a root-owned sensor's writes, and O_NONBLOCK keeps a FIFO
    /// from blocking the open.
    private func open() -> Int32? {
        // Read access lets endPartialLine look at the last byte.
        let flags = O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK
        let opened = Glibc.open(path, flags, 0o600)
        guard opened >= 0 else { return errno }
        var status = stat()
        guard fstat(opened, &status) == 0 else {
            let errorNumber = errno
            close(opened)
            return errorNumber
        }
        let type = status.st_mode & S_IFMT
        // A FIFO could block the sensor; a device such as /dev/null is
        // written but never rotated.
        guard type == S_IFREG || type == S_IFCHR else {
            close(opened)
            return EINVAL
        }
        isRegularFile = type == S_IFREG
        _ = fcntl(opened, F_SETFL, O_APPEND)
        if let owner, type == S_IFREG, status.st_uid != owner.uid || status.st_gid != owner.gid {
            _ = fchown(opened, owner.uid, owner.gid)
        }
        descriptor = opened
        size = UInt64(status.st_size)
        endPartialLine()
        return nil
    }

    /// Ends a line left unfinished in the file, by an earlier write whose
    /// cut-back also failed or by another program, so that the next line
    /// starts on a line of its own.
    private func endPartialLine() {
        guard isRegularFile, size > 0 else { return }
        var last: UInt8 = 0
        guard pread(descriptor, &last, 1, off_t(size - 1)) == 1, last != UInt8(ascii: "\n") else {
            return
        }
        var newline = UInt8(ascii: "\n")
        if Glibc.write(descriptor, &newline, 1) == 1 {
            size += 1
        }
    }

    private func closeFile() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        size = 0
    }

    /// Renames PATH.N-1 to PATH.N and so on down to PATH to PATH.1, deleting
    /// the oldest, and closes the file so the next write creates a new one.
    /// Returns a warning when a rename failed; the lines then go on to the
    /// file that could not be moved.
    private func rotate() -> String? {
        if rotation.keep == 0 {
            if unlink(path) != 0 && errno != ENOENT {
                return "cannot remove \(path) to rotate it: \(errnoText(errno)); appending to it"
            }
            closeFile()
            return nil
        }
        if unlink("\(path).\(rotation.keep)") != 0 && errno != ENOENT {
            return "cannot remove \(path).\(rotation.keep) to rotate: \(errnoText(errno)); appending to \(path)"
        }
        for index in stride(from: rotation.keep - 1, through: 1, by: -1) {
            if rename("\(path).\(index)", "\(path).\(index + 1)") != 0 && errno != ENOENT {
                return "cannot rename \(path).\(index) to rotate: \(errnoText(errno)); appending to \(path)"
            }
        }
        if rename(path, "\(path).1") != 0 && errno != ENOENT {
            return "cannot rename \(path) to \(path).1: \(errnoText(errno)); appending to it"
        }
        closeFile()
        return nil
    }
}
