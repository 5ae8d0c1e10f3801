// Benchmarks of EdgeVec's native hot paths: insert, search, distance.
//
// Each benchmark records wall clock and malloc counts (malloc-interposer, the
// backend package-benchmark uses on Swift 6.3+: it counts malloc, calloc,
// realloc and posix_memalign, which is what the system allocator of EdgeVec
// calls). The allocation counts are checked against the p90 values stored in
// ../../Thresholds/ by `make bench-alloc`; times are printed, never checked.
//
// Benchmark names contain no spaces or slashes: package-benchmark writes a
// thresholds file under a cleaned-up name but reads it back under the raw one.
import Benchmark
import EdgeVec

// MARK: - Workload

/// Vector dimension of the insert and search benchmarks.
let dimension = 128
/// Vectors in the index the insert and search benchmarks start from.
let baseCount = 10_000
let configuration = HNSWConfiguration(m: 16, efConstruction: 200, efSearch: 64, seed: 42)

/// SplitMix64: a fixed-seed source of test vectors, identical on every run
/// and platform (unlike `SystemRandomNumberGenerator`).
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 24 random bits.
    mutating func nextFloat() -> Float { Float(next() >> 40) * 0x1p-24 }
}

/// `rows` × `dimension` uniform [0, 1) floats, row after row.
func uniformVectors(rows: Int, dimension: Int, seed: UInt64) -> [Float] {
    var rng = SplitMix64(state: seed)
    return (0..<rows * dimension).map { _ in rng.nextFloat() }
}

/// Rows of a flat array handed out in turn, wrapping around, without
/// allocating: each call returns a buffer into the same storage.
final class RowCycle {
    let storage: UnsafeMutableBufferPointer<Float>
    let dimension: Int
    let rows: Int
    var next = 0

    init(_ values: [Float], dimension: Int) {
        storage = .allocate(capacity: values.count)
        _ = storage.initialize(from: values)
        self.dimension = dimension
        rows = values.count / dimension
    }

    deinit { storage.deallocate() }

    @inline(__always)
    func take() -> UnsafeBufferPointer<Float> {
        let row = next
        next = next + 1 == rows ? 0 : next + 1
        return UnsafeBufferPointer(rebasing: storage[row * dimension ..< (row + 1) * dimension])
    }
}

@discardableResult
func mustSucceed<T>(_ body: () throws(EdgeVecError) -> T) -> T {
    do {
        return try body()
    } catch {
        fatalError("EdgeVec failed: \(error.message)")
    }
}

/// A `baseCount` × 128 index (uniform data, seed 1), built once per process
/// and kept as serialized bytes; each benchmark loads a copy of its own.
nonisolated(unsafe) var baseIndexBytes: [UInt8] = []

/// A fresh copy of the base index. Loading sizes every buffer exactly, so
/// the copy's first insert doubles them.
func loadBaseIndex() -> HNSWIndex {
    if baseIndexBytes.isEmpty {
        let values = uniformVectors(rows: baseCount, dimension: dimension, seed: 1)
        let index = mustSucceed { () throws(EdgeVecError) in
            try HNSWIndex(dimension: dimension, metric: .l2, configuration: configuration)
        }
        mustSucceed { () throws(EdgeVecError) in try index.addBatch(values) }
        baseIndexBytes = index.serialized()
    }
    return mustSucceed { () throws(EdgeVecError) in try HNSWIndex(serialized: baseIndexBytes) }
}

// MARK: - Thresholds

/// Tolerances for `thresholds check`: how far the p90 of a run may be from the
/// stored p90 (in allocations, or bytes) before it counts as a change.
/// Allocation counts only: timings on a shared machine are too noisy to gate on.
func allocationThresholds(mallocTolerance: Int, leakedBytesTolerance: Int = 0) -> [BenchmarkMetric: BenchmarkThresholds] {
    [
        .mallocCountTotal: .init(absolute: [.p90: mallocTolerance]),
        .memoryLeakedBytes: .init(absolute: [.p90: leakedBytesTolerance]),
    ]
}

let measured: [BenchmarkMetric] = [.wallClock, .mallocCountTotal, .memoryLeakedBytes]

// MARK: - Benchmarks

nonisolated(unsafe) var insertIndex: HNSWIndex?
nonisolated(unsafe) var insertRows: RowCycle?
nonisolated(unsafe) var searchIndex: HNSWIndex?
nonisolated(unsafe) var queryRows: RowCycle?
nonisolated(unsafe) var benchFilter: Filter?
nonisolated(unsafe) var flatIndex: FlatIndex?
nonisolated(unsafe) var flatQuery: RowCycle?
nonisolated(unsafe) var matrixRows: [Float]?

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration.timeUnits = .microseconds

    // One insert per iteration into an index that already holds 10k vectors
    // (a loaded copy, so its buffers start at exactly 10k: the first insert
    // doubles them, during warm-up; later ones fit until the next doubling).
    // Steady state: no malloc per insert.
    Benchmark("insert-128d-into-10k",
              configuration: .init(metrics: measured, warmupIterations: 10,
                                   maxDuration: .seconds(120), maxIterations: 2_000,
                                   thresholds: allocationThresholds(mallocTolerance: 0))) { benchmark in
        let rows = insertRows!
        let index = insertIndex!
        for _ in benchmark.scaledIterations {
            blackHole(mustSucceed { () throws(EdgeVecError) in try index.add(rows.take()) })
        }
    } setup: {
        insertIndex = loadBaseIndex()
        insertRows = RowCycle(uniformVectors(rows: 4_096, dimension: dimension, seed: 2), dimension: dimension)
    } teardown: {
        insertIndex = nil
        insertRows = nil
    }

    // A whole 2,000-vector index from empty per iteration, freed inside the
    // iteration: every growth step of storage, graph and scratch (×2 each),
    // and the index object itself. The count is fixed by the seed, so a
    // regression of the growth policy shows; memory must all come back.
    Benchmark("insert-128d-build-2k-from-empty",
              configuration: .init(metrics: measured, warmupIterations: 1,
                                   maxDuration: .seconds(120), maxIterations: 5,
                                   thresholds: allocationThresholds(mallocTolerance: 2))) { benchmark in
        let rows = insertRows!
        for _ in benchmark.scaledIterations {
            rows.next = 0
            let index = mustSucceed { () throws(EdgeVecError) in
                try HNSWIndex(dimension: dimension, metric: .l2, configuration: configuration)
            }
            for _ in 0..<2_000 {
                blackHole(mustSucceed { () throws(EdgeVecError) in try index.add(rows.take()) })
            }
            blackHole(index.count)
        }
    } setup: {
        insertRows = RowCycle(uniformVectors(rows: 2_000, dimension: dimension, seed: 2), dimension: dimension)
    } teardown: {
        insertRows = nil
    }

    // 2,000 inserts into an index that reserved room for them (untimed,
    // unmeasured): the inserts alone are measured and must not allocate.
    Benchmark("insert-128d-2k-into-reserved",
              configuration: .init(metrics: measured, warmupIterations: 1,
                                   maxDuration: .seconds(120), maxIterations: 5,
                                   thresholds: allocationThresholds(mallocTolerance: 0))) { benchmark in
        let rows = insertRows!
        rows.next = 0
        let index = mustSucceed { () throws(EdgeVecError) in
            try HNSWIndex(dimension: dimension, metric: .l2, configuration: configuration)
        }
        mustSucceed { () throws(EdgeVecError) in try index.reserveCapacity(2_000) }
        benchmark.startMeasurement()
        for _ in 0..<2_000 {
            blackHole(mustSucceed { () throws(EdgeVecError) in try index.add(rows.take()) })
        }
        benchmark.stopMeasurement()
        blackHole(index.count)
    } setup: {
        insertRows = RowCycle(uniformVectors(rows: 2_000, dimension: dimension, seed: 2), dimension: dimension)
    } teardown: {
        insertRows = nil
    }

    // The insert matrix's N = 1,000 cells (bench/insert/run.py: 128-d, M 16,
    // efConstruction 200, into an empty index): malloc calls of the 1,000
    // inserts alone, counted by the interposer, as a cross-check of the
    // report's LD_PRELOAD counter. Index creation is outside the measured
    // region (as there), and so is the index's release, so these benchmarks
    // record no leak metric.
    for data in ["constant", "uniform"] {
        for (api, rowsPerCall) in [("single", 1), ("batch100", 100), ("batch1000", 1_000)] {
            Benchmark("matrix-\(data)-1k-\(api)",
                      configuration: .init(metrics: [.wallClock, .mallocCountTotal], warmupIterations: 1,
                                           maxDuration: .seconds(60), maxIterations: 5,
                                           thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])])) { benchmark in
                let values = matrixRows!
                let index = mustSucceed { () throws(EdgeVecError) in
                    try HNSWIndex(dimension: dimension, metric: .l2, configuration: configuration)
                }
                benchmark.startMeasurement()
                values.withUnsafeBufferPointer { all in
                    var row = 0
                    while row < 1_000 {
                        let rows = min(rowsPerCall, 1_000 - row)
                        let slice = UnsafeBufferPointer(rebasing: all[row * dimension ..< (row + rows) * dimension])
                        if rows == 1 {
                            blackHole(mustSucceed { () throws(EdgeVecError) in try index.add(slice) })
                        } else {
                            blackHole(mustSucceed { () throws(EdgeVecError) in try index.addBatch(slice) })
                        }
                        row += rows
                    }
                }
                benchmark.stopMeasurement()
                blackHole(index.count)
            } setup: {
                // As `edgevec bench`: every value 0.5, or uniform [0, 1) from data seed 1.
                matrixRows = data == "constant" ? [Float](repeating: 0.5, count: 1_000 * dimension)
                    : uniformVectors(rows: 1_000, dimension: dimension, seed: 1)
            } teardown: {
                matrixRows = nil
            }
        }
    }

    // k 10, ef 64 over the 10k index, into caller buffers: no allocation.
    Benchmark("search-10k-128d-k10-ef64-buffers",
              configuration: .init(metrics: measured, warmupIterations: 10,
                                   maxDuration: .seconds(2), maxIterations: 5_000,
                                   thresholds: allocationThresholds(mallocTolerance: 0))) { benchmark in
        let index = searchIndex!
        let queries = queryRows!
        withResultBuffers { idPointer, distancePointer in
            for _ in benchmark.scaledIterations {
                blackHole(mustSucceed { () throws(EdgeVecError) in
                    try index.search(queries.take(), k: 10, ef: 64, ids: idPointer, distances: distancePointer)
                })
            }
        }
    } setup: {
        prepareSearch()
    } teardown: {
        searchIndex = nil
        queryRows = nil
    }

    // Filtered searches over the same index, every vector with metadata,
    // into caller buffers: no allocation in steady state for any strategy.
    // scan: 2 % match (an exact scan of the matches); walk: 30 % (the
    // two-hop graph walk); mixed: string IN, number != and IS NULL under
    // AND/OR/NOT (every evaluation path: codes, numbers, tags, bitmaps).
    for (name, text) in [("scan", #"group = "g7""#), ("walk", #"n < 300"#),
                         ("mixed", #"(group IN ("g1", "g2", "g3") OR n BETWEEN 10 AND 400) AND NOT (n != 5 AND missing IS NULL)"#)] {
        Benchmark("search-10k-128d-k10-ef64-filter-\(name)",
                  configuration: .init(metrics: measured, warmupIterations: 10,
                                       maxDuration: .seconds(2), maxIterations: 2_000,
                                       thresholds: allocationThresholds(mallocTolerance: 0))) { benchmark in
            let index = searchIndex!
            let queries = queryRows!
            let filter = benchFilter!
            withResultBuffers { idPointer, distancePointer in
                for _ in benchmark.scaledIterations {
                    blackHole(mustSucceed { () throws(EdgeVecError) in
                        try index.search(queries.take(), k: 10, ef: 64, filter: filter, ids: idPointer, distances: distancePointer)
                    })
                }
            }
        } setup: {
            prepareSearch()
            benchFilter = mustSucceed { () throws(EdgeVecError) in try Filter(text) }
            let index = searchIndex!
            for id in 0..<UInt64(index.count) {
                mustSucceed { () throws(EdgeVecError) in
                    try index.setMetadata(["group": .string("g\(id % 50)"), "n": .integer(Int64(id % 1_000))], for: id)
                }
            }
        } teardown: {
            searchIndex = nil
            queryRows = nil
            benchFilter = nil
        }
    }

    // The same search returning [SearchResult]: one allocation, the array
    // (stored p90 1, tolerance 0).
    Benchmark("search-10k-128d-k10-ef64-array",
              configuration: .init(metrics: measured, warmupIterations: 10,
                                   maxDuration: .seconds(2), maxIterations: 5_000,
                                   thresholds: allocationThresholds(mallocTolerance: 0))) { benchmark in
        let index = searchIndex!
        let queries = queryRows!
        for _ in benchmark.scaledIterations {
            blackHole(mustSucceed { () throws(EdgeVecError) in try index.search(queries.take(), k: 10, ef: 64) })
        }
    } setup: {
        prepareSearch()
    } teardown: {
        searchIndex = nil
        queryRows = nil
    }

    // Distance kernels, measured through the public API: one exact search
    // (k 1) over a FlatIndex of 1,000 vectors is 1,000 distances plus one
    // comparison each, so the time per iteration in ns / 1000 ≈ ns per
    // distance (plus one query check and copy, ~1/1000 of the work). The kernels themselves are not
    // public, and a nested package cannot see `package` declarations.
    for metric in [Metric.l2, .dot] {
        for d in [128, 384] {
            Benchmark("distance-\(metric.name)-\(d)d-flat-1000",
                      configuration: .init(metrics: measured, timeUnits: .nanoseconds, warmupIterations: 10,
                                           maxDuration: .seconds(1), maxIterations: 5_000,
                                           thresholds: allocationThresholds(mallocTolerance: 0))) { benchmark in
                let index = flatIndex!
                let queries = flatQuery!
                var id: UInt64 = 0
                var distance: Float = 0
                for _ in benchmark.scaledIterations {
                    blackHole(mustSucceed { () throws(EdgeVecError) in
                        try index.search(queries.take(), k: 1, ids: &id, distances: &distance)
                    })
                }
            } setup: {
                let index = mustSucceed { () throws(EdgeVecError) in try FlatIndex(dimension: d, metric: metric) }
                mustSucceed { () throws(EdgeVecError) in
                    try index.addBatch(uniformVectors(rows: 1_000, dimension: d, seed: 5))
                }
                flatIndex = index
                flatQuery = RowCycle(uniformVectors(rows: 64, dimension: d, seed: 6), dimension: d)
            } teardown: {
                flatIndex = nil
                flatQuery = nil
            }
        }
    }
}

/// Room for 10 results on the stack (no allocation in the measured region).
func withResultBuffers(_ body: (UnsafeMutablePointer<UInt64>, UnsafeMutablePointer<Float>) -> Void) {
    var ids = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
    var distances = (Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0))
    withUnsafeMutableBytes(of: &ids) { idBytes in
        withUnsafeMutableBytes(of: &distances) { distanceBytes in
            body(idBytes.baseAddress!.assumingMemoryBound(to: UInt64.self),
                 distanceBytes.baseAddress!.assumingMemoryBound(to: Float.self))
        }
    }
}

func prepareSearch() {
    if searchIndex == nil { searchIndex = loadBaseIndex() }
    if queryRows == nil {
        queryRows = RowCycle(uniformVectors(rows: 1_000, dimension: dimension, seed: 3), dimension: dimension)
    }
}
