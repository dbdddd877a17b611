/// Formats an integer in decimal on the stack and calls `body` with its
/// ASCII digits, which are valid only during the call.
@inline(__always)
func withDecimalText<Result>(
    magnitude: UInt64, isNegative: Bool = false,
    _ body: (UnsafeRawBufferPointer) -> Result
) -> Result {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 21) { buffer in
        var remaining = magnitude
        var start = buffer.count
        repeat {
            start -= 1
            buffer[start] = UInt8(ascii: "0") + UInt8(remaining % 10)
            remaining /= 10
        } while remaining > 0
        if isNegative {
            start -= 1
            buffer[start] = UInt8(ascii: "-")
        }
        return body(UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[start...])))
    }
}
