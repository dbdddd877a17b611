#if EXECWARDEN_LIBFUZZER
import Glibc

// Built with `-sanitize=fuzzer` and `-D EXECWARDEN_LIBFUZZER`, the program
// hands its command line to libFuzzer's driver. SwiftPM links an executable
// target's entry point under the name `<module>_main`, so libFuzzer's own
// `main` cannot be used. The target comes from EXECWARDEN_FUZZ_TARGET
// because libFuzzer owns the command line.

@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

@_cdecl("execwarden_fuzz_main")
public func fuzzerMain(
    _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments, fuzzerTestOneInput)
}

nonisolated(unsafe) private var selectedTarget = FuzzTarget.record

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(
    _ argc: UnsafeMutablePointer<Int32>?,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> Int32 {
    let name = getenv("EXECWARDEN_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        printError("execwarden-fuzz: set EXECWARDEN_FUZZ_TARGET to one of: \(names)")
        exit(2)
    }
    selectedTarget = target
    if let directory = getenv("EXECWARDEN_FUZZ_SEED_DIR").map({ String(cString: $0) }) {
        do {
            try SeedFiles.write(target.seeds, to: directory, prefix: target.rawValue)
        } catch {
            printError("execwarden-fuzz: \(error)")
            exit(1)
        }
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    selectedTarget.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#endif
