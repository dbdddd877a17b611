#if !EXECWARDEN_LIBFUZZER
import Glibc

/// Saves the input being run when a check traps, from the signal handler,
/// with async-signal-safe calls only.
///
/// `record` copies each input into a buffer that the handler writes out
/// with open(2) and write(2). The handler runs once (SA_RESETHAND) and
/// returns, so the trap repeats and the process dies as it would have.
enum CrashRecorder {
    nonisolated(unsafe) private static var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 1 << 20)
    nonisolated(unsafe) private static var capacity = 1 << 20
    nonisolated(unsafe) private static var length = 0
    /// The path of the crash file, NUL-terminated, with room for the
    /// iteration number written in by the handler.
    nonisolated(unsafe) private static var path = [CChar](repeating: 0, count: 4096)
    nonisolated(unsafe) private static var pathPrefixLength = 0
    nonisolated(unsafe) private static var iteration: UInt64 = 0

    static func install(path prefix: String) {
        let bytes = Array(prefix.utf8.prefix(4000))
        for (index, byte) in bytes.enumerated() { path[index] = CChar(bitPattern: byte) }
        pathPrefixLength = bytes.count
        for signalNumber in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in CrashRecorder.saveInput() }
            // The default action comes back before the handler runs.
            action.sa_flags = Int32(bitPattern: UInt32(SA_RESETHAND))
            sigaction(signalNumber, &action, nil)
        }
    }

    static func record(_ input: [UInt8], iteration number: UInt64) {
        if input.count > capacity {
            buffer.deallocate()
            capacity = input.count
            buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        }
        input.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: $0.count) }
        length = input.count
        iteration = number
    }

    /// Writes the current input; called only from the signal handler.
    private static func saveInput() {
        path.withUnsafeMutableBufferPointer { name in
            // Appends "-ITERATION" in decimal without allocating.
            var end = pathPrefixLength
            name[end] = CChar(UInt8(ascii: "-"))
            end += 1
            var value = iteration
            var reversed: (CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar,
                           CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            var count = 0
            withUnsafeMutableBytes(of: &reversed) { scratch in
                repeat {
                    scratch[count] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                    count += 1
                } while value > 0
                for index in 0..<count {
                    name[end + index] = CChar(bitPattern: scratch[count - 1 - index])
                }
            }
            name[end + count] = 0
            let descriptor = open(name.baseAddress!, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { return }
            _ = write(descriptor, buffer, length)
            close(descriptor)
        }
    }
}
#endif
