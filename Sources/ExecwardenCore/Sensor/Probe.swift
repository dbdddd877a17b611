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
            return "Check the ring sizes: each must be a power of two from 1M to 1G"
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
    /// Records of rule candidates written to the rules ring.
    public var rulesSent: UInt64 = 0
    /// Rule candidates lost because the rules ring was full.
    public var rulesRingFull: UInt64 = 0
    /// Records of other execs written to the events ring (`--events`).
    public var eventsSent: UInt64 = 0
    /// Records lost because the events ring was full.
    public var eventsRingFull: UInt64 = 0
    /// Execs the prefilter showed no rule can match, not sent in rule mode.
    public var filtered: UInt64 = 0
    /// Records lost because the scratch slot for the CPU was missing.
    public var noScratch: UInt64 = 0
    /// Execs whose argv the probe could not keep for their children's
    /// `process.parent.args` (its table was full).
    public var argsNotKept: UInt64 = 0
    /// Execs the kernel did not show the program because it was already
    /// running on that CPU.
    public var recursionMisses: UInt64 = 0
    /// The same for the fork and exit programs that keep the argv table.
    public var processRecursionMisses: UInt64 = 0
    /// Bytes waiting in the rules ring, and in the events ring, just after
    /// the latest record written to each.
    public var rulesRingFill: UInt64 = 0
    public var eventsRingFill: UInt64 = 0

    public var sent: UInt64 { rulesSent + eventsSent }
    public var ringFull: UInt64 { rulesRingFull + eventsRingFull }
    /// Execs that should have produced a record and did not.
    public var lost: UInt64 { ringFull + noScratch + recursionMisses }

    public init() {}
}

/// The ring buffer a record came through.
public enum RecordRing: Sendable {
    /// Execs that some rule may match.
    case rules
    /// Every other exec, sent only with `--events`.
    case events
}

/// Receives each record during `AttachedProbe.poll`. The bytes are valid
/// only during the call.
public typealias RecordHandler = (UnsafeRawBufferPointer, RecordRing) -> Void

/// How the probe decides what to send.
public struct ProbeMode: Sendable, Equatable {
    /// Send every exec, not only rule candidates.
    public var emitEvents: Bool
    /// The names some rule may match.
    public var prefilter: KernelPrefilter
    /// The events ring wakes the reader once this many bytes wait.
    public var eventsWakeupBytes: UInt64

    public init(emitEvents: Bool, prefilter: KernelPrefilter, eventsWakeupBytes: UInt64) {
        self.emitEvents = emitEvents
        self.prefilter = prefilter
        self.eventsWakeupBytes = eventsWakeupBytes
    }
}

/// The embedded BPF object, opened and configured but not yet in the kernel.
///
/// The lifecycle is open → load → attach, each a separate type, so a probe
/// cannot be attached before it loaded. Each step consumes its value.
public final class OpenedProbe {
    fileprivate var handle: OpaquePointer?

    /// Opens the embedded object. The ring sizes are in bytes (a power of
    /// two and a multiple of the page size), or nil for the object's
    /// default of 8 MiB. Without `emitEvents` the events ring carries
    /// nothing and takes one page.
    public init(
        rulesRingSize: UInt32? = nil, eventsRingSize: UInt32? = nil,
        emitEvents: Bool, verbose: Bool = false
    ) throws(ProbeError) {
        try Self.checkPrerequisites()
        ew_set_verbose(verbose ? 1 : 0)
        var error = ew_error()
        let eventsSize = emitEvents ? eventsRingSize ?? 0 : UInt32(sysconf(Int32(_SC_PAGESIZE)))
        guard let handle = ew_probe_open(rulesRingSize ?? 0, eventsSize, &error) else {
            throw ProbeError(error)
        }
        self.handle = handle
    }

    deinit { ew_probe_close(handle) }

    /// Verifies and loads the programs and maps into the kernel.
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

/// The probe with its programs and maps in the kernel, not yet attached.
public final class LoadedProbe {
    fileprivate var handle: OpaquePointer?

    fileprivate init(handle: OpaquePointer?) {
        self.handle = handle
    }

    deinit { ew_probe_close(handle) }

    /// Sets the mode, attaches the programs, and fills the probe's argv
    /// table with the processes already running. From then on every exec
    /// on the host that `mode` selects produces a record, delivered to
    /// `handler` by `poll`.
    public consuming func attach(
        mode: ProbeMode, handler: @escaping RecordHandler
    ) throws(ProbeError) -> AttachedProbe {
        let settings = ProbeSettings(handle: handle)
        try settings.apply(mode)
        let box = HandlerBox(handler)
        let context = Unmanaged.passRetained(box).toOpaque()
        var error = ew_error()
        guard ew_probe_attach(handle, attachedProbeTrampoline, context, &error) == 0 else {
            Unmanaged<HandlerBox>.fromOpaque(context).release()
            throw ProbeError(error)
        }
        let attached = AttachedProbe(handle: handle, context: context, settings: settings)
        handle = nil
        // After attaching, so that a process starting meanwhile is either
        // in /proc or seen by the fork and exec programs.
        RunningProcesses.addArguments(to: attached.handleForSeeding)
        return attached
    }
}

private final class HandlerBox {
    let handler: RecordHandler
    init(_ handler: @escaping RecordHandler) { self.handler = handler }
}

private func attachedProbeTrampoline(
    context: UnsafeMutableRawPointer?, ring: ew_ring, data: UnsafeRawPointer?, size: Int
) -> Int32 {
    guard let context, let data else { return 0 }
    let box = Unmanaged<HandlerBox>.fromOpaque(context).takeUnretainedValue()
    box.handler(
        UnsafeRawBufferPointer(start: data, count: size),
        ring == EW_RING_RULES ? .rules : .events)
    return 0
}

/// Writes the probe's config map and prefilter maps, and remembers what it
/// wrote so that a new prefilter changes only the names that differ.
final class ProbeSettings {
    private let handle: OpaquePointer?
    private var mode: ProbeMode?

    init(handle: OpaquePointer?) {
        self.handle = handle
    }

    /// Applies `new`. While names change, every exec passes, so no exec is
    /// dropped that either the old or the new rules may match.
    func apply(_ new: ProbeMode) throws(ProbeError) {
        let old = mode
        mode = nil
        try configure(new, passAll: true)
        try update(which: 0, from: old?.prefilter.executableNames ?? [],
                   to: new.prefilter.executableNames)
        try update(which: 1, from: old?.prefilter.processNames ?? [],
                   to: new.prefilter.processNames)
        try configure(new, passAll: new.prefilter.passAll)
        mode = new
    }

    func apply(_ prefilter: KernelPrefilter) throws(ProbeError) {
        guard var new = mode else { return }
        new.prefilter = prefilter
        try apply(new)
    }

    private func configure(_ mode: ProbeMode, passAll: Bool) throws(ProbeError) {
        var config = ew_config()
        if mode.emitEvents { config.flags |= EW_CONFIG_EMIT_EVENTS.rawValue }
        if passAll { config.flags |= EW_CONFIG_PASS_ALL.rawValue }
        config.events_wakeup_bytes = mode.eventsWakeupBytes
        var error = ew_error()
        guard ew_probe_configure(handle, &config, &error) == 0 else {
            throw ProbeError(error)
        }
    }

    private func update(which: Int32, from old: Set<[UInt8]>, to new: Set<[UInt8]>) throws(ProbeError) {
        let oldKeys = Set(old.map(Self.key))
        let newKeys = Set(new.map(Self.key))
        for key in oldKeys.subtracting(newKeys) {
            try set(which: which, key: key, present: false)
        }
        for key in newKeys.subtracting(oldKeys) {
            try set(which: which, key: key, present: true)
        }
    }

    private func set(which: Int32, key: [UInt8], present: Bool) throws(ProbeError) {
        var raw = ew_prefilter_key()
        withUnsafeMutableBytes(of: &raw.name) { $0.copyBytes(from: key) }
        var error = ew_error()
        guard ew_probe_set_prefilter_name(handle, which, &raw, present ? 1 : 0, &error) == 0 else {
            throw ProbeError(error)
        }
    }

    /// Returns the map key of a name: ASCII-lowercased and cut to leave
    /// room for a NUL, as the program builds it from the kernel's name.
    static func key(_ name: [UInt8]) -> [UInt8] {
        name.prefix(Int(EW_PREFILTER_NAME_MAX) - 1).prefix { $0 != 0 }.map { byte in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
        }
    }
}

/// The attached probe. Not thread-safe: poll it from one thread.
public final class AttachedProbe {
    private let handle: OpaquePointer?
    private let context: UnsafeMutableRawPointer
    private let settings: ProbeSettings

    fileprivate init(handle: OpaquePointer?, context: UnsafeMutableRawPointer, settings: ProbeSettings) {
        self.handle = handle
        self.context = context
        self.settings = settings
    }

    deinit {
        ew_probe_close(handle)
        Unmanaged<HandlerBox>.fromOpaque(context).release()
    }

    fileprivate var handleForSeeding: OpaquePointer? { handle }

    /// Waits up to `timeoutMilliseconds` for records and hands every ready
    /// one to the handler. Returns the number handled.
    @discardableResult
    public func poll(timeoutMilliseconds: Int32) throws(ProbeError) -> Int {
        var error = ew_error()
        let consumed = ew_probe_poll(handle, timeoutMilliseconds, &error)
        guard consumed >= 0 else { throw ProbeError(error) }
        return Int(consumed)
    }

    /// Detaches the programs. Records already in the rings stay there for
    /// `drain`, and the counters stay readable.
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
        try settings.apply(prefilter)
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
            func value(_ index: ew_counter_index) -> UInt64 { values[Int(index.rawValue)] }
            counters.rulesSent = value(EW_COUNTER_RULES_SENT)
            counters.rulesRingFull = value(EW_COUNTER_RULES_RING_FULL)
            counters.eventsSent = value(EW_COUNTER_EVENTS_SENT)
            counters.eventsRingFull = value(EW_COUNTER_EVENTS_RING_FULL)
            counters.filtered = value(EW_COUNTER_FILTERED)
            counters.noScratch = value(EW_COUNTER_NO_SCRATCH)
            counters.argsNotKept = value(EW_COUNTER_ARGS_NOT_KEPT)
        }
        counters.recursionMisses = raw.recursion_misses
        counters.processRecursionMisses = raw.process_recursion_misses
        counters.rulesRingFill = raw.ring_fill.0
        counters.eventsRingFill = raw.ring_fill.1
        return counters
    }
}
