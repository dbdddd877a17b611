import Glibc
import Testing
@testable import ExecwardenCore

@Suite("Line output")
struct LineOutputTests {
    /// A pipe whose ends are closed when the test ends.
    final class Pipe {
        private(set) var read: Int32
        let write: Int32

        init(nonBlockingWrite: Bool = false) {
            var ends: [Int32] = [0, 0]
            precondition(pipe(&ends) == 0)
            read = ends[0]
            write = ends[1]
            if nonBlockingWrite {
                _ = fcntl(write, F_SETFL, fcntl(write, F_GETFL) | O_NONBLOCK)
            }
        }

        deinit {
            if read >= 0 { close(read) }
            close(write)
        }

        /// Closes the read end once, so the descriptor number is not
        /// closed again after another test reused it.
        func closeRead() {
            close(read)
            read = -1
        }

        func readAvailable() -> [UInt8] {
            _ = fcntl(read, F_SETFL, fcntl(read, F_GETFL) | O_NONBLOCK)
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = chunk.withUnsafeMutableBytes { Glibc.read(read, $0.baseAddress, $0.count) }
                if count <= 0 { return bytes }
                bytes.append(contentsOf: chunk[..<count])
            }
        }
    }

    @Test("Lines arrive whole and counted")
    func linesArrive() throws {
        let pipe = Pipe()
        let output = LineOutput(descriptor: pipe.write)
        output.append(line: Array("first".utf8))
        output.append(line: Array("second".utf8))
        try output.flush()
        #expect(pipe.readAvailable() == Array("first\nsecond\n".utf8))
        #expect(output.linesWritten == 2)
        #expect(output.linesLost == 0)
    }

    @Test("Unread pipe stops when asked")
    func stopsWhileBlocked() throws {
        let pipe = Pipe()
        let output = LineOutput(descriptor: pipe.write)
        let line = [UInt8](repeating: UInt8(ascii: "x"), count: 1000)
        for _ in 0..<200 { output.append(line: line) }
        var waits = 0
        #expect(throws: OutputError.self) {
            try output.flush { waits += 1; return waits < 3 }
        }
        #expect(waits == 3)
        #expect(output.linesWritten + output.linesLost == 200)
        #expect(output.linesLost > 0)
        let received = pipe.readAvailable()
        #expect(received.last == UInt8(ascii: "\n"))
        #expect(UInt64(received.count(where: { $0 == UInt8(ascii: "\n") })) == output.linesWritten)
    }

    @Test("Non-blocking pipe waits instead of failing")
    func nonBlockingPipe() throws {
        let pipe = Pipe(nonBlockingWrite: true)
        let output = LineOutput(descriptor: pipe.write)
        let line = [UInt8](repeating: UInt8(ascii: "y"), count: 30_000)
        for _ in 0..<4 { output.append(line: line) }
        var received: [UInt8] = []
        try output.flush {
            received += pipe.readAvailable()
            return true
        }
        received += pipe.readAvailable()
        #expect(received.count == 4 * 30_001)
        #expect(output.linesWritten == 4)
    }

    @Test("Closed reader is reported")
    func closedReader() throws {
        let pipe = Pipe()
        pipe.closeRead()
        let output = LineOutput(descriptor: pipe.write)
        output.append(line: Array("lost".utf8))
        #expect(throws: OutputError.self) { try output.flush() }
        #expect(output.linesLost == 1)
    }
}
