import ExecwardenCore
import Glibc

let options: CommandLineOptions
do {
    options = try CommandLineOptions.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    printError("execwarden: \(error)")
    printError("Run 'execwarden --help' for usage.")
    exit(2)
}

switch options.action {
case .help:
    print(CommandLineOptions.usage, terminator: "")
    exit(0)
case .version:
    print("execwarden \(ECSRenderer.defaultAgentVersion)")
    exit(0)
case .listRules:
    exit(listRules(options))
case .checkRules:
    exit(checkRules(options.rulePaths))
case .run:
    exit(runSensor(options))
}
