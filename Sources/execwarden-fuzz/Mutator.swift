/// SplitMix64, a small pseudo-random generator whose whole sequence is
/// fixed by its seed, so that a run can be repeated.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Byte-level mutations in the manner of libFuzzer's, without its coverage
/// feedback.
enum Mutator {
    /// Values that sit on the edges of sizes, offsets and byte classes.
    private static let edgeValues: [UInt32] = [
        0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF, 0x10000,
        0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF,
    ]

    /// Applies one to eight random mutations to `input`, sometimes splicing
    /// in part of another input from `other`.
    static func mutate(_ input: inout [UInt8], other: [[UInt8]], using generator: inout SplitMix64) {
        let count = Int.random(in: 1...8, using: &generator)
        for _ in 0..<count {
            mutateOnce(&input, other: other, using: &generator)
        }
        if input.count > 1 << 20 {
            input.removeLast(input.count - (1 << 20))
        }
    }

    private static func mutateOnce(
        _ input: inout [UInt8], other: [[UInt8]], using generator: inout SplitMix64
    ) {
        let choice = Int.random(in: 0..<8, using: &generator)
        if input.isEmpty || choice == 0 {
            let at = Int.random(in: 0...input.count, using: &generator)
            let length = Int.random(in: 1...16, using: &generator)
            input.insert(contentsOf: (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }, at: at)
            return
        }
        let index = Int.random(in: 0..<input.count, using: &generator)
        switch choice {
        case 1:
            input[index] ^= 1 << UInt8.random(in: 0...7, using: &generator)
        case 2:
            input[index] = UInt8.random(in: 0...255, using: &generator)
        case 3:
            let end = min(input.count, index + Int.random(in: 1...32, using: &generator))
            input.removeSubrange(index..<end)
        case 4:
            let end = min(input.count, index + Int.random(in: 1...64, using: &generator))
            input.insert(contentsOf: input[index..<end], at: Int.random(in: 0...input.count, using: &generator))
        case 5:
            // A little-endian edge value, which lands on record header fields.
            var value = edgeValues.randomElement(using: &generator)!.littleEndian
            let bytes = withUnsafeBytes(of: &value) { Array($0) }
            let width = [1, 2, 4].randomElement(using: &generator)!
            for offset in 0..<width where index + offset < input.count {
                input[index + offset] = bytes[offset]
            }
        case 6:
            guard let donor = other.randomElement(using: &generator), !donor.isEmpty else { return }
            let start = Int.random(in: 0..<donor.count, using: &generator)
            let end = min(donor.count, start + Int.random(in: 1...64, using: &generator))
            input.insert(contentsOf: donor[start..<end], at: index)
        default:
            let text: [UInt8] = Array([
                "\"", "\\", "*", "?", "(", ")", ":", "~", "==", " and ", " or ", " not ",
                "\u{0}", "\u{FFFD}", "\u{2028}", "{", "}", "[", "]", ",", "1e308", "-0",
            ].randomElement(using: &generator)!.utf8)
            input.insert(contentsOf: text, at: index)
        }
    }
}
