/// The ECS `process.entity_id` scheme: an id that is the same in every
/// document about one process and differs between processes, across
/// hosts and reboots.
///
/// The id is SipHash-2-4 with 128-bit output, keyed with the ASCII bytes
/// of "execwarden-ent-1", over:
///
/// 1. the 16-byte SipHash (same key) of the machine id's UTF-8 bytes, a
///    NUL byte, and the boot id's UTF-8 bytes;
/// 2. the pid, 4 bytes little-endian;
/// 3. the process start time on the boot-time clock in nanoseconds, 8
///    bytes little-endian.
///
/// It is rendered as the 16 hash bytes in 32 lowercase hexadecimal digits.
/// A pid and start time pair is unique within one boot, and the machine
/// and boot ids separate hosts and boots, so ids collide only when the
/// hash does.
public struct EntityIDScheme: Sendable, Equatable {
    /// The hash of the machine id and boot id, as two little-endian words.
    let hostDigest: (UInt64, UInt64)

    public init(machineID: String, bootID: String) {
        let input = Array(machineID.utf8) + [0] + Array(bootID.utf8)
        hostDigest = input.withUnsafeBytes { SipHash128.hash($0, key: Self.key) }
    }

    /// Returns the id of the process with `pid` that started at
    /// `startTimeNanoseconds` on the boot-time clock.
    public func entityID(pid: UInt32, startTimeNanoseconds: UInt64) -> String {
        var writer = JSONWriter(capacity: 34)
        writeEntityID(into: &writer, pid: pid, startTimeNanoseconds: startTimeNanoseconds)
        return String(decoding: writer.bytes.dropFirst().dropLast(), as: UTF8.self)
    }

    /// Writes the id as a JSON string value.
    func writeEntityID(into writer: inout JSONWriter, pid: UInt32, startTimeNanoseconds start: UInt64) {
        let words = (
            hostDigest.0.littleEndian,
            hostDigest.1.littleEndian,
            (UInt64(pid) | start << 32).littleEndian,
            (start >> 32).littleEndian
        )
        let digest = withUnsafeBytes(of: words) { bytes in
            SipHash128.hash(UnsafeRawBufferPointer(rebasing: bytes[0..<28]), key: Self.key)
        }
        // The hash bytes in order are each word's bytes, least significant
        // first, so each word is written byte-swapped.
        writer.hexadecimal(digest.0.byteSwapped, digest.1.byteSwapped)
    }

    public static func == (left: EntityIDScheme, right: EntityIDScheme) -> Bool {
        left.hostDigest == right.hostDigest
    }

    static let key = SipHash128.Key(Array("execwarden-ent-1".utf8))
}

/// SipHash-2-4 with 128-bit output, checked by the tests against OpenSSL
/// 3.0's SIPHASH MAC.
enum SipHash128 {
    struct Key: Sendable {
        var k0: UInt64
        var k1: UInt64

        /// Reads a 16-byte key as two little-endian words.
        init(_ bytes: [UInt8]) {
            precondition(bytes.count == 16, "a SipHash key is 16 bytes, not \(bytes.count)")
            k0 = Self.littleEndianWord(bytes[0..<8])
            k1 = Self.littleEndianWord(bytes[8..<16])
        }

        static func littleEndianWord(_ bytes: ArraySlice<UInt8>) -> UInt64 {
            bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
    }

    /// Returns the 16-byte hash as two words: the output bytes are the
    /// first word little-endian, then the second.
    static func hash(_ message: UnsafeRawBufferPointer, key: Key) -> (UInt64, UInt64) {
        var state = State(key: key)
        let wholeWords = message.count / 8
        for index in 0..<wholeWords {
            state.compress(message.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self).littleEndian)
        }
        var last = UInt64(truncatingIfNeeded: message.count) << 56
        for offset in 0..<(message.count % 8) {
            last |= UInt64(message[wholeWords * 8 + offset]) << (8 * UInt64(offset))
        }
        state.compress(last)
        return state.finalize()
    }

    private struct State {
        var v0, v1, v2, v3: UInt64

        init(key: Key) {
            v0 = key.k0 ^ 0x736f_6d65_7073_6575
            v1 = key.k1 ^ 0x646f_7261_6e64_6f6d ^ 0xee
            v2 = key.k0 ^ 0x6c79_6765_6e65_7261
            v3 = key.k1 ^ 0x7465_6462_7974_6573
        }

        mutating func compress(_ word: UInt64) {
            v3 ^= word
            round()
            round()
            v0 ^= word
        }

        mutating func finalize() -> (UInt64, UInt64) {
            v2 ^= 0xee
            for _ in 0..<4 { round() }
            let first = v0 ^ v1 ^ v2 ^ v3
            v1 ^= 0xdd
            for _ in 0..<4 { round() }
            return (first, v0 ^ v1 ^ v2 ^ v3)
        }

        private mutating func round() {
            v0 &+= v1; v1 = v1.rotatedLeft(13); v1 ^= v0; v0 = v0.rotatedLeft(32)
            v2 &+= v3; v3 = v3.rotatedLeft(16); v3 ^= v2
            v0 &+= v3; v3 = v3.rotatedLeft(21); v3 ^= v0
            v2 &+= v1; v1 = v1.rotatedLeft(17); v1 ^= v2; v2 = v2.rotatedLeft(32)
        }
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(_ count: UInt64) -> UInt64 {
        self << count | self >> (64 - count)
    }
}
