import Glibc

/// The way each storm iteration starts its child.
enum StormMethod: String, CaseIterable {
    case fork
    case vfork
    case spawn
    case execveat

    var code: Int32 {
        switch self {
        case .fork: 0
        case .vfork: 1
        case .spawn: 2
        case .execveat: 3
        }
    }
}

/// The program each storm iteration executes.
enum StormTarget: String, CaseIterable {
    /// `/bin/true` with the run's tag as its only argument.
    case `true`
    /// `/usr/bin/unshare -V` with the tag, which the built-in rule matches.
    case unshare
    /// `/bin/true` with about 100 KB of arguments after the tag.
    case longArgv = "long-argv"
    /// A copy of `/bin/true` 200 directories deep (a path of about 3.2 KB).
    case deepPath = "deep-path"
}

/// One storm: how, how many workers, and for how long or how many execs.
struct StormSpec {
    var method = StormMethod.fork
    var target = StormTarget.true
    var workers = 2
    /// Total execs; 0 runs for `durationSeconds`.
    var count: UInt64 = 0
    var durationSeconds = 2.0
}

/// A configuration measured side by side with the others.
enum SubjectKind: String, CaseIterable, Codable {
    /// The storm alone.
    case none
    /// A BPF program on the same tracepoint that only counts.
    case control
    /// execwarden with its built-in rule, alerts read through a pipe.
    case rules
    /// execwarden --events, every exec as an ECS line written to a file.
    case events
    /// libbpf-tools execsnoop, output to a file.
    case execsnoop
    /// A bpftrace one-liner printing each execve's arguments to a file.
    case bpftrace
}

struct CompareOptions {
    var sensorPath: String?
    var subjects = SubjectKind.allCases
    var workerCounts = [1, 2, 4]
    var rounds = 3
    var storm = StormSpec()
    /// Extra arguments for execwarden, such as `--ring-size 1M`.
    var sensorArguments: [String] = []
    /// Time between marker execs during a storm, in milliseconds.
    var markerIntervalMilliseconds = 50
    var outputDirectory = ".build/bench"
    var allowDebugBuild = false
}

enum Command {
    case compare(CompareOptions)
    case storm(StormSpec)
    case help
}

struct UsageError: Error, CustomStringConvertible {
    let description: String
}

let usage = """
    usage: execwarden-bench [compare] [options]
           execwarden-bench storm [--method M] [--target T] [--workers N]
                                  [--count N | --duration SEC]

    compare (the default) runs exec storms with no sensor, with a control BPF
    program that only counts, with execwarden in rule mode and in --events
    mode, and with execsnoop and bpftrace when they are installed, interleaved
    round by round. It prints every sample and a summary, and writes
    results.json, results.txt and results.svg to the output directory. It
    needs root, and it enables the kernel's BPF run-time statistics while it
    runs.

    storm runs one storm with no sensor and prints its exec rate.

    options:
      --method M          how children start: fork, vfork, spawn (posix_spawn)
                          or execveat (default fork)
      --target T          what they execute: true, unshare (matched by the
                          built-in rule), long-argv (about 100 KB of
                          arguments) or deep-path (a 200-level path); default
                          true
      --workers N         storm: processes starting children in parallel
                          (default 2)
      --workers LIST      compare: comma-separated worker counts (default 1,2,4)
      --count N           storm: stop after N execs in total
      --duration SEC      seconds per storm (default 2)
      --rounds N          compare: rounds of interleaved runs (default 3)
      --subjects LIST     compare: comma-separated subset of none, control,
                          rules, events, execsnoop, bpftrace (default all;
                          peers that are not installed are left out)
      --sensor PATH       execwarden binary (default: execwarden beside this
                          program)
      --sensor-arg ARG    pass ARG to execwarden; repeat for more
      --marker-interval MS  time between marker execs during a storm, in
                          milliseconds (default 50)
      --output-dir DIR    where results go (default .build/bench)
      --allow-debug-build report even from a debug build, marked as such
      -h, --help          show this help
    """

/// Parses the command line (without the program name).
func parseCommand(_ arguments: [String]) throws -> Command {
    var rest = arguments[...]
    var isStorm = false
    if let first = rest.first, !first.hasPrefix("-") {
        switch first {
        case "compare": isStorm = false
        case "storm": isStorm = true
        default: throw UsageError(description: "unknown command '\(first)'; expected compare or storm")
        }
        rest = rest.dropFirst()
    }
    var options = CompareOptions()
    var storm = StormSpec()
    var stormCountSet = false
    var durationSet = false
    var workersSet = false

    func value(_ name: String) throws -> String {
        guard let next = rest.popFirst() else {
            throw UsageError(description: "\(name) needs a value")
        }
        return next
    }
    while let argument = rest.popFirst() {
        switch argument {
        case "-h", "--help":
            return .help
        case "--method":
            storm.method = try parseEnum(StormMethod.self, try value(argument), option: argument)
        case "--target":
            storm.target = try parseEnum(StormTarget.self, try value(argument), option: argument)
        case "--workers":
            let text = try value(argument)
            let counts = try text.split(separator: ",").map {
                try parseInteger(String($0), option: argument, range: 1...1024)
            }
            guard !counts.isEmpty else { throw UsageError(description: "--workers needs a number") }
            options.workerCounts = counts
            storm.workers = counts[0]
            workersSet = true
        case "--count":
            storm.count = UInt64(try parseInteger(try value(argument), option: argument, range: 1...Int.max))
            stormCountSet = true
        case "--duration":
            let text = try value(argument)
            guard let seconds = Double(text), seconds > 0, seconds <= 3600 else {
                throw UsageError(description: "invalid --duration '\(text)': expected seconds, more than 0 and at most 3600")
            }
            storm.durationSeconds = seconds
            durationSet = true
        case "--rounds":
            options.rounds = try parseInteger(try value(argument), option: argument, range: 1...100)
        case "--subjects":
            options.subjects = try value(argument).split(separator: ",").map {
                try parseEnum(SubjectKind.self, String($0), option: argument)
            }
        case "--sensor":
            options.sensorPath = try value(argument)
        case "--sensor-arg":
            options.sensorArguments.append(try value(argument))
        case "--marker-interval":
            options.markerIntervalMilliseconds = try parseInteger(
                try value(argument), option: argument, range: 1...10_000)
        case "--output-dir":
            options.outputDirectory = try value(argument)
        case "--allow-debug-build":
            options.allowDebugBuild = true
        default:
            throw UsageError(description: "unknown option '\(argument)'")
        }
    }
    if isStorm {
        if stormCountSet && durationSet {
            throw UsageError(description: "give --count or --duration, not both")
        }
        if stormCountSet { storm.durationSeconds = 0 }
        if workersSet && options.workerCounts.count > 1 {
            throw UsageError(description: "storm takes one --workers number")
        }
        return .storm(storm)
    }
    if stormCountSet {
        throw UsageError(description: "--count applies to storm; compare runs each storm for --duration")
    }
    options.storm = storm
    return .compare(options)
}

private func parseInteger(_ text: String, option: String, range: ClosedRange<Int>) throws -> Int {
    guard let number = Int(text), range.contains(number) else {
        throw UsageError(description: "invalid \(option) '\(text)': expected a whole number from \(range.lowerBound) to \(range.upperBound)")
    }
    return number
}

private func parseEnum<T: RawRepresentable & CaseIterable>(
    _ type: T.Type, _ text: String, option: String
) throws -> T where T.RawValue == String {
    guard let parsed = T(rawValue: text) else {
        let names = T.allCases.map(\.rawValue).joined(separator: ", ")
        throw UsageError(description: "invalid \(option) '\(text)': expected one of \(names)")
    }
    return parsed
}
