// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "execwarden",
    products: [
        .executable(name: "execwarden", targets: ["execwarden"]),
        .library(name: "ExecwardenCore", targets: ["ExecwardenCore"]),
        .executable(name: "execwarden-bench", targets: ["execwarden-bench"]),
    ],
    targets: [
        // libbpf from Debian's libbpf-dev, found through pkg-config.
        .systemLibrary(
            name: "CLibbpf",
            pkgConfig: "libbpf",
            providers: [.apt(["libbpf-dev", "libelf-dev", "zlib1g-dev"])]
        ),
        // The C shim over libbpf, the shared record layout and the embedded
        // prebuilt BPF object.
        .target(
            name: "CExecwarden",
            dependencies: ["CLibbpf"],
            linkerSettings: [
                .linkedLibrary("bpf"),
                .linkedLibrary("elf"),
                .linkedLibrary("z"),
            ]
        ),
        // prctl(2) and capset(2) wrappers for dropping privileges.
        .target(name: "CPrivilege"),
        .target(
            name: "ExecwardenCore",
            dependencies: ["CExecwarden", "CPrivilege"]
        ),
        .executableTarget(
            name: "execwarden",
            dependencies: ["ExecwardenCore"]
        ),
        // Fuzzing entry points for the input parsers: a seeded random loop
        // by default, libFuzzer when built by scripts/fuzz.sh.
        .executableTarget(
            name: "execwarden-fuzz",
            dependencies: ["ExecwardenCore", "CExecwarden"]
        ),
        // The benchmark: the exec storm generator, the control BPF program
        // and its loader, and BPF run-time statistics.
        .target(
            name: "CExecwardenBench",
            dependencies: ["CLibbpf"],
            linkerSettings: [
                .linkedLibrary("bpf"),
                .linkedLibrary("elf"),
                .linkedLibrary("z"),
            ]
        ),
        .executableTarget(
            name: "execwarden-bench",
            dependencies: ["CExecwardenBench"],
            // The harness shares state between a storm thread, a marker
            // loop and output readers through locks it manages itself.
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "ExecwardenTests",
            dependencies: ["ExecwardenCore", "CExecwarden", "execwarden", "execwarden-fuzz", "execwarden-bench"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
