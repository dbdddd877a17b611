import Dispatch
import ExecwardenCore
import Glibc

/// Writes one line to stderr, unbuffered, so diagnostics interleave with
/// nothing else.
func printError(_ message: String) {
    var line = Array(message.utf8)
    line.append(UInt8(ascii: "\n"))
    line.withUnsafeBytes { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }
}

/// Prints each built-in rule with its id, version and query.
func listRules() -> Int32 {
    do {
        for rule in try BuiltinRules.load() {
            print("\(rule.ruleID)  v\(rule.version)  \(rule.severity.rawValue)  \(rule.name)")
            print("  " + rule.query.split(separator: "\n").joined(separator: "\n  "))
        }
        return 0
    } catch {
        printError("execwarden: built-in rules are invalid: \(error)")
        return 1
    }
}

/// Runs the sensor until SIGINT or SIGTERM; returns the exit status.
func runSensor(_ options: CommandLineOptions) -> Int32 {
    signal(SIGPIPE, SIG_IGN)
    // Checked before the probe opens descriptors, which would take number 1.
    guard fcntl(STDOUT_FILENO, F_GETFL) != -1 else {
        printError("execwarden: stdout is not open; run with stdout on a file, pipe or terminal")
        return 1
    }

    let rules: [CompiledRule]
    do {
        rules = try BuiltinRules.compiled()
    } catch {
        printError("execwarden: built-in rules are invalid: \(error)")
        return 1
    }

    let host = HostInfo.current()
    for problem in host.problems {
        printError("execwarden: warning: \(problem)")
    }
    let output = LineOutput()
    let sensor = Sensor(
        rules: rules, configuration: options.configuration, host: host,
        renderer: ECSRenderer(host: host),
        emit: { line in output.append(line: line.json) },
        flush: { keepWaiting in try output.flush(whileWaiting: keepWaiting) })

    let signalSources = stopOnSignals([SIGINT, SIGTERM], sensor: sensor)
    let statisticsTimer = startStatisticsTimer(
        options.statisticsInterval, sensor: sensor, output: output)
    let lossMonitor = LossMonitor(sensor: sensor)
    defer {
        statisticsTimer?.cancel()
        lossMonitor.cancel()
        signalSources.forEach { $0.cancel() }
    }

    let names = rules.map { "\($0.rule.name) v\($0.rule.version)" }.joined(separator: ", ")
    let notifier = ServiceNotifier.fromEnvironment()
    defer { notifyServiceManager(notifier) { try $0.notifyStopping(status: "stopping") } }
    do {
        try sensor.run(onReady: {
            printError("execwarden: watching execs with \(rules.count) rule(s): \(names)")
            notifyServiceManager(notifier) {
                try $0.notifyReady(status: "watching execs with \(rules.count) rule(s)")
            }
        })
    } catch OutputError.readerClosed {
        printError("execwarden: stdout was closed by its reader; stopping")
        printStatistics(sensor.statistics, final: true, output: output)
        return 0
    } catch OutputError.stoppedWhileBlocked {
        printError("execwarden: stopped while stdout was not being read; its unwritten lines are lost")
        printStatistics(sensor.statistics, final: true, output: output)
        return 0
    } catch let error as ProbeError {
        printError(error.description)
        if !options.configuration.verbose && !error.detail.isEmpty {
            printError("last libbpf messages:\n\(lastLines(of: error.detail, count: 12))")
        }
        return 1
    } catch {
        printError("execwarden: \(error)")
        printStatistics(sensor.statistics, final: true, output: output)
        return 1
    }
    printStatistics(sensor.statistics, final: true, output: output)
    return 0
}

private func lastLines(of text: String, count: Int) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: true)
        .suffix(count).joined(separator: "\n")
}

/// Turns the signals into a stop request, handled on a dispatch queue
/// rather than in a signal handler.
private func stopOnSignals(_ signals: [Int32], sensor: Sensor) -> [DispatchSourceSignal] {
    signals.map { number in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler { sensor.stop() }
        source.resume()
        return source
    }
}

private func startStatisticsTimer(
    _ seconds: Int, sensor: Sensor, output: LineOutput
) -> DispatchSourceTimer? {
    guard seconds > 0 else { return nil }
    let timer = DispatchSource.makeTimerSource(queue: .global())
    timer.schedule(deadline: .now() + .seconds(seconds), repeating: .seconds(seconds))
    timer.setEventHandler { printStatistics(sensor.statistics, final: false, output: output) }
    timer.resume()
    return timer
}

private func printStatistics(
    _ statistics: SensorStatistics, final: Bool, output: LineOutput
) {
    let kernel = statistics.kernel
    let label = final ? "totals" : "stats"
    printError(
        "execwarden: \(label): records=\(statistics.recordsReceived)"
            + " invalid=\(statistics.recordsInvalid)"
            + " alerts=\(statistics.alerts)"
            + " uncertain_alerts=\(statistics.uncertainAlerts)"
            + " events=\(statistics.eventsEmitted)"
            + " discarded=\(statistics.recordsDiscarded)"
            + " kernel_sent=\(kernel.sent)"
            + " lost_ring_full=\(kernel.ringFull)"
            + " lost_no_scratch=\(kernel.noScratch)"
            + " lost_recursion=\(kernel.recursionMisses)"
            + " output_lost=\(output.linesLost)")
}

/// Warns on stderr when records were lost in the kernel or failed
/// validation, so loss is visible without --stats-interval. Checks every
/// second and warns at most every ten seconds.
private final class LossMonitor: @unchecked Sendable {
    private let timer = DispatchSource.makeTimerSource(queue: .global())
    /// Touched only on the timer's queue.
    private var reportedLost: UInt64 = 0
    private var reportedInvalid: UInt64 = 0
    private var lastWarning: ContinuousClock.Instant?

    init(sensor: Sensor) {
        timer.schedule(deadline: .now() + .seconds(1), repeating: .seconds(1))
        timer.setEventHandler { [unowned self] in
            let now = ContinuousClock.now
            if let last = lastWarning, now - last < .seconds(10) { return }
            if check(sensor.statistics) { lastWarning = now }
        }
        timer.resume()
    }

    func cancel() {
        timer.cancel()
    }

    /// Prints a warning for new loss; returns whether it printed one.
    private func check(_ statistics: SensorStatistics) -> Bool {
        var warned = false
        let lost = statistics.kernel.lost
        if lost > reportedLost {
            printError(
                "execwarden: warning: \(lost - reportedLost) exec records lost in the kernel"
                    + " (ring full \(statistics.kernel.ringFull), total \(lost));"
                    + " raise --ring-size if this repeats")
            reportedLost = lost
            warned = true
        }
        let invalid = statistics.recordsInvalid
        if invalid > reportedInvalid {
            printError(
                "execwarden: warning: \(invalid - reportedInvalid) exec records failed validation"
                    + " and were skipped; the BPF object and the loader may be out of step")
            reportedInvalid = invalid
            warned = true
        }
        return warned
    }
}
