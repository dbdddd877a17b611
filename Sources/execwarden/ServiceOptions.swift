import ExecwardenCore

/// A destination for one kind of line, as written after --alerts-to or
/// --events-to.
enum SinkChoice: Hashable {
    case stdout
    case file(path: String)
    case syslog(socketPath: String)

    /// Parses `stdout`, `file:PATH` (PATH absolute) or `syslog[:SOCKET]`.
    static func parse(_ text: String, option: String) throws(UsageError) -> SinkChoice {
        if text == "stdout" { return .stdout }
        if text == "syslog" { return .syslog(socketPath: SyslogSink.defaultSocketPath) }
        if text.hasPrefix("syslog:"), text.count > "syslog:".count {
            return .syslog(socketPath: String(text.dropFirst("syslog:".count)))
        }
        if text.hasPrefix("file:/") {
            return .file(path: String(text.dropFirst("file:".count)))
        }
        throw UsageError(
            description: "invalid \(option) '\(text)': expected stdout, file:/ABSOLUTE/PATH, syslog or syslog:/SOCKET")
    }
}

/// The options for running as a service: sinks, file rotation, the
/// statistics file and the user to switch to.
struct ServiceOptions {
    /// Empty means stdout.
    var alertSinks: [SinkChoice] = []
    /// Empty means the alert sinks.
    var eventSinks: [SinkChoice] = []
    var rotation = FileRotation()
    var statisticsFile: String?
    var statisticsFileInterval = 15
    var user: String?

    /// True when stdout is one of the sinks, so it must be open at start.
    var writesToStdout: Bool {
        alertSinks.isEmpty || alertSinks.contains(.stdout) || eventSinks.contains(.stdout)
    }

    static let usage = """
          --alerts-to SINK       Write alert lines to SINK: stdout, file:PATH or
                                 syslog (RFC 5424 on /dev/log; syslog:SOCKET for
                                 another socket). Repeat to write to several.
                                 Default stdout.
          --events-to SINK       Write event lines to SINK; implies --events.
                                 Repeatable. Default: where alerts go.
          --file-max-size BYTES  Rotate a file sink past BYTES (suffix K, M or
                                 G; 0 never rotates). Default 100M.
          --file-keep N          Rotated files kept, PATH.1 (newest) to PATH.N.
                                 Default 5. SIGHUP reopens the files, for
                                 logrotate.
          --stats-file PATH      Write statistics in Prometheus text format to
                                 PATH (replaced atomically), for node_exporter's
                                 textfile collector.
          --stats-file-interval SEC
                                 Seconds between statistics file updates.
                                 Default 15.
          --user NAME            After starting, switch to user NAME (name or
                                 uid). The directories of file sinks and of the
                                 statistics file must be writable by NAME.

        """

    /// Parses `option` and its value when it is a service option; returns
    /// false for any other option.
    mutating func parse(
        _ option: String, from remaining: inout ArraySlice<String>
    ) throws(UsageError) -> Bool {
        switch option {
        case "--alerts-to":
            alertSinks.append(try SinkChoice.parse(value(of: option, from: &remaining), option: option))
        case "--events-to":
            eventSinks.append(try SinkChoice.parse(value(of: option, from: &remaining), option: option))
        case "--file-max-size":
            let text = try value(of: option, from: &remaining)
            guard let bytes = Self.parseSize(text) else {
                throw UsageError(
                    description: "invalid --file-max-size '\(text)': expected bytes with an optional K, M or G suffix, such as 100M, or 0")
            }
            rotation.maximumBytes = bytes
        case "--file-keep":
            let text = try value(of: option, from: &remaining)
            guard let keep = Int(text), (0...1000).contains(keep) else {
                throw UsageError(description: "invalid --file-keep '\(text)': expected a whole number from 0 to 1000")
            }
            rotation.keep = keep
        case "--stats-file":
            let path = try value(of: option, from: &remaining)
            guard path.hasPrefix("/"), !path.hasSuffix("/") else {
                throw UsageError(description: "invalid --stats-file '\(path)': expected an absolute file path")
            }
            statisticsFile = path
        case "--stats-file-interval":
            let text = try value(of: option, from: &remaining)
            guard let seconds = Int(text), (1...86_400).contains(seconds) else {
                throw UsageError(
                    description: "invalid --stats-file-interval '\(text)': expected a whole number of seconds from 1 to 86400")
            }
            statisticsFileInterval = seconds
        case "--user":
            let name = try value(of: option, from: &remaining)
            guard !name.isEmpty else { throw UsageError(description: "invalid --user '': expected a user name or uid") }
            user = name
        default:
            return false
        }
        return true
    }

    private func value(
        of option: String, from remaining: inout ArraySlice<String>
    ) throws(UsageError) -> String {
        guard let value = remaining.popFirst() else {
            throw UsageError(description: "missing value for \(option)")
        }
        return value
    }

    /// Parses a size such as 0, 65536, 64K, 100M or 1G.
    static func parseSize(_ text: String) -> UInt64? {
        var digits = Substring(text)
        let multipliers: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        var multiplier: UInt64 = 1
        if let last = digits.last, let found = multipliers[Character(last.uppercased())] {
            multiplier = found
            digits = digits.dropLast()
        }
        guard let count = UInt64(digits) else { return nil }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : bytes
    }
}
