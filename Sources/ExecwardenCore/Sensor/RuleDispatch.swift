/// Picks the rules worth evaluating on one record by their prefilter
/// handles, so that a record costs about as much as the rules that can
/// alert on it, however many rules are loaded.
///
/// A rule with a handle is a candidate when the record's executable file
/// name or comm hashes to one of its names. A rule without one is always a
/// candidate. Names are compared by a 64-bit hash, so a collision only adds
/// a candidate, which the full evaluation then rejects. Not thread-safe: it
/// keeps scratch space for the polling thread.
struct RuleDispatch {
    /// The record's knowledge of its executable's file name.
    enum ExecutableName {
        /// The file name is known: the last component of a full path.
        case known(UnsafeRawBufferPointer)
        /// The exec has no path, such as a memfd, so `process.executable`
        /// has no values.
        case absent
        /// The path is cut short or unreliable, so its last component may
        /// not be the file name: every rule is a candidate.
        case unknown
    }

    private let ruleCount: Int
    private let alwaysEvaluated: [Int]
    private let byExecutableName: [UInt64: [Int]]
    private let byProcessName: [UInt64: [Int]]
    /// One bit per rule, cleared after each record.
    private var candidates: [UInt64]

    init(handles: [PrefilterHandle]) {
        var always: [Int] = []
        var executables: [UInt64: [Int]] = [:]
        var processes: [UInt64: [Int]] = [:]
        for (index, handle) in handles.enumerated() {
            switch handle {
            case .none:
                always.append(index)
            case .names(let executableNames, let processNames):
                for name in executableNames {
                    executables[Self.hash(name), default: []].append(index)
                }
                for name in processNames {
                    processes[Self.hash(name), default: []].append(index)
                }
            }
        }
        ruleCount = handles.count
        alwaysEvaluated = always
        byExecutableName = executables
        byProcessName = processes
        candidates = Array(repeating: 0, count: (handles.count + 63) / 64)
    }

    /// Calls `body` with the index of each candidate rule, in rule order.
    mutating func forEachCandidate(
        executable: ExecutableName, comm: UnsafeRawBufferPointer, _ body: (Int) throws -> Void
    ) rethrows {
        if case .unknown = executable {
            for index in 0..<ruleCount {
                try body(index)
            }
            return
        }
        for index in alwaysEvaluated {
            mark(index)
        }
        if case .known(let name) = executable, let rules = byExecutableName[Self.hash(name)] {
            for index in rules {
                mark(index)
            }
        }
        let cut = UnsafeRawBufferPointer(rebasing: comm.prefix(KernelPrefilter.maximumProcessNameLength))
        if let rules = byProcessName[Self.hash(cut)] {
            for index in rules {
                mark(index)
            }
        }
        for word in candidates.indices where candidates[word] != 0 {
            var bits = candidates[word]
            candidates[word] = 0
            while bits != 0 {
                let bit = bits.trailingZeroBitCount
                bits &= bits - 1
                try body(word * 64 + bit)
            }
        }
    }

    private mutating func mark(_ index: Int) {
        candidates[index / 64] |= 1 << UInt64(index % 64)
    }

    /// FNV-1a over the ASCII-lowercased bytes.
    static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(ByteText.foldCase(byte))) &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// Returns the file name of the record's executable, as
    /// `forEachCandidate` takes it.
    static func executableName(of record: ExecRecord) -> ExecutableName {
        let flags = record.flags
        if flags.contains(.executablePseudo) {
            return .absent
        }
        if !flags.isDisjoint(with: [.executableTruncated, .executableIncomplete, .executableUnreachable]) {
            return .unknown
        }
        let path = record.executable
        guard let slash = path.lastIndex(of: UInt8(ascii: "/")) else {
            return .known(path)
        }
        return .known(UnsafeRawBufferPointer(rebasing: path[(slash + 1)...]))
    }
}
