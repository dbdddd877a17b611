import CExecwardenBench
import Foundation
import Glibc

#if DEBUG
let isDebugBuild = true
#else
let isDebugBuild = false
#endif

let debugWarning = """
    ************************************************************************
    WARNING: execwarden-bench is a debug build. Its numbers are not
    representative; build it with 'swift build -c release'.
    ************************************************************************
    """

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Returns the execwarden binary beside this program, where `swift build`
/// places both.
func defaultSensorPath() -> String {
    let own = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
    return URL(fileURLWithPath: own).deletingLastPathComponent().appendingPathComponent("execwarden").path
}

func runStormCommand(_ spec: StormSpec) -> Int32 {
    if isDebugBuild { printError(debugWarning) }
    do {
        let workspace = try StormWorkspace()
        defer { workspace.cleanUp() }
        let command = try workspace.command(for: spec.target, tag: "ewb-storm-\(getpid())")
        let result = try runStorm(spec, command: command)
        print(String(
            format: "method=%@ target=%@ workers=%d execs=%llu failures=%llu seconds=%.3f execs_per_s=%.0f",
            spec.method.rawValue, spec.target.rawValue, spec.workers,
            result.execs, result.failures, result.seconds, result.execsPerSecond))
        if result.execs == 0 {
            printError("execwarden-bench: no exec succeeded; check that the target runs")
            return 1
        }
        return 0
    } catch {
        printError("execwarden-bench: \(error)")
        return 1
    }
}

func runCompareCommand(_ options: CompareOptions) -> Int32 {
    if isDebugBuild {
        printError(debugWarning)
        guard options.allowDebugBuild else {
            printError("execwarden-bench: results of a debug build are not reported; pass --allow-debug-build to report them anyway")
            return 1
        }
    }
    guard geteuid() == 0 else {
        printError("execwarden-bench: compare loads BPF programs and reads their statistics; run it as root")
        return 1
    }
    let sensorPath = options.sensorPath ?? defaultSensorPath()
    if options.subjects.contains(where: { $0 == .rules || $0 == .events }) {
        guard access(sensorPath, X_OK) == 0 else {
            printError("execwarden-bench: sensor binary \(sensorPath) not found; build it with 'swift build -c release' or pass --sensor PATH")
            return 1
        }
        if sensorPath.contains("/debug/") {
            printError("execwarden-bench: warning: the sensor \(sensorPath) looks like a debug build")
        }
    }
    var subjects: [SubjectKind] = []
    for subject in options.subjects where !subjects.contains(subject) {
        if let problem = Peers.problem(subject) {
            printError("execwarden-bench: leaving out \(subject.rawValue): \(problem)")
        } else {
            subjects.append(subject)
        }
    }
    let statsFD = ewb_enable_run_time_stats()
    guard statsFD >= 0 else {
        printError("execwarden-bench: cannot enable BPF run-time statistics: \(String(cString: strerror(-statsFD)))")
        return 1
    }
    defer { close(statsFD) }

    let started = ISO8601DateFormatter().string(from: Date())
    printError("execwarden-bench: \(options.rounds) round(s) x workers \(options.workerCounts) x \(subjects.map(\.rawValue)), \(options.storm.durationSeconds) s per storm, method \(options.storm.method.rawValue), target \(options.storm.target.rawValue)")
    let programsAtStart = LoadedProgram.all()
    let comparison: Comparison
    do {
        comparison = try Comparison(options: options, sensorPath: sensorPath, subjects: subjects)
        try comparison.run { sample in
            print(sampleLine(sample))
            fflush(stdout)
        }
    } catch {
        printError("execwarden-bench: \(error)")
        return 1
    }
    let otherPrograms = LoadedProgram.ranBetween(programsAtStart, LoadedProgram.all())
    let summaries = summarize(comparison.samples, subjects: subjects, workerCounts: options.workerCounts)
    let table = summaryTable(summaries)
    let build = isDebugBuild ? "debug" : "release"
    let commandLine = CommandLine.arguments.joined(separator: " ")
    var header = "execwarden-bench \(build) build, \(started), kernel \(kernelRelease()), \(ProcessInfo.processInfo.activeProcessorCount) CPUs\n"
    header += "command: \(commandLine)\n"
    header += otherProgramsText(otherPrograms)
    if isDebugBuild { header = debugWarning + "\n" + header }
    print("\n" + header + "\n" + table)
    for sample in comparison.samples where (sample.missing ?? 0) > (sample.lost ?? 0) {
        printError("execwarden-bench: warning: \(sample.subject.rawValue), round \(sample.round), \(sample.workers) workers: \(sample.missing ?? 0) storm execs have no output line but only \(sample.lost ?? 0) were counted as lost")
    }

    let results = Results(
        command: commandLine, build: build, warning: isDebugBuild ? debugWarning : nil,
        kernel: kernelRelease(), cpus: ProcessInfo.processInfo.activeProcessorCount,
        started: started, sensor: sensorPath, method: options.storm.method.rawValue,
        target: options.storm.target.rawValue, durationSeconds: options.storm.durationSeconds,
        rounds: options.rounds, otherPrograms: otherPrograms, samples: comparison.samples, summary: summaries)
    do {
        try writeResults(results, table: header + "\n" + table + "\n", summaries: summaries,
                         subjects: subjects, options: options)
    } catch {
        printError("execwarden-bench: cannot write results to \(options.outputDirectory): \(error)")
        return 1
    }
    return 0
}

func writeResults(_ results: Results, table: String, summaries: [Summary],
                  subjects: [SubjectKind], options: CompareOptions) throws {
    let directory = URL(fileURLWithPath: options.outputDirectory)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    try encoder.encode(results).write(to: directory.appendingPathComponent("results.json"))
    try Data(table.utf8).write(to: directory.appendingPathComponent("results.txt"))
    let title = "execwarden-bench: \(results.method) storm of \(results.target), \(results.durationSeconds) s x \(results.rounds) rounds, \(results.build) build"
    let svg = plotSVG(summaries, subjects: subjects, workerCounts: options.workerCounts, title: title)
    try Data(svg.utf8).write(to: directory.appendingPathComponent("results.svg"))
    printError("execwarden-bench: wrote results.json, results.txt and results.svg to \(directory.path)")
}

/// Lists other tools' BPF programs that ran during the comparison: their
/// cost lands on every subject's execs.
func otherProgramsText(_ programs: [LoadedProgram]) -> String {
    guard !programs.isEmpty else { return "other BPF programs that ran during the comparison: none\n" }
    var text = "other BPF programs that ran during the comparison (id name runs ns/run):\n"
    for program in programs {
        let perRun = Double(program.runTimeNanoseconds) / Double(program.runs)
        text += String(format: "  %u %@ %llu %.0f\n", program.id, program.name, program.runs, perRun)
    }
    return text
}

func kernelRelease() -> String {
    var name = utsname()
    uname(&name)
    return withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
}

let status: Int32
do {
    switch try parseCommand(Array(CommandLine.arguments.dropFirst())) {
    case .help:
        print(usage)
        status = 0
    case .storm(let spec):
        status = runStormCommand(spec)
    case .compare(let options):
        status = runCompareCommand(options)
    }
} catch {
    printError("execwarden-bench: \(error)\n\(usage)")
    status = 2
}
exit(status)
