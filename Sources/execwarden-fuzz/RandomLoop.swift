#if !EXECWARDEN_LIBFUZZER
import Glibc

/// The fuzzer without libFuzzer: mutates the target's seeds with a seeded
/// pseudo-random generator for a set time. It has no coverage feedback, so
/// it finds less than libFuzzer, but it builds and runs anywhere.
///
///     execwarden-fuzz TARGET [--seconds N] [--seed N] [--crash-dir DIR]
///     execwarden-fuzz TARGET --replay FILE...
///     execwarden-fuzz TARGET --write-seeds DIR
///
/// A failed check traps. Before it dies, the process writes the input that
/// caused the trap to DIR/crash-TARGET-SEED-ITERATION.
@main
struct RandomLoop {
    static let targetNames = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
    static let usage = """
        USAGE: execwarden-fuzz TARGET [--seconds N] [--seed N] [--crash-dir DIR]
               execwarden-fuzz TARGET --replay FILE...
               execwarden-fuzz TARGET --write-seeds DIR

        Feeds mutated inputs to one parser for N seconds (default 60), from a
        pseudo-random sequence fixed by --seed (default: the time). An input
        that fails a check is written to DIR (default .) before the process
        traps. --replay runs the given files once each.

        TARGETS: \(targetNames)

        """

    static func main() {
        var arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.popFirst(), let target = FuzzTarget(rawValue: name) else {
            printError(usage)
            exit(2)
        }
        var seconds = 60
        var seed = UInt64(time(nil))
        var crashDirectory = "."
        var replay: [String]?
        while let argument = arguments.popFirst() {
            switch argument {
            case "--seconds":
                seconds = number(argument, arguments.popFirst()).map { Int($0) } ?? -1
            case "--seed":
                seed = number(argument, arguments.popFirst()) ?? 0
            case "--crash-dir":
                crashDirectory = arguments.popFirst() ?? "."
            case "--replay":
                replay = Array(arguments)
                arguments = []
            case "--write-seeds":
                guard let directory = arguments.popFirst() else { fail("missing value for --write-seeds") }
                do {
                    try SeedFiles.write(target.seeds, to: directory, prefix: target.rawValue)
                } catch {
                    fail("\(error)")
                }
                exit(0)
            default:
                fail("unknown option '\(argument)'")
            }
        }
        if let replay {
            runReplay(target, files: replay)
        } else {
            runLoop(target, seconds: seconds, seed: seed, crashDirectory: crashDirectory)
        }
    }

    private static func number(_ option: String, _ value: String?) -> UInt64? {
        guard let value, let number = UInt64(value) else {
            fail("invalid \(option) '\(value ?? "")': expected a whole number, 0 or more")
        }
        return number
    }

    private static func fail(_ message: String) -> Never {
        printError("execwarden-fuzz: \(message)")
        printError("Run 'execwarden-fuzz' with no arguments for usage.")
        exit(2)
    }

    private static func runReplay(_ target: FuzzTarget, files: [String]) {
        for path in files {
            let input: [UInt8]
            do {
                input = try SeedFiles.readFile(path)
            } catch {
                fail("\(error)")
            }
            input.withUnsafeBytes { target.run($0) }
            printError("execwarden-fuzz: \(path): passed")
        }
    }

    private static func runLoop(_ target: FuzzTarget, seconds: Int, seed: UInt64, crashDirectory: String) {
        CrashRecorder.install(path: "\(crashDirectory)/crash-\(target.rawValue)-\(seed)")
        var generator = SplitMix64(seed: seed)
        let seeds = target.seeds
        let deadline = time(nil) + seconds
        var iterations: UInt64 = 0
        repeat {
            // Checking the clock every 256 inputs keeps its cost out of the loop.
            for _ in 0..<256 {
                var input = seeds[Int(generator.next() % UInt64(seeds.count))]
                Mutator.mutate(&input, other: seeds, using: &generator)
                CrashRecorder.record(input, iteration: iterations)
                input.withUnsafeBytes { target.run($0) }
                iterations += 1
            }
        } while time(nil) < deadline
        printError("execwarden-fuzz: \(target.rawValue): \(iterations) inputs in \(seconds) s"
            + " from seed \(seed), no failed check")
    }
}
#endif
