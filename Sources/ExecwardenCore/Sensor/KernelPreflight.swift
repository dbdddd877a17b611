import CPrivilege
import Glibc

/// Checks, before the probe opens, that this kernel can run it at all, so
/// that an unsuitable host gets one line naming the problem and the fix
/// rather than a bare errno from libbpf.
///
/// It checks, in this order, that the bpf() system call exists and that
/// kernel lockdown is not in confidentiality mode, which forbids BPF
/// programs to read kernel memory. Then it checks that the kernel has BTF
/// and that this BTF describes the sched_process_exec tracepoint.
public struct KernelPreflight: Sendable {
    public var btfPath = "/sys/kernel/btf/vmlinux"
    public var lockdownPath = "/sys/kernel/security/lockdown"
    /// The BTF type behind tp_btf/sched_process_exec.
    static let tracepointType = "btf_trace_sched_process_exec"

    public init() {}

    /// Throws a `ProbeError` at stage `precheck` for the first problem.
    public func check() throws(ProbeError) {
        _ = ew_probe_bpf_syscall()
        if errno == ENOSYS {
            throw ProbeError(
                stage: .precheck, errorNumber: ENOSYS,
                hint: "The kernel has no bpf() system call, or a seccomp filter blocks it; use a kernel built with CONFIG_BPF_SYSCALL=y and, in a container, allow bpf()")
        }
        if lockdownMode() == "confidentiality" {
            throw ProbeError(
                stage: .precheck, errorNumber: EPERM,
                hint: "Kernel lockdown is in confidentiality mode (\(lockdownPath)), which forbids BPF programs to read kernel memory; boot with lockdown=integrity or without lockdown")
        }
        let btf: [UInt8]
        do {
            btf = try readFile(btfPath)
        } catch {
            throw ProbeError(
                stage: .precheck, errorNumber: error.errorNumber,
                hint: "The kernel has no readable BTF at \(btfPath); use a kernel built with CONFIG_DEBUG_INFO_BTF=y")
        }
        guard let found = Self.stringTable(ofBTF: btf).map({ Self.contains($0, name: Self.tracepointType) }) else {
            throw ProbeError(
                stage: .precheck, errorNumber: EINVAL,
                hint: "\(btfPath) is not valid BTF; use a kernel built with CONFIG_DEBUG_INFO_BTF=y")
        }
        guard found else {
            throw ProbeError(
                stage: .precheck, errorNumber: ENOENT,
                hint: "The kernel's BTF has no sched_process_exec tracepoint (\(Self.tracepointType)); execwarden needs Linux 5.17 or later with BTF")
        }
    }

    /// Returns the active lockdown mode, the bracketed word in the file
    /// ("none [integrity] confidentiality"), or nil without lockdown.
    func lockdownMode() -> String? {
        guard let bytes = try? readFile(lockdownPath) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let open = text.firstIndex(of: "["),
              let close = text[open...].firstIndex(of: "]") else { return nil }
        return String(text[text.index(after: open)..<close])
    }

    /// Returns the string section of raw BTF, or nil when the header is
    /// invalid. The header is a u16 magic 0xEB9F, u8 version and flags, then
    /// u32 hdr_len, type_off, type_len, str_off and str_len, all in host
    /// byte order. The offsets count from the end of the header.
    static func stringTable(ofBTF bytes: [UInt8]) -> ArraySlice<UInt8>? {
        guard bytes.count >= 24 else { return nil }
        let (magic, headerLength, stringOffset, stringLength) = bytes.withUnsafeBytes { raw in
            (raw.loadUnaligned(as: UInt16.self),
             Int(raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self)),
             Int(raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self)),
             Int(raw.loadUnaligned(fromByteOffset: 20, as: UInt32.self)))
        }
        let start = headerLength + stringOffset
        guard magic == 0xEB9F, headerLength >= 24, start <= bytes.count,
              stringLength <= bytes.count - start else { return nil }
        return bytes[start..<start + stringLength]
    }

    /// True when `table`, a section of NUL-terminated strings, contains
    /// `name` as a whole string.
    static func contains(_ table: ArraySlice<UInt8>, name: String) -> Bool {
        let needle = [0] + Array(name.utf8) + [0]
        return table.firstRange(of: needle) != nil
    }
}

struct FileReadError: Error {
    let errorNumber: Int32
}

/// Reads a whole file, including files in /sys whose size stat reports
/// wrongly.
func readFile(_ path: String) throws(FileReadError) -> [UInt8] {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw FileReadError(errorNumber: errno) }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        if count < 0 { throw FileReadError(errorNumber: errno) }
        if count == 0 { return bytes }
        bytes.append(contentsOf: chunk[..<count])
    }
}
