import ExecwardenCore

/// Sends a state change to systemd when it started the sensor as a
/// `Type=notify` service. A failure is only a warning, because the sensor
/// still works and systemd reports a missing READY=1 when it times out.
func notifyServiceManager(
    _ notifier: ServiceNotifier?,
    _ send: (ServiceNotifier) throws -> Void
) {
    guard let notifier else { return }
    do {
        try send(notifier)
    } catch {
        printError("execwarden: warning: \(error)")
    }
}
