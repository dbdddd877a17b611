/// The condition an exec must meet for any loaded rule to possibly match
/// it, in the form the probe checks in the kernel before it builds a record. The check
/// is a superset test: an exec passes when its executable's file name is in
/// `executableNames` or its comm is in `processNames`, or always when
/// `passAll` is set. User space then evaluates the rules exactly.
///
/// Names are compared after ASCII lowercasing, so one set serves both
/// case-sensitive and case-insensitive conditions.
public struct KernelPrefilter: Equatable, Sendable {
    /// Last path components of `process.executable` (the file's own name,
    /// at most 255 bytes), ASCII-lowercased.
    public var executableNames: Set<[UInt8]>
    /// Values of `process.name` (the kernel comm, at most 15 bytes),
    /// ASCII-lowercased and cut to 15 bytes.
    public var processNames: Set<[UInt8]>
    /// Some rule gives no handle: every exec goes to user space.
    public var passAll: Bool

    public init(
        executableNames: Set<[UInt8]> = [], processNames: Set<[UInt8]> = [],
        passAll: Bool = false
    ) {
        self.executableNames = executableNames
        self.processNames = processNames
        self.passAll = passAll
    }

    /// Lets every exec through.
    public static let everything = KernelPrefilter(passAll: true)
}
