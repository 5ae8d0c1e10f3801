// swift-tools-version: 6.2
//
// EdgeVec's benchmarks (package-benchmark), in a package of their own so that
// users of the library never resolve package-benchmark and its dependencies.
//
//   cd Benchmarks
//   swift package benchmark                                  # run everything
//   swift package benchmark thresholds check --metric mallocCountTotal --metric memoryLeakedBytes
//   swift package --traits BumpArena benchmark ...           # index memory from a bump arena
//
// `make bench-alloc` (at the repository root) runs the allocation check; see
// Benchmarks/README.md.
import PackageDescription

let package = Package(
    name: "EdgeVecBenchmarks",
    platforms: [.macOS(.v13)],
    traits: [
        .trait(name: "BumpArena", description: "Build EdgeVec with its BumpArena allocator trait."),
        .default(enabledTraits: []),
    ],
    dependencies: [
        .package(name: "EdgeVec", path: "..",
                 traits: [.trait(name: "BumpArena", condition: .when(traits: ["BumpArena"]))]),
        // The default traits of benchmark 1.38 include RuntimeInterposer, whose
        // package is not needed for malloc counts: name the trait explicitly.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "EdgeVecBenchmarks",
            dependencies: [
                .product(name: "EdgeVec", package: "EdgeVec"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/EdgeVecBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
