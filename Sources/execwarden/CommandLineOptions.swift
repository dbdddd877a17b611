import ExecwardenCore
import Glibc

/// An invalid command line.
struct UsageError: Error, CustomStringConvertible {
    let description: String
}

/// The parsed command line.
struct CommandLineOptions {
    enum Action {
        case run, help, version, listRules
        /// `rules check PATH...`: report what would load, and exit.
        case checkRules
    }

    var action = Action.run
    var configuration = SensorConfiguration()
    /// Seconds between statistics lines on stderr; 0 prints them only at
    /// exit.
    var statisticsInterval = 0
    var service = ServiceOptions()
    /// Rule files and directories given with --rules, or the paths of
    /// `rules check`.
    var rulePaths: [String] = []
    /// Run the built-in rules too when --rules is given.
    var includeBuiltinRules = false

    static let usage = """
        USAGE: execwarden [options]
               execwarden rules check PATH...

        Watches every exec on this host through a BPF probe and prints an ECS
        JSON alert line on stdout each time a detection rule matches: the
        built-in rules, or the Elastic EQL rules given with --rules. Runs as
        root, or with CAP_BPF and CAP_PERFMON. Stop it with Ctrl-C or SIGTERM;
        it then prints its totals on stderr. SIGHUP reloads the rules: a new
        set with an invalid rule or file leaves the running set in place.

        `rules check` lists which rules in PATH would load, which would be
        skipped and why, and exits with status 1 when a file or rule is
        invalid.

        OPTIONS:
          --rules PATH           Run the rules in PATH instead of the built-in
                                 rules: a Kibana rule export (NDJSON), a rule
                                 JSON file, or a directory searched for .json
                                 and .ndjson files. Repeatable. Rules that
                                 cannot run on exec events are skipped with
                                 one line each on stderr; an invalid file or
                                 rule stops the sensor from starting.
          --builtin-rules        With --rules, also run the built-in rules.
          --alert-window SEC     Each rule raises at most its max_signals
                                 alerts (100 when it sets none) per window of
                                 SEC seconds; further matches are counted as
                                 suppressed. 0 removes the limit. Default 300.
          --events               Also print every exec as an ECS process event
                                 (event.kind "event"), shaped like Elastic
                                 Defend's, so Kibana's copy of a rule can run
                                 on them too.
          --rules-ring-size BYTES
                                 Size of the ring buffer that carries the
                                 execs a rule may match: a power of two from
                                 1M, so that it holds a record with the
                                 largest argv captured, to 1G. A suffix K, M
                                 or G multiplies by 1024, 1024^2 or 1024^3.
                                 Default 2M.
          --events-ring-size BYTES
                                 Size of the ring buffer that carries every
                                 other exec with --events; same form.
                                 Default 8M.
          --ring-size BYTES      Sets both ring sizes.
          --stats-interval SEC   Print a statistics line on stderr every SEC
                                 seconds. Default 0: only at exit.
        \(ServiceOptions.usage)  --list-rules           Print the rules that would run (the built-in
                                 rules, or those of --rules) and exit.
          -v, --verbose          Print libbpf's messages, including the
                                 verifier log when the kernel rejects the
                                 program, on stderr.
          -h, --help             Print this help and exit.
          --version              Print the version and exit.

        OUTPUT:
          One JSON document per line. Paths and arguments are exact bytes;
          bytes that are not UTF-8 appear as U+FFFD in the ECS fields and, exact,
          in base64 under execwarden.raw.<field>.

        EXIT STATUS:
          0 after a stop request or when the reader of stdout closes it,
          1 when the sensor cannot start or fails, or when `rules check` finds
          an invalid rule, 2 on an invalid command line.

        """

    static func parse(_ arguments: [String]) throws(UsageError) -> CommandLineOptions {
        var options = CommandLineOptions()
        var remaining = arguments[...]
        if remaining.first == "rules" {
            return try parseRulesCommand(remaining.dropFirst())
        }
        while let argument = remaining.popFirst() {
            switch argument {
            case "-h", "--help":
                options.action = .help
            case "--version":
                options.action = .version
            case "--list-rules":
                options.action = .listRules
            case "--events":
                options.configuration.emitEvents = true
            case "-v", "--verbose":
                options.configuration.verbose = true
            case "--rules-ring-size":
                let value = try value(of: argument, from: &remaining)
                options.configuration.rulesRingSize = try parseRingSize(value, option: argument)
            case "--events-ring-size":
                let value = try value(of: argument, from: &remaining)
                options.configuration.eventsRingSize = try parseRingSize(value, option: argument)
            case "--ring-size":
                let value = try value(of: argument, from: &remaining)
                let size = try parseRingSize(value, option: argument)
                options.configuration.rulesRingSize = size
                options.configuration.eventsRingSize = size
            case "--rules":
                options.rulePaths.append(try value(of: argument, from: &remaining))
            case "--builtin-rules":
                options.includeBuiltinRules = true
            case "--alert-window":
                let value = try value(of: argument, from: &remaining)
                guard let seconds = Int(value), seconds >= 0 else {
                    throw UsageError(
                        description: "invalid --alert-window '\(value)': expected a whole number of seconds, 0 or more")
                }
                options.configuration.alertWindow = seconds == 0 ? nil : .seconds(seconds)
            case "--stats-interval":
                let value = try value(of: argument, from: &remaining)
                guard let seconds = Int(value), seconds >= 0 else {
                    throw UsageError(
                        description: "invalid --stats-interval '\(value)': expected a whole number of seconds, 0 or more")
                }
                options.statisticsInterval = seconds
            default:
                guard try options.service.parse(argument, from: &remaining) else {
                    throw UsageError(description: "unknown option '\(argument)'")
                }
            }
        }
        if !options.service.eventSinks.isEmpty {
            options.configuration.emitEvents = true
        }
        if options.includeBuiltinRules && options.rulePaths.isEmpty {
            throw UsageError(description: "--builtin-rules needs --rules: the built-in rules already run without it")
        }
        return options
    }

    /// Parses `rules check PATH...`.
    private static func parseRulesCommand(_ arguments: ArraySlice<String>) throws(UsageError) -> CommandLineOptions {
        guard arguments.first == "check" else {
            let found = arguments.first.map { "'\($0)'" } ?? "nothing"
            throw UsageError(description: "unknown rules command \(found): expected 'rules check PATH...'")
        }
        let paths = Array(arguments.dropFirst())
        guard !paths.isEmpty else {
            throw UsageError(description: "missing PATH for rules check: give rule files or directories")
        }
        var options = CommandLineOptions()
        options.action = .checkRules
        options.rulePaths = paths
        return options
    }

    private static func value(
        of option: String, from remaining: inout ArraySlice<String>
    ) throws(UsageError) -> String {
        guard let value = remaining.popFirst() else {
            throw UsageError(description: "missing value for \(option)")
        }
        return value
    }

    /// The smallest ring that can contain one record of the largest size the
    /// probe sends (header, 256 KiB of argv and four paths), rounded up to
    /// a power of two.
    static let minimumRingSize: UInt64 = 1 << 20
    static let maximumRingSize: UInt64 = 1 << 30

    /// Parses a ring size such as 8388608, 8192K, 8M or 1G.
    static func parseRingSize(_ text: String, option: String) throws(UsageError) -> UInt32 {
        var digits = Substring(text)
        var multiplier: UInt64 = 1
        switch digits.last {
        case "K", "k":
            multiplier = 1024
            digits = digits.dropLast()
        case "M", "m":
            multiplier = 1024 * 1024
            digits = digits.dropLast()
        case "G", "g":
            multiplier = 1024 * 1024 * 1024
            digits = digits.dropLast()
        default:
            break
        }
        guard let count = UInt64(digits),
              case let (bytes, overflow) = count.multipliedReportingOverflow(by: multiplier),
              !overflow, bytes <= maximumRingSize, bytes >= minimumRingSize,
              bytes & (bytes - 1) == 0
        else {
            throw UsageError(
                description: "invalid \(option) '\(text)': expected a power of two from 1M to 1G, such as 8M")
        }
        return UInt32(bytes)
    }
}
