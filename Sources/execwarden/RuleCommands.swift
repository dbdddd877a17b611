import Dispatch
import ExecwardenCore
import Glibc

/// Loads the rules the options select: the built-in rules, or those in
/// the --rules paths (with the built-in rules too under --builtin-rules).
func loadRuleSet(_ options: CommandLineOptions) -> RuleSet {
    RuleSet.load(
        paths: options.rulePaths,
        includeBuiltins: options.rulePaths.isEmpty || options.includeBuiltinRules)
}

/// Checks a rule set before a run or a reload: returns the reasons it
/// cannot run, or an empty list.
func problems(of ruleSet: RuleSet) -> [String] {
    var problems = ruleSet.invalid.map { "invalid: \($0)" }
    if ruleSet.loaded.isEmpty && problems.isEmpty {
        problems.append(ruleSet.skipped.isEmpty
            ? "no rule to run: no rule was found"
            : "no rule to run: every rule was skipped")
    }
    return problems
}

/// Prints one stderr line for each rule skipped as unsupported, and one for
/// each loaded rule that gives the kernel prefilter no handle.
func reportRuleSet(_ ruleSet: RuleSet) {
    for skipped in ruleSet.skipped where !skipped.isInvalid {
        printError("execwarden: skipped \(skipped)")
    }
    for loaded in ruleSet.loaded {
        for warning in loaded.warnings {
            printError("execwarden: warning: \(label(loaded.rule)) from \(loaded.origin): \(warning)")
        }
        if case .none(let reason) = loaded.handle {
            printError(
                "execwarden: note: \(label(loaded.rule)) from \(loaded.origin) gives the kernel prefilter no handle"
                    + " (\(reason)), so every exec goes to user space")
        }
    }
}

/// `rules check PATH...`: prints each rule that would load with its
/// prefilter handle, then each skipped rule with its reason. Returns 1
/// when the sensor would refuse to start on these paths: a file or rule is
/// invalid, or no rule would run.
func checkRules(_ paths: [String]) -> Int32 {
    let ruleSet = RuleSet.load(paths: paths, includeBuiltins: false)
    for loaded in ruleSet.loaded {
        print("load   \(loaded.origin): \(label(loaded.rule)): \(describe(loaded.handle))")
        for warning in loaded.warnings {
            print("       warning: \(warning)")
        }
    }
    for skipped in ruleSet.skipped {
        print("\(skipped.isInvalid ? "error" : "skip ")  \(skipped)")
    }
    let invalid = ruleSet.invalid.count
    print(
        "\(ruleSet.loaded.count) rule(s) would load, \(ruleSet.skipped.count - invalid) skipped,"
            + " \(invalid) invalid")
    if ruleSet.loaded.isEmpty {
        print("no rule would run, so the sensor would not start with these paths")
    }
    return problems(of: ruleSet).isEmpty ? 0 : 1
}

/// Prints each rule that would run with its id, version and query.
func listRules(_ options: CommandLineOptions) -> Int32 {
    let ruleSet = loadRuleSet(options)
    for problem in problems(of: ruleSet) {
        printError("execwarden: \(problem)")
    }
    for loaded in ruleSet.loaded {
        let rule = loaded.rule.rule
        print("\(rule.ruleID)  v\(rule.version)  \(rule.severity.rawValue)  \(rule.name)")
        print("  " + rule.query.split(separator: "\n").joined(separator: "\n  "))
    }
    let skipped = ruleSet.skipped.count - ruleSet.invalid.count
    if skipped > 0 {
        printError("execwarden: \(skipped) rule(s) skipped; run 'execwarden rules check PATH' for the reasons")
    }
    return problems(of: ruleSet).isEmpty ? 0 : 1
}

func label(_ rule: CompiledRule) -> String {
    "rule \"\(rule.rule.name)\" v\(rule.rule.version) (\(rule.rule.ruleID))"
}

private func describe(_ handle: PrefilterHandle) -> String {
    switch handle {
    case .none(let reason):
        return "no kernel prefilter handle (\(reason))"
    case .names(let executables, let processes):
        var parts: [String] = []
        if !executables.isEmpty {
            parts.append("executable names " + names(executables))
        }
        if !processes.isEmpty {
            parts.append("process names " + names(processes))
        }
        return "kernel prefilter on " + parts.joined(separator: " or ")
    }
}

private func names(_ set: Set<[UInt8]>) -> String {
    set.map { String(decoding: $0, as: UTF8.self) }.sorted().joined(separator: ", ")
}

/// Reloads the rules on SIGHUP. A set with an invalid rule or file, or
/// with no rule to run, leaves the running set in place and is logged.
func reloadOnHangup(_ options: CommandLineOptions, sensor: Sensor) -> DispatchSourceSignal {
    signal(SIGHUP, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "execwarden.reload"))
    source.setEventHandler {
        printError("execwarden: SIGHUP: reloading rules")
        let ruleSet = loadRuleSet(options)
        let found = problems(of: ruleSet)
        guard found.isEmpty else {
            for problem in found {
                printError("execwarden: reload: \(problem)")
            }
            printError("execwarden: reload failed, so the previous rules keep running")
            return
        }
        reportRuleSet(ruleSet)
        let count = ruleSet.loaded.count
        sensor.replaceRules(ruleSet) { error in
            if let error {
                printError(
                    "execwarden: reload: updating the kernel prefilter failed (\(error));"
                        + " every exec now goes to user space")
            }
            printError("execwarden: reloaded \(count) rule(s)")
        }
    }
    source.resume()
    return source
}

/// Prints one line per rule with its counters.
func printRuleStatistics(_ rules: [RuleStatistics], label: String) {
    for rule in rules {
        printError(
            "execwarden: \(label) by rule: rule=\(rule.ruleID) version=\(rule.version)"
                + " evaluations=\(rule.evaluations) matches=\(rule.matches)"
                + " suppressed=\(rule.suppressed) name=\"\(rule.name)\"")
    }
}

/// Warns when rules suppress alerts because of their max_signals limit,
/// naming each rule and its new suppressions. Returns whether it warned.
func warnSuppressed(_ rules: [RuleStatistics], reported: inout [String: UInt64]) -> Bool {
    var warned = false
    for rule in rules {
        let key = "\(rule.ruleID) v\(rule.version)"
        let previous = reported[key] ?? 0
        guard rule.suppressed > previous else { continue }
        printError(
            "execwarden: warning: rule \"\(rule.name)\" v\(rule.version) reached its max_signals;"
                + " \(rule.suppressed - previous) more alert(s) suppressed (total \(rule.suppressed))")
        reported[key] = rule.suppressed
        warned = true
    }
    return warned
}
