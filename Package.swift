// swift-tools-version: 6.2
//
// EdgeVec: an embedded HNSW vector index for native hosts and wasm32.
//
// Dependencies point one way: Bridge → Search → Format/Graph/Storage/Filter → Allocators
// (Format → Graph for one error payload).
// The allocator is chosen at build time with a trait:
//   swift build                      system malloc (default)
//   swift build --traits Jemalloc    Debian's libjemalloc, process-wide
//   swift build --traits BumpArena   one chunked bump arena per index
// The `Wasm` trait switches the core modules to Embedded Swift for
// `wasm32-unknown-none-wasm` (see docs/BUILDING.md); never enable it natively.
import PackageDescription

/// The settings of the core modules: natively none; with the `Wasm` trait,
/// Embedded Swift for wasm32, optimised for `optimization` ("-Osize" or "-O").
func embeddedSettings(_ optimization: String) -> [SwiftSetting] {
    [
        // Embedded as an unsafe flag, not `.enableExperimentalFeature`: SwiftPM passes
        // every `enableExperimentalFeature` of a product's targets to its link step
        // whatever the condition, and a native link in Embedded mode leaves out
        // swiftrt.o, which registers the image's type metadata and conformances with
        // the runtime (a debug libedgevec.so then crashed on its first generic type).
        // -disable-incremental-llvm-codegen: otherwise each file's LLVM module gets an MD5
        // of itself in a `.swift_modhash` data segment (848 bytes in the wasm module, which
        // nothing reads: random bytes that gzip cannot shrink, and another build's differ).
        // -enforce-exclusivity=unchecked: no runtime exclusivity checks (366 calls to
        // swift_beginAccess, 2.4 KB gzipped). They trap on our own overlapping accesses, never
        // on input; the same sources run natively with them on in every test and sanitizer run.
        .unsafeFlags(["-enable-experimental-feature", "Embedded",
                      "-wmo", "-Xfrontend", "-disable-stack-protector", "-Xcc", "-msimd128", optimization,
                      "-Xfrontend", "-disable-incremental-llvm-codegen", "-enforce-exclusivity=unchecked"],
                     .when(traits: ["Wasm"])),
        // Internal consistency checks (`_checkInvariants`) in debug builds only.
        .define("EDGEVEC_INTERNAL_CHECKS", .when(configuration: .debug)),
    ]
}

// -Osize: the wasm module's size is a goal (docs/PERFORMANCE.md, "wasm size"); the hot
// loops of Search (graph walks, linking, scans) are `@_optimize(speed)`. Filter stays
// -O: its evaluation runs per slot through SIMD closures, which -Osize leaves as calls
// (a closure does not inherit its function's `@_optimize`), and -O costs it no bytes.
let coreSettings = embeddedSettings("-Osize")
let filterSettings = embeddedSettings("-O")

let package = Package(
    name: "EdgeVec",
    products: [
        .library(name: "EdgeVecAllocators", targets: ["EdgeVecAllocators"]),
        .library(name: "EdgeVecStorage", targets: ["EdgeVecStorage"]),
        .library(name: "EdgeVecGraph", targets: ["EdgeVecGraph"]),
        .library(name: "EdgeVecFilter", targets: ["EdgeVecFilter"]),
        .library(name: "EdgeVecFormat", targets: ["EdgeVecFormat"]),
        .library(name: "EdgeVecSearch", targets: ["EdgeVecSearch"]),
        .library(name: "EdgeVecBridge", targets: ["EdgeVecBridge"]),
        // The C ABI as a shared library (`make native` → dist/native/libedgevec.so + edgevec.h).
        .library(name: "EdgeVecNative", type: .dynamic, targets: ["EdgeVecBridge"]),
        .library(name: "EdgeVec", targets: ["EdgeVec"]),
        .executable(name: "edgevec", targets: ["edgevec"]),
    ],
    traits: [
        .trait(name: "Jemalloc", description: "Allocate index memory with jemalloc (links libjemalloc, process-wide)."),
        .trait(name: "BumpArena", description: "Carve index memory from one chunked bump arena per index."),
        .trait(name: "Wasm", description: "Build the core as Embedded Swift for wasm32-unknown-none-wasm."),
        .trait(name: "AllocationCounter",
               description: "Wasm module only: count allocations and export ev_allocation_count / ev_free_count.",
               enabledTraits: ["Wasm"]),
        .default(enabledTraits: []),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Allocators: the bottom layer. CJemalloc compiles to nothing unless the trait is on.
        .systemLibrary(name: "CJemalloc", path: "Allocators/CJemalloc"),
        .target(name: "_EdgeVecCShims", path: "Allocators/_EdgeVecCShims"),
        .target(
            name: "EdgeVecAllocators",
            dependencies: [
                "_EdgeVecCShims",
                .target(name: "CJemalloc", condition: .when(traits: ["Jemalloc"])),
            ],
            path: "Allocators/EdgeVecAllocators",
            swiftSettings: coreSettings
        ),
        .target(name: "EdgeVecStorage", dependencies: ["EdgeVecAllocators"],
                path: "Modules/Storage", swiftSettings: coreSettings),
        .target(name: "EdgeVecGraph", dependencies: ["EdgeVecAllocators"],
                path: "Modules/Graph", swiftSettings: coreSettings),
        // Metadata values and the filter language (parser, reference evaluation); only Allocators' MessageBuffer.
        .target(name: "EdgeVecFilter", dependencies: ["EdgeVecAllocators"], path: "Modules/Filter",
                swiftSettings: filterSettings),
        // The index file format and its versions: layout, header, CRC-32C, byte reader/writer, corruption
        // errors, `Metric` and `Limits` (what a header holds and checks), atomic file I/O (native only).
        // Graph only for `GraphInvariantViolation`, the payload of `Corruption.invalidGraph`.
        .target(name: "EdgeVecFormat", dependencies: ["EdgeVecAllocators", "EdgeVecGraph"], path: "Modules/Format",
                swiftSettings: coreSettings),
        // Locks and threads for native hosts; empty stand-ins in the wasm module (one thread).
        .target(name: "EdgeVecConcurrency", path: "Modules/Concurrency", swiftSettings: coreSettings),
        // x86_64 distance kernels chosen at load time, and a prefetch hint (C: Swift
        // cannot pick an instruction set per function). Empty on other targets.
        .target(name: "_EdgeVecSearchKernels", path: "Modules/SearchKernels"),
        .target(name: "EdgeVecSearch", dependencies: ["EdgeVecAllocators", "EdgeVecStorage", "EdgeVecGraph",
                                                     "EdgeVecFilter", "EdgeVecFormat", "EdgeVecConcurrency",
                                                     "_EdgeVecSearchKernels"],
                path: "Modules/Search", swiftSettings: coreSettings),
        // C-ABI exports for wasm32 and C hosts.
        .target(name: "EdgeVecBridge", dependencies: ["EdgeVecSearch", "EdgeVecFilter", "EdgeVecAllocators", "_EdgeVecCShims"],
                path: "Modules/Bridge", swiftSettings: coreSettings),
        // The wasm module (`make wasm`, see docs/JAVASCRIPT.md): the Bridge exports
        // linked with --no-entry. Natively a harmless program that says what it is for.
        .executableTarget(
            name: "EdgeVecWasm",
            dependencies: [
                "EdgeVecBridge",
                .target(name: "_EdgeVecAllocationCounter", condition: .when(traits: ["AllocationCounter"])),
            ],
            path: "Tools/EdgeVecWasm",
            // Not `coreSettings`: SwiftPM passes `enableExperimentalFeature` to an
            // executable's link step whatever its trait condition, and a native link
            // in Embedded mode leaves out the Swift runtime.
            swiftSettings: [.unsafeFlags(["-enable-experimental-feature", "Embedded", "-wmo",
                                          "-Xfrontend", "-disable-incremental-llvm-codegen"], .when(traits: ["Wasm"]))],
            linkerSettings: [
                .unsafeFlags(["-enable-experimental-feature", "Embedded"], .when(traits: ["Wasm"])),
                .unsafeFlags(["-Xlinker", "--no-entry", "-Xlinker", "--export=__wasm_call_ctors",
                              "-Xlinker", "--stack-first", "-Xlinker", "-z", "-Xlinker", "stack-size=262144"],
                             .when(traits: ["Wasm"])),
                .unsafeFlags(["malloc", "calloc", "realloc", "aligned_alloc", "posix_memalign", "free"]
                                .flatMap { ["-Xlinker", "--wrap=" + $0] },
                             .when(traits: ["AllocationCounter"])),
            ]
        ),
        .target(name: "_EdgeVecAllocationCounter", path: "Tools/EdgeVecAllocationCounter"),
        // Umbrella for Swift users: one import for the whole index.
        .target(name: "EdgeVec", dependencies: ["EdgeVecSearch", "EdgeVecStorage", "EdgeVecGraph", "EdgeVecFilter",
                                                "EdgeVecFormat", "EdgeVecAllocators"],
                path: "Modules/EdgeVec"),
        .executableTarget(
            name: "edgevec",
            dependencies: ["EdgeVec", "EdgeVecConcurrency", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Tools/edgevec"
        ),
        .testTarget(name: "EdgeVecTests", dependencies: ["EdgeVec"], path: "Tests/EdgeVecTests"),
    ]
)
