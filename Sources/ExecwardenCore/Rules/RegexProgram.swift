/// A regex compiled to a Thompson NFA whose epsilon closures are computed
/// when the rule loads. Matching is anchored at both ends, runs in
/// O(text × states) and keeps its two state sets in a stack buffer, so it
/// allocates nothing per value.
struct RegexProgram: Hashable, Sendable {
    /// The character set each consuming state matches.
    private let sets: [RegexCharacterSet]
    /// Bitset of the states active before the first character. Bit
    /// `sets.count` is the accepting state.
    private let startStates: [UInt64]
    /// Row `i` (of `wordCount` words) is the bitset of states active after
    /// state `i` consumes a character.
    private let transitions: [UInt64]
    private let wordCount: Int
    let caseInsensitive: Bool

    static let maximumStates = 2000

    init(_ pattern: String, caseInsensitive: Bool) throws(RegexSyntaxError) {
        let tree = try LuceneRegexParser.parse(pattern)
        var builder = NFABuilder()
        let entry = try builder.compile(tree, next: NFABuilder.acceptState)
        let consuming = builder.consumingStates()
        let wordCount = (consuming.count + 1 + 63) / 64
        let bitOfState = builder.bitNumbers()
        var transitions = [UInt64](repeating: 0, count: consuming.count * wordCount)
        for (row, state) in consuming.enumerated() {
            let closure = builder.closure(of: builder.next(of: state), bits: bitOfState, wordCount: wordCount)
            transitions.replaceSubrange(row * wordCount..<(row + 1) * wordCount, with: closure)
        }
        self.sets = consuming.map { builder.set(of: $0) }
        self.startStates = builder.closure(of: entry, bits: bitOfState, wordCount: wordCount)
        self.transitions = transitions
        self.wordCount = wordCount
        self.caseInsensitive = caseInsensitive
    }

    func matches(_ text: UnsafeRawBufferPointer) -> Bool {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 2 * wordCount) { buffer in
            var current = UnsafeMutableBufferPointer(rebasing: buffer[0..<wordCount])
            var following = UnsafeMutableBufferPointer(rebasing: buffer[wordCount...])
            for word in 0..<wordCount {
                current[word] = startStates[word]
            }
            var offset = 0
            while offset < text.count {
                let (codePoint, length) = ByteText.decodeCharacter(in: text, at: offset)
                guard step(from: current, to: following, on: codePoint) else { return false }
                swap(&current, &following)
                offset += length
            }
            return isAccepting(current)
        }
    }

    /// Fills `following` with the states reached from `current` on one
    /// character and returns false when no state is active any more.
    private func step(
        from current: UnsafeMutableBufferPointer<UInt64>, to following: UnsafeMutableBufferPointer<UInt64>,
        on codePoint: UInt32
    ) -> Bool {
        following.update(repeating: 0)
        var active = false
        for word in 0..<wordCount {
            var bits = current[word]
            while bits != 0 {
                let state = word * 64 + bits.trailingZeroBitCount
                bits &= bits - 1
                guard state < sets.count, sets[state].contains(codePoint, caseInsensitive: caseInsensitive) else {
                    continue
                }
                for target in 0..<wordCount {
                    following[target] |= transitions[state * wordCount + target]
                }
                active = true
            }
        }
        return active
    }

    private func isAccepting(_ states: UnsafeMutableBufferPointer<UInt64>) -> Bool {
        let accept = sets.count
        return states[accept / 64] & (1 << UInt64(accept % 64)) != 0
    }
}

/// Builds the NFA back to front: each fragment is compiled with the index of
/// the state that follows it, so no patching is needed except for loops.
private struct NFABuilder {
    enum State {
        case accept
        case character(RegexCharacterSet, next: Int)
        case split(Int, Int)
    }

    static let acceptState = 0
    private var states: [State] = [.accept]

    mutating func compile(_ node: RegexNode, next: Int) throws(RegexSyntaxError) -> Int {
        guard states.count <= RegexProgram.maximumStates else {
            throw RegexSyntaxError(
                message: "the pattern needs more than \(RegexProgram.maximumStates) states: simplify its repetitions",
                offset: 0)
        }
        switch node {
        case .empty:
            return next
        case .character(let set):
            return add(.character(set, next: next))
        case .concatenation(let items):
            var entry = next
            for item in items.reversed() {
                entry = try compile(item, next: entry)
            }
            return entry
        case .alternation(let branches):
            var entry = try compile(branches[branches.count - 1], next: next)
            for branch in branches.dropLast().reversed() {
                entry = add(.split(try compile(branch, next: next), entry))
            }
            return entry
        case .repetition(let body, let minimum, let maximum):
            return try compileRepetition(body, minimum: minimum, maximum: maximum, next: next)
        }
    }

    private mutating func compileRepetition(
        _ body: RegexNode, minimum: Int, maximum: Int?, next: Int
    ) throws(RegexSyntaxError) -> Int {
        var entry = next
        if let maximum {
            for _ in 0..<(maximum - minimum) {
                entry = add(.split(try compile(body, next: entry), next))
            }
        } else {
            let loop = add(.split(next, next))
            states[loop] = .split(try compile(body, next: loop), next)
            entry = loop
        }
        for _ in 0..<minimum {
            entry = try compile(body, next: entry)
        }
        return entry
    }

    private mutating func add(_ state: State) -> Int {
        states.append(state)
        return states.count - 1
    }

    /// Indexes of the consuming states, in the order that numbers their bits.
    func consumingStates() -> [Int] {
        states.indices.filter {
            if case .character = states[$0] { return true }
            return false
        }
    }

    func next(of state: Int) -> Int {
        guard case .character(_, let next) = states[state] else { return state }
        return next
    }

    func set(of state: Int) -> RegexCharacterSet {
        guard case .character(let set, _) = states[state] else { return .any }
        return set
    }

    /// Returns the bitset of consuming states (and the accepting state, as
    /// the bit after them) reachable from `state` through splits alone.
    func closure(of state: Int, bits bitOfState: [Int: Int], wordCount: Int) -> [UInt64] {
        var bits = [UInt64](repeating: 0, count: wordCount)
        var visited = Set<Int>()
        var pending = [state]
        while let current = pending.popLast() {
            guard visited.insert(current).inserted else { continue }
            switch states[current] {
            case .split(let first, let second):
                pending.append(second)
                pending.append(first)
            case .accept, .character:
                let bit = bitOfState[current]!
                bits[bit / 64] |= 1 << UInt64(bit % 64)
            }
        }
        return bits
    }

    /// Maps each consuming state to its bit, and the accepting state to the
    /// bit after the last consuming state.
    func bitNumbers() -> [Int: Int] {
        let consuming = consumingStates()
        var bits: [Int: Int] = [:]
        for (bit, state) in consuming.enumerated() {
            bits[state] = bit
        }
        bits[Self.acceptState] = consuming.count
        return bits
    }
}
