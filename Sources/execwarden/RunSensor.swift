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

/// Runs the sensor until SIGINT or SIGTERM; returns the exit status.
func runSensor(_ options: CommandLineOptions) -> Int32 {
    signal(SIGPIPE, SIG_IGN)
    // Until the reload and reopen handlers are in place, a SIGHUP must not
    // end the sensor.
    signal(SIGHUP, SIG_IGN)
    // Checked before the probe and the sinks open descriptors, which would
    // take number 1.
    if fcntl(STDOUT_FILENO, F_GETFL) == -1 {
        guard !options.service.writesToStdout else {
            printError("execwarden: stdout is not open; run with stdout on a file, pipe or terminal")
            return 1
        }
        // Keep number 1 taken, so no sink or map lands on it.
        let null = open("/dev/null", O_WRONLY)
        if null >= 0 && null != STDOUT_FILENO {
            dup2(null, STDOUT_FILENO)
            close(null)
        }
    }
    let runtime: ServiceRuntime
    do {
        runtime = try ServiceRuntime(options: options.service)
    } catch {
        printError("execwarden: \(error)")
        return 1
    }
    do {
        try KernelPreflight().check()
    } catch {
        printError(error.description)
        return 1
    }

    let ruleSet = loadRuleSet(options)
    let found = problems(of: ruleSet)
    guard found.isEmpty else {
        found.forEach { printError("execwarden: \($0)") }
        printError("execwarden: not started; run 'execwarden rules check PATH' for details")
        return 1
    }
    reportRuleSet(ruleSet)
    let rules = ruleSet.rules
    var configuration = options.configuration
    configuration.prefilter = ruleSet.prefilter

    let host = HostInfo.current()
    for problem in host.problems {
        printError("execwarden: warning: \(problem)")
    }
    let output = runtime
    let sensor = Sensor(
        rules: rules, configuration: configuration, host: host,
        renderer: ECSRenderer(host: host),
        emit: { line in runtime.router.emit(line) },
        flush: { keepWaiting in try runtime.router.flush(whileWaiting: keepWaiting) })

    // Started once privileges are dropped, because capabilities belong to
    // each thread and these sources run on threads of their own.
    var signalSources: [DispatchSourceSignal] = []
    var statisticsTimer: DispatchSourceTimer?
    var lossMonitor: LossMonitor?
    var startupFailure: (any Error)?
    defer {
        statisticsTimer?.cancel()
        lossMonitor?.cancel()
        signalSources.forEach { $0.cancel() }
        runtime.stop()
        if startupFailure == nil {
            runtime.writeStatistics(sensor.statistics)
        }
    }

    let names = rules.map { "\($0.rule.name) v\($0.rule.version)" }.joined(separator: ", ")
    let notifier = ServiceNotifier.fromEnvironment()
    defer { notifyServiceManager(notifier) { try $0.notifyStopping(status: "stopping") } }
    do {
        try sensor.run(onReady: {
            do {
                try runtime.dropPrivileges()
                try runtime.startStatisticsFile(sensor: sensor)
            } catch {
                startupFailure = error
                sensor.stop()
                return
            }
            warnUnreadableRules(options)
            signalSources = stopOnSignals([SIGINT, SIGTERM], sensor: sensor)
            signalSources.append(runtime.reopenOnHangup())
            signalSources.append(reloadOnHangup(options, sensor: sensor))
            statisticsTimer = startStatisticsTimer(
                options.statisticsInterval, sensor: sensor, output: output)
            lossMonitor = LossMonitor(sensor: sensor)
            printError("execwarden: watching execs with \(rules.count) rule(s): \(names)")
            notifyServiceManager(notifier) {
                try $0.notifyReady(status: "watching execs with \(rules.count) rule(s)")
            }
        })
        if let startupFailure {
            printError("execwarden: \(startupFailure)")
            return 1
        }
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
    _ seconds: Int, sensor: Sensor, output: ServiceRuntime
) -> DispatchSourceTimer? {
    guard seconds > 0 else { return nil }
    let timer = DispatchSource.makeTimerSource(queue: .global())
    timer.schedule(deadline: .now() + .seconds(seconds), repeating: .seconds(seconds))
    timer.setEventHandler { printStatistics(sensor.statistics, final: false, output: output) }
    timer.resume()
    return timer
}

private func printStatistics(
    _ statistics: SensorStatistics, final: Bool, output: ServiceRuntime
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
            + " suppressed=\(statistics.alertsSuppressed)"
            + " kernel_sent=\(kernel.sent)"
            + " rules_sent=\(kernel.rulesSent)"
            + " events_sent=\(kernel.eventsSent)"
            + " filtered=\(kernel.filtered)"
            + " lost_rules_ring_full=\(kernel.rulesRingFull)"
            + " lost_events_ring_full=\(kernel.eventsRingFull)"
            + " lost_no_scratch=\(kernel.noScratch)"
            + " lost_recursion=\(kernel.recursionMisses)"
            + " parent_args_not_kept=\(kernel.argsNotKept + kernel.processRecursionMisses)"
            + " output_lost=\(output.linesFailed)")
    printRuleStatistics(statistics.rules, label: label)
}

/// Warns on stderr when records were lost in the kernel or failed
/// validation, so loss is visible without --stats-interval. Checks every
/// second and warns at most every ten seconds.
private final class LossMonitor: @unchecked Sendable {
    private let timer = DispatchSource.makeTimerSource(queue: .global())
    /// Touched only on the timer's queue.
    private var reportedLost: UInt64 = 0
    private var reportedInvalid: UInt64 = 0
    private var reportedSuppressed: [String: UInt64] = [:]
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
            let kernel = statistics.kernel
            printError(
                "execwarden: warning: \(lost - reportedLost) exec records lost in the kernel"
                    + " (rules ring full \(kernel.rulesRingFull), events ring full \(kernel.eventsRingFull),"
                    + " total \(lost)); raise --rules-ring-size or --events-ring-size if this repeats")
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
        if warnSuppressed(statistics.rules, reported: &reportedSuppressed) {
            warned = true
        }
        return warned
    }
}

/// Warns, once privileges are dropped, about each rule path the sensor can
/// no longer read: a SIGHUP reload would fail on it.
private func warnUnreadableRules(_ options: CommandLineOptions) {
    for path in options.rulePaths where access(path, R_OK) != 0 {
        let reason = String(cString: strerror(errno))
        let user = options.service.user.map { " as user \($0)" } ?? ""
        printError(
            "execwarden: warning: cannot read rules at \(path)\(user) (\(reason));"
                + " a reload with SIGHUP will fail until the user can read them")
    }
}
