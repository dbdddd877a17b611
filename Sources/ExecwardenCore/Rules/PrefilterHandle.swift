/// The names an exec must have for one rule to alert on it, in the terms
/// the kernel prefilter checks: the executable's file name or the comm.
public enum PrefilterHandle: Hashable, Sendable {
    /// The rule can alert only on an exec whose executable file name is in
    /// `executableNames` or whose comm is in `processNames`. Names are
    /// ASCII-lowercased, and comm names are cut to 15 bytes. With both sets
    /// empty, the rule never alerts on an exec.
    case names(executableNames: Set<[UInt8]>, processNames: Set<[UInt8]>)
    /// The rule gives no such handle, for the reason given, so every exec
    /// must reach user space for it.
    case none(reason: String)

    /// The handle of a rule that never alerts on an exec.
    public static let never = PrefilterHandle.names(executableNames: [], processNames: [])

    /// True when the rule can never alert on an exec.
    public var neverMatches: Bool {
        self == .never
    }

    /// The number of names, or nil without a handle.
    var nameCount: Int? {
        guard case .names(let executables, let processes) = self else { return nil }
        return executables.count + processes.count
    }
}

extension KernelPrefilter {
    /// Creates the prefilter that lets through every exec any of `handles`
    /// may alert on: the union of their names, or every exec when one has
    /// no handle.
    public init(handles: some Sequence<PrefilterHandle>) {
        self.init()
        for handle in handles {
            switch handle {
            case .none:
                passAll = true
            case .names(let executables, let processes):
                executableNames.formUnion(executables)
                processNames.formUnion(processes)
            }
        }
        if passAll {
            executableNames = []
            processNames = []
        }
    }

    /// The maximum comm length the kernel keeps, without its terminating
    /// zero.
    public static let maximumProcessNameLength = 15

    /// Applies the kernel's check in user space: passes when `passAll` is
    /// set, when the lowercased file name of `executable` is in
    /// `executableNames`, or when the lowercased `comm`, cut to 15 bytes, is
    /// in `processNames`. `executable` is nil for an exec without a path,
    /// such as a memfd.
    public func admits(executable: [UInt8]?, comm: [UInt8]) -> Bool {
        if passAll { return true }
        if let executable, executableNames.contains(PrefilterDerivation.fileName(executable)) {
            return true
        }
        return processNames.contains(PrefilterDerivation.processName(comm))
    }
}
