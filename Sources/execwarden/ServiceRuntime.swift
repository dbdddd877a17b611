import Dispatch
import ExecwardenCore
import Glibc
import Synchronization

/// The sensor's outputs and the service around them: the sinks and their
/// router, the statistics file, and the privilege drop once the probe runs.
final class ServiceRuntime: @unchecked Sendable {
    let router: OutputRouter
    private let options: ServiceOptions
    private let user: UserAccount?
    private let fileSinks: [FileSink]
    private let statisticsFile: StatisticsFile?
    private let startTime: Double
    private var timer: DispatchSourceTimer?

    /// Opens every sink named on the command line; throws a message for the
    /// first that cannot be opened.
    init(options: ServiceOptions) throws(UsageError) {
        self.options = options
        do {
            user = try options.user.map(UserAccount.lookup)
        } catch {
            throw UsageError(description: "\(error)")
        }
        var opened: [SinkChoice: any LineSink] = [:]
        var fileSinks: [FileSink] = []
        func sink(for choice: SinkChoice) throws(UsageError) -> any LineSink {
            if let existing = opened[choice] { return existing }
            let created: any LineSink
            do {
                switch choice {
                case .stdout:
                    created = StreamSink()
                case .file(let path):
                    let file = try FileSink(path: path, rotation: options.rotation)
                    fileSinks.append(file)
                    created = file
                case .syslog(let socketPath):
                    created = try SyslogSink(socketPath: socketPath)
                }
            } catch {
                throw UsageError(description: "\(error)")
            }
            opened[choice] = created
            return created
        }
        let alertChoices = options.alertSinks.isEmpty ? [.stdout] : options.alertSinks
        let eventChoices = options.eventSinks.isEmpty ? alertChoices : options.eventSinks
        var alertSinks: [any LineSink] = []
        for choice in alertChoices { alertSinks.append(try sink(for: choice)) }
        var eventSinks: [any LineSink] = []
        for choice in eventChoices { eventSinks.append(try sink(for: choice)) }
        self.fileSinks = fileSinks
        router = OutputRouter(
            alertSinks: alertSinks, eventSinks: eventSinks,
            report: { printError("execwarden: \($0)") },
            undelivered: { printError(Self.describe($0)) })
        statisticsFile = options.statisticsFile.map(StatisticsFile.init)
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        startTime = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// Reopens the file sinks on SIGHUP, as logrotate expects after moving
    /// them; the sensor's thread reopens before its next write.
    func reopenOnHangup() -> DispatchSourceSignal {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler { [router] in router.reopen() }
        source.resume()
        return source
    }

    /// Drops privileges, switching to `--user` when given, and checks that
    /// every thread lost them. Call it before starting any other thread.
    func dropPrivileges() throws(UsageError) {
        do {
            if let user {
                for file in fileSinks { try setOwner(of: file, to: user) }
            }
            for note in try PrivilegeDrop.apply(user: user) {
                printError("execwarden: note: \(note)")
            }
            try PrivilegeDrop.verify()
            if let user { try checkDirectories(writableBy: user) }
        } catch let error as PrivilegeError {
            throw UsageError(description: "\(error)")
        } catch let error as UsageError {
            throw error
        } catch {
            throw UsageError(description: "\(error)")
        }
    }

    private func setOwner(of file: FileSink, to user: UserAccount) throws(UsageError) {
        do {
            try file.setOwner(uid: user.uid, gid: user.gid)
        } catch {
            throw UsageError(description: "cannot give \(file.path) to user \(user.name): \(error)")
        }
    }

    /// Rotation, reopening and the statistics file create files in their
    /// directory, which the unprivileged user must be able to do.
    private func checkDirectories(writableBy user: UserAccount) throws(UsageError) {
        let paths = fileSinks.map(\.path) + [options.statisticsFile].compactMap { $0 }
        for path in paths {
            let directory = Self.directory(of: path)
            guard access(directory, W_OK | X_OK) == 0 else {
                throw UsageError(
                    description: "user \(user.name) cannot create files in \(directory), which rotating or replacing \(path) needs; make the directory owned by \(user.name)")
            }
        }
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Writes the statistics file now and every `--stats-file-interval`
    /// seconds. Throws when the first write fails, so that a wrong path
    /// stops the sensor at startup; later failures are logged and retried.
    func startStatisticsFile(sensor: Sensor) throws(UsageError) {
        guard let statisticsFile else { return }
        do {
            try statisticsFile.write(PrometheusText.render(metrics(sensor.statistics).families))
        } catch {
            throw UsageError(description: "\(error)")
        }
        let timer = DispatchSource.makeTimerSource(queue: .global())
        let interval = options.statisticsFileInterval
        timer.schedule(deadline: .now() + .seconds(interval), repeating: .seconds(interval))
        timer.setEventHandler { [unowned self] in writeStatistics(sensor.statistics) }
        timer.resume()
        self.timer = timer
    }

    /// Writes the statistics file, when there is one; reports a failure on
    /// stderr once until a write succeeds again.
    func writeStatistics(_ statistics: SensorStatistics) {
        guard let statisticsFile else { return }
        do {
            try statisticsFile.write(PrometheusText.render(metrics(statistics).families))
            if statisticsFailing.exchange(false, ordering: .relaxed) {
                printError("execwarden: statistics file \(statisticsFile.path) is written again")
            }
        } catch {
            if !statisticsFailing.exchange(true, ordering: .relaxed) {
                printError("execwarden: error: \(error); retrying at each interval")
            }
        }
    }

    private let statisticsFailing = Atomic<Bool>(false)

    private func metrics(_ statistics: SensorStatistics) -> SensorMetrics {
        SensorMetrics(
            sensor: statistics, sinks: router.statistics, alertsByRule: router.alertsByRule,
            undeliveredAlerts: router.undeliveredAlerts, startTime: startTime)
    }

    func stop() {
        timer?.cancel()
    }

    /// Lines that some sink failed to write.
    var linesFailed: UInt64 {
        router.statistics.reduce(0) { $0 + $1.linesFailed }
    }

    /// Describes an alert that no sink took, for stderr: the rule and the
    /// process, with arguments cut at 512 bytes.
    static func describe(_ alert: UndeliveredAlert) -> String {
        let event = alert.event
        var arguments = Array(event.args.joined(separator: [UInt8(ascii: " ")]).prefix(512))
        if arguments.count == 512 { arguments += Array("...".utf8) }
        return "execwarden: alert not written to any output: rule \"\(alert.rule.name)\" (\(alert.rule.ruleID) v\(alert.rule.version))"
            + " pid \(event.pid) uid \(event.uid) executable \(printable(event.executable))"
            + " args \(printable(arguments))"
    }

    /// Replaces control bytes with '?' so the message stays one line.
    private static func printable(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: "?") : $0 }, as: UTF8.self)
    }
}
