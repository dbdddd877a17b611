import Foundation

/// Owns the bytes of the string constants a compiled query refers to through
/// `Scalar.bytes`. The query keeps it alive, and it is written only while
/// the query compiles, so sharing it between threads afterwards is safe.
final class ConstantStorage: @unchecked Sendable {
    private var buffers: [UnsafeMutableRawBufferPointer] = []

    func store(_ bytes: [UInt8]) -> Scalar {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        buffer.copyBytes(from: bytes)
        buffers.append(buffer)
        return .bytes(UnsafeRawBufferPointer(rebasing: buffer[0..<bytes.count]))
    }

    deinit {
        for buffer in buffers {
            buffer.deallocate()
        }
    }
}

/// Stack memory for the strings that functions such as `concat` and `string`
/// build while one value is evaluated. A result that does not fit makes the
/// value unknown rather than allocating.
struct ScratchArena {
    // NOTE: the capacity is a guess at what concat and string results in
    // exec rules need. Larger results make the predicate uncertain.
    static let capacity = 1024

    private let buffer: UnsafeMutableRawBufferPointer
    /// Bytes in use. Callers may save it and restore it to free what was
    /// allocated after the saved point.
    var used = 0

    private init(buffer: UnsafeMutableRawBufferPointer) {
        self.buffer = buffer
    }

    static func withArena<Result>(_ body: (inout ScratchArena) -> Result) -> Result {
        withUnsafeTemporaryAllocation(byteCount: capacity, alignment: 1) { buffer in
            var arena = ScratchArena(buffer: buffer)
            return body(&arena)
        }
    }

    mutating func allocate(_ count: Int) -> UnsafeMutableRawBufferPointer? {
        guard count <= buffer.count - used else { return nil }
        let region = UnsafeMutableRawBufferPointer(rebasing: buffer[used..<(used + count)])
        used += count
        return region
    }

    /// Copies `bytes` to `offset` and returns their count, or returns nil when
    /// they do not fit. The source may overlap the destination.
    mutating func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Int? {
        guard offset + bytes.count <= buffer.count else { return nil }
        if let source = bytes.baseAddress, let destination = buffer.baseAddress {
            memmove(destination + offset, source, bytes.count)
        }
        return bytes.count
    }

    func bytes(from offset: Int, count: Int) -> Scalar {
        .bytes(UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)]))
    }

    /// Copies `bytes` into the arena, or returns `.unknown` when they do not fit.
    mutating func copy(_ bytes: UnsafeRawBufferPointer) -> Scalar {
        guard let region = allocate(bytes.count) else { return .unknown }
        region.copyMemory(from: bytes)
        return .bytes(UnsafeRawBufferPointer(region))
    }
}
