import Foundation
import Synchronization
import Testing
@testable import ExecwardenCore

/// A line the sensor emitted during the tests, with its event.
struct CapturedLine: Sendable {
    let isAlert: Bool
    let verdict: Verdict?
    let ruleID: String?
    let ruleVersion: Int?
    let event: ExecEvent
    let json: [UInt8]

    var document: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(json))) as? [String: Any] ?? [:]
    }
}

/// One real sensor for the whole test process: the embedded BPF object,
/// attached to the running kernel, with the built-in rules, no alert rate
/// limit, and every exec emitted as an event. Tests select their execs by a marker argument or a
/// pid, because the probe reports every exec on the host, including those of
/// tests running in parallel.
final class KernelHarness: Sendable {
    static let shared: Result<KernelHarness, ProbeError> = {
        let harness = KernelHarness()
        return harness.start().map { harness }
    }()

    /// Returns the shared harness, failing the test when the probe cannot
    /// start: these tests run as root in CI and must not be skipped.
    static func require() throws -> KernelHarness {
        try shared.get()
    }

    /// Lines kept at most; older ones are dropped first.
    private static let capacity = 200_000
    private let store = LineStore()
    private let sensor: Sensor

    private init() {
        var configuration = SensorConfiguration()
        configuration.emitEvents = true
        configuration.pollTimeoutMilliseconds = 20
        // Other tests on the host run unshare too; a limit would make
        // alerts depend on them.
        configuration.alertWindow = nil
        let store = self.store
        let host = HostInfo.current()
        sensor = Sensor(
            rules: try! BuiltinRules.compiled(),
            configuration: configuration,
            host: host,
            renderer: ECSRenderer(host: host),
            emit: { line in
                let captured = CapturedLine(line)
                store.lines.withLock { stored in
                    if stored.count >= Self.capacity {
                        stored.removeFirst(stored.count / 2)
                    }
                    stored.append(captured)
                }
            })
    }

    private func start() -> Result<Void, ProbeError> {
        let ready = DispatchSemaphore(value: 0)
        let failure = Mutex<ProbeError?>(nil)
        let sensor = self.sensor
        let thread = Thread {
            do {
                try sensor.run(onReady: { ready.signal() })
            } catch let error as ProbeError {
                failure.withLock { $0 = error }
                ready.signal()
            } catch {
                failure.withLock {
                    $0 = ProbeError(stage: .poll, errorNumber: 0, detail: "\(error)")
                }
                ready.signal()
            }
        }
        thread.name = "kernel-harness"
        thread.start()
        ready.wait()
        if let error = failure.withLock({ $0 }) {
            return .failure(error)
        }
        return .success(())
    }

    var statistics: SensorStatistics { sensor.statistics }

    /// Waits until `count` event lines satisfy `predicate`, then returns
    /// them in arrival order. Returns what it has when `timeout` passes: a
    /// generous default, because a loaded machine can hold the sensor back
    /// for seconds, and a test that finds its events returns at once.
    func events(
        count: Int, timeout: Duration = .seconds(30),
        where predicate: (ExecEvent) -> Bool
    ) async -> [ExecEvent] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let found = store.lines.withLock { stored in
                stored.filter { !$0.isAlert && predicate($0.event) }.map(\.event)
            }
            if found.count >= count || ContinuousClock.now >= deadline {
                return found
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Alert lines of the built-in rule revision `version` (by default
    /// v9) whose event satisfies `predicate`, as captured so far. The
    /// sensor emits an exec's alerts before its event line, so once a test
    /// has seen the event line, every alert for that exec is here.
    func alerts(version: Int = 9, where predicate: (ExecEvent) -> Bool) -> [CapturedLine] {
        store.lines.withLock { stored in
            stored.filter { $0.isAlert && $0.ruleVersion == version && predicate($0.event) }
        }
    }

    /// Returns every line captured so far whose event satisfies `predicate`.
    func lines(where predicate: (ExecEvent) -> Bool) -> [CapturedLine] {
        store.lines.withLock { stored in stored.filter { predicate($0.event) } }
    }
}

private final class LineStore: Sendable {
    let lines = Mutex<[CapturedLine]>([])
}

extension CapturedLine {
    init(_ line: SensorLine) {
        switch line.kind {
        case .alert(let rule, let verdict):
            self.init(
                isAlert: true, verdict: verdict, ruleID: rule.ruleID, ruleVersion: rule.version,
                event: line.event, json: Array(line.json))
        case .event:
            self.init(
                isAlert: false, verdict: nil, ruleID: nil, ruleVersion: nil,
                event: line.event, json: Array(line.json))
        }
    }
}

extension ExecEvent {
    /// True when some argument equals `marker` exactly.
    func hasArgument(_ marker: String) -> Bool {
        args.contains(Array(marker.utf8))
    }

    var argStrings: [String] { args.map { String(decoding: $0, as: UTF8.self) } }
    var executableString: String { String(decoding: executable, as: UTF8.self) }
    var nameString: String { String(decoding: name, as: UTF8.self) }
    var parentNameString: String { String(decoding: parentName, as: UTF8.self) }
    var parentExecutableString: String { String(decoding: parentExecutable, as: UTF8.self) }
    var scriptString: String { String(decoding: script, as: UTF8.self) }
}
