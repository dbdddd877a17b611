import CExecwarden
import Glibc

/// A failure of the BPF probe, with the stage that failed, the errno and
/// what to do about it.
public struct ProbeError: Error, CustomStringConvertible, Sendable {
    public enum Stage: String, Sendable {
        case precheck, open, configure, load, attach
        case ringBuffer = "ring buffer"
        case poll, counters
    }

    public let stage: Stage
    public let errorNumber: Int32
    /// libbpf's latest messages; for a rejected program, the end of the
    /// verifier log.
    public let detail: String
    public let hint: String?

    public var description: String {
        var text = "execwarden: BPF \(stage.rawValue) failed"
        if errorNumber != 0 {
            text += ": \(String(cString: strerror(errorNumber))) (errno \(errorNumber))"
        }
        if let hint {
            text += ". \(hint)"
        }
        return text
    }

    init(stage: Stage, errorNumber: Int32, detail: String = "", hint: String? = nil) {
        self.stage = stage
        self.errorNumber = errorNumber
        self.detail = detail
        self.hint = hint ?? Self.hint(stage: stage, errorNumber: errorNumber)
    }

    init(_ error: ew_error) {
        var error = error
        let detail = withUnsafeBytes(of: &error.detail) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        self.init(
            stage: Stage(error.stage), errorNumber: error.error_number,
            detail: detail)
    }

    private static func hint(stage: Stage, errorNumber: Int32) -> String? {
        switch (stage, errorNumber) {
        case (_, EPERM):
            return "Run as root, or grant CAP_BPF and CAP_PERFMON (CAP_SYS_ADMIN on kernels before 5.8)"
        case (.load, EACCES), (.load, EINVAL):
            return "The kernel's verifier rejected the program; run with -v to see the verifier log"
        case (.load, ESRCH), (.load, ENOENT), (.open, ENOENT):
            return "The kernel has no BTF at /sys/kernel/btf/vmlinux; use a kernel built with CONFIG_DEBUG_INFO_BTF=y"
        case (.attach, ENOENT), (.attach, EINVAL):
            return "The kernel cannot attach the program to sched_process_exec; execwarden needs Linux 5.17 or later with BTF"
        case (.configure, _), (.ringBuffer, ENOMEM):
            return "Check --ring-size: it must be a power of two from 1M to 1G"
        default:
            return nil
        }
    }
}

extension ProbeError.Stage {
    init(_ stage: ew_stage) {
        switch stage {
        case EW_STAGE_OPEN: self = .open
        case EW_STAGE_CONFIGURE: self = .configure
        case EW_STAGE_LOAD: self = .load
        case EW_STAGE_ATTACH: self = .attach
        case EW_STAGE_RING_BUFFER: self = .ringBuffer
        case EW_STAGE_POLL: self = .poll
        case EW_STAGE_COUNTERS: self = .counters
        default: self = .precheck
        }
    }
}

/// Kernel-side counters of the probe, summed over CPUs.
public struct ProbeCounters: Sendable, Equatable {
    /// Records written to the ring buffer.
    public var sent: UInt64 = 0
    /// Records lost because the ring buffer was full.
    public var ringFull: UInt64 = 0
    /// Records lost because the scratch slot for the CPU was missing.
    public var noScratch: UInt64 = 0
    /// Execs the kernel did not show the program because it was already
    /// running on that CPU.
    public var recursionMisses: UInt64 = 0

    public var lost: UInt64 { ringFull + noScratch + recursionMisses }

    public init() {}
}

/// Receives each record during `AttachedProbe.poll`. The bytes are valid
/// only during the call.
public typealias RecordHandler = (UnsafeRawBufferPointer) -> Void

/// The embedded BPF object, opened and configured but not yet in the kernel.
///
/// The lifecycle is open → load → attach, each a separate type, so a probe
/// cannot be attached before it loaded. Each step consumes its value.
public final class OpenedProbe {
    fileprivate var handle: OpaquePointer?

    /// Opens the embedded object. `ringSize` is the ring buffer size in
    /// bytes (a power of two and a multiple of the page size), or nil for
    /// the object's default of 8 MiB.
    public init(ringSize: UInt32? = nil, verbose: Bool = false) throws(ProbeError) {
        try Self.checkPrerequisites()
        ew_set_verbose(verbose ? 1 : 0)
        var error = ew_error()
        guard let handle = ew_probe_open(ringSize ?? 0, &error) else {
            throw ProbeError(error)
        }
        self.handle = handle
    }

    deinit { ew_probe_close(handle) }

    /// Verifies and loads the program and maps into the kernel.
    public consuming func load() throws(ProbeError) -> LoadedProbe {
        var error = ew_error()
        guard ew_probe_load(handle, &error) == 0 else {
            throw ProbeError(error)
        }
        let loaded = LoadedProbe(handle: handle)
        handle = nil
        return loaded
    }

    /// Checks what libbpf would otherwise report only as a bare errno.
    static func checkPrerequisites() throws(ProbeError) {
        if access("/sys/kernel/btf/vmlinux", R_OK) != 0 {
            throw ProbeError(
                stage: .precheck, errorNumber: errno,
                hint: "The kernel has no readable BTF at /sys/kernel/btf/vmlinux; use a kernel built with CONFIG_DEBUG_INFO_BTF=y")
        }
        if geteuid() != 0 && !Capabilities.current().canLoadTracingPrograms {
            throw ProbeError(
                stage: .precheck, errorNumber: EPERM,
                hint: "Run as root, or grant CAP_BPF and CAP_PERFMON (CAP_SYS_ADMIN on kernels before 5.8)")
        }
    }
}

/// The probe with its program and maps in the kernel, not yet attached.
public final class LoadedProbe {
    fileprivate var handle: OpaquePointer?

    fileprivate init(handle: OpaquePointer?) {
        self.handle = handle
    }

    deinit { ew_probe_close(handle) }

    /// Attaches the program to sched_process_exec. From then on every exec
    /// on the host produces a record, delivered to `handler` by `poll`.
    public consuming func attach(handler: @escaping RecordHandler) throws(ProbeError) -> AttachedProbe {
        let box = HandlerBox(handler)
        let context = Unmanaged.passRetained(box).toOpaque()
        var error = ew_error()
        guard ew_probe_attach(handle, attachedProbeTrampoline, context, &error) == 0 else {
            Unmanaged<HandlerBox>.fromOpaque(context).release()
            throw ProbeError(error)
        }
        let attached = AttachedProbe(handle: handle, context: context)
        handle = nil
        return attached
    }
}

private final class HandlerBox {
    let handler: RecordHandler
    init(_ handler: @escaping RecordHandler) { self.handler = handler }
}

private func attachedProbeTrampoline(
    context: UnsafeMutableRawPointer?, data: UnsafeRawPointer?, size: Int
) -> Int32 {
    guard let context, let data else { return 0 }
    let box = Unmanaged<HandlerBox>.fromOpaque(context).takeUnretainedValue()
    box.handler(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// The attached probe. Not thread-safe: poll it from one thread.
public final class AttachedProbe {
    private let handle: OpaquePointer?
    private let context: UnsafeMutableRawPointer

    fileprivate init(handle: OpaquePointer?, context: UnsafeMutableRawPointer) {
        self.handle = handle
        self.context = context
    }

    deinit {
        ew_probe_close(handle)
        Unmanaged<HandlerBox>.fromOpaque(context).release()
    }

    /// Waits up to `timeoutMilliseconds` for records and hands every ready
    /// one to the handler. Returns the number handled.
    @discardableResult
    public func poll(timeoutMilliseconds: Int32) throws(ProbeError) -> Int {
        var error = ew_error()
        let consumed = ew_probe_poll(handle, timeoutMilliseconds, &error)
        guard consumed >= 0 else { throw ProbeError(error) }
        return Int(consumed)
    }

    /// Detaches the program from the tracepoint. Records already in the
    /// ring stay there for `drain`, and the counters stay readable.
    public func detach() {
        ew_probe_detach(handle)
    }

    /// Hands every ready record to the handler without waiting.
    @discardableResult
    public func drain() throws(ProbeError) -> Int {
        var error = ew_error()
        let consumed = ew_probe_consume(handle, &error)
        guard consumed >= 0 else { throw ProbeError(error) }
        return Int(consumed)
    }

    /// Replaces what the probe lets through in rule mode; takes effect for
    /// the next exec.
    public func setPrefilter(_ prefilter: KernelPrefilter) throws(ProbeError) {
        // TODO(lead): fill the prefilter maps.
        _ = prefilter
    }

    public func counters() throws(ProbeError) -> ProbeCounters {
        var raw = ew_counters()
        var error = ew_error()
        guard ew_probe_read_counters(handle, &raw, &error) == 0 else {
            throw ProbeError(error)
        }
        var counters = ProbeCounters()
        withUnsafeBytes(of: raw.values) { bytes in
            let values = bytes.bindMemory(to: UInt64.self)
            counters.sent = values[Int(EW_COUNTER_SENT.rawValue)]
            counters.ringFull = values[Int(EW_COUNTER_RING_FULL.rawValue)]
            counters.noScratch = values[Int(EW_COUNTER_NO_SCRATCH.rawValue)]
        }
        counters.recursionMisses = raw.recursion_misses
        return counters
    }
}
