// swift-tools-version:6.0
import PackageDescription

// Kernels are compiled without bounds checks in release builds: the hot loops index raw
// buffers whose sizes are validated once, at the API boundary.
let kernelSettings: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))
]

// The AVX-512 GEMM is compiled for AVX-512, and optimized, in every configuration (its
// register tiles are unusably slow unoptimized, even in tests); the engine calls it only on
// a processor that has AVX-512 (Sources/Engine/Kernels/GEMM.swift).
let avx512Settings: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "skylake-avx512", "-Ounchecked"]),
    .unsafeFlags(["-wmo"], .when(configuration: .release)),
]

let package = Package(
    name: "oicsr",
    targets: [
        // C libraries from Debian packages, each behind a shim header.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CNCurses", path: "Sources/CNCurses"),

        // Modules depend downward only: oicsr → Explorer → Pruning → Engine. Canvas (the
        // character grid, widgets, keys and theme) depends on nothing; the explorer draws into
        // it and Terminal copies it to the screen.
        .target(name: "AVX512Kernels", path: "Sources/Engine/Kernels/AVX512", swiftSettings: avx512Settings),
        .target(name: "Engine", dependencies: ["CBLAS", "CZlib", "AVX512Kernels"], exclude: ["Kernels/AVX512"],
                swiftSettings: kernelSettings),
        .target(name: "Pruning", dependencies: ["Engine"], swiftSettings: kernelSettings),
        .target(name: "Canvas"),
        .target(name: "Explorer", dependencies: ["Canvas", "Pruning", "Engine"]),
        .target(name: "Terminal", dependencies: ["Canvas", "CNCurses"]),
        .executableTarget(name: "oicsr", dependencies: ["Engine", "Pruning", "Canvas", "Explorer", "Terminal"]),

        .target(name: "TestSupport", dependencies: ["Engine"], path: "Tests/TestSupport"),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "TestSupport"]),
        .testTarget(name: "PruningTests", dependencies: ["Pruning", "Engine", "TestSupport"]),
        // Runs the real binary, so it depends on the executable to have it built first.
        .testTarget(name: "CLITests", dependencies: ["Engine", "Pruning", "oicsr"]),
        // Golden screens are read from the source tree (#filePath), not bundled as resources.
        .testTarget(name: "ExplorerTests", dependencies: ["Explorer", "Canvas", "Engine", "Pruning"], exclude: ["__Snapshots__"]),

        // One fuzz target per parser (scripts/fuzz.sh builds them with libFuzzer and ASan); a
        // plain build replays inputs given as files.
        .systemLibrary(name: "CFuzzer", path: "Fuzz/CFuzzer"),
        .target(name: "FuzzDriver", dependencies: ["CFuzzer"], path: "Fuzz/Driver"),
        .executableTarget(name: "fuzz-safetensors", dependencies: ["Engine", "FuzzDriver"], path: "Fuzz/Targets/SafeTensors"),
        .executableTarget(name: "fuzz-architecture", dependencies: ["Engine", "FuzzDriver"], path: "Fuzz/Targets/Architecture"),
        .executableTarget(name: "fuzz-idx", dependencies: ["Engine", "FuzzDriver"], path: "Fuzz/Targets/IDX"),
        .executableTarget(name: "fuzz-cifar", dependencies: ["Engine", "FuzzDriver"], path: "Fuzz/Targets/CIFAR"),
    ],
    swiftLanguageModes: [.v6]
)
