import EdgeVec
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Shared helpers for the suite: a seeded generator, synthetic clustered data,
// brute-force ground truth, snapshots of an index for "unchanged" checks, a
// CRC-32C for crafting corrupt files, and a counting/failing allocator.

// MARK: - Deterministic random numbers

/// SplitMix64, written here independently of the core's generator so the test
/// data does not depend on the code under test.
struct TestRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform integer in 0..<bound.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// Standard normal (Box–Muller).
    mutating func gaussian() -> Float {
        let u1 = max(unit(), 0x1p-60)
        let u2 = unit()
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
}

// MARK: - Synthetic data

/// Row-major vectors: `values[i * dimension ..< (i + 1) * dimension]` is row `i`.
struct Rows: Sendable {
    let dimension: Int
    var values: [Float]

    var count: Int { values.count / dimension }

    subscript(row: Int) -> [Float] {
        Array(values[row * dimension ..< (row + 1) * dimension])
    }
}

/// Gaussian clusters: random centres, per-cluster spread, and queries drawn
/// from the same mixture (so they are near the data but never equal to it).
struct ClusteredData: Sendable {
    let data: Rows
    let queries: Rows

    init(count: Int, queries queryCount: Int, dimension: Int, clusters: Int, seed: UInt64) {
        var rng = TestRandom(seed: seed)
        var centres: [Float] = []
        var spreads: [Float] = []
        for _ in 0..<clusters {
            for _ in 0..<dimension { centres.append(rng.gaussian() * 2) }
            spreads.append(Float(0.25 + 0.5 * rng.unit()))
        }
        func draw(_ n: Int) -> Rows {
            var values: [Float] = []
            values.reserveCapacity(n * dimension)
            for _ in 0..<n {
                let c = rng.below(clusters)
                for d in 0..<dimension { values.append(centres[c * dimension + d] + spreads[c] * rng.gaussian()) }
            }
            return Rows(dimension: dimension, values: values)
        }
        data = draw(count)
        queries = draw(queryCount)
    }

    /// The recall workload: 10,000 vectors, dimension 32, 50 clusters, 200 queries.
    static let standard = ClusteredData(count: 10_000, queries: 200, dimension: 32, clusters: 50, seed: 0xED6E_7EC0)
}

/// Uniform random rows in [−1, 1).
func uniformRows(count: Int, dimension: Int, seed: UInt64) -> Rows {
    var rng = TestRandom(seed: seed)
    var values: [Float] = []
    values.reserveCapacity(count * dimension)
    for _ in 0..<count * dimension { values.append(Float(rng.unit() * 2 - 1)) }
    return Rows(dimension: dimension, values: values)
}

// MARK: - Ground truth

/// `Metric.distance` between row `i` of `rows` and `query`.
func referenceDistance(_ metric: Metric, _ rows: Rows, _ i: Int, _ query: [Float]) -> Float {
    rows.values.withUnsafeBufferPointer { all in
        query.withUnsafeBufferPointer { q in
            metric.distance(UnsafeBufferPointer(rebasing: all[i * rows.dimension ..< (i + 1) * rows.dimension]), q)
        }
    }
}

/// Exact distances from `query` to every row.
func allDistances(_ metric: Metric, _ rows: Rows, _ query: [Float]) -> [Float] {
    rows.values.withUnsafeBufferPointer { all in
        query.withUnsafeBufferPointer { q in
            (0..<rows.count).map { i in
                metric.distance(UnsafeBufferPointer(rebasing: all[i * rows.dimension ..< (i + 1) * rows.dimension]), q)
            }
        }
    }
}

/// Recall@k against brute force, counting ties at the k-th distance as hits:
/// a returned id counts when its exact distance is within the exact top-k radius.
func tieAwareRecall(_ results: [SearchResult], exact distances: [Float], k: Int) -> Double {
    let radius = distances.sorted()[k - 1]
    let slack = max(abs(radius), 1) * 1e-5
    let hits = Set(results.map(\.row)).filter { distances[$0] <= radius + slack }.count
    return Double(min(hits, k)) / Double(k)
}

/// `actual` within a relative tolerance of `expected` (absolute near zero).
func close(_ actual: Float, _ expected: Float, tolerance: Float = 1e-4) -> Bool {
    abs(actual - expected) <= tolerance * max(1, abs(expected))
}

// MARK: - Building

func makeHNSW(_ rows: Rows, metric: Metric, m: Int = 16, efConstruction: Int = 200, seed: UInt64 = 42,
              allocator: RawAllocator? = nil) throws -> HNSWIndex {
    let configuration = HNSWConfiguration(m: m, efConstruction: efConstruction, seed: seed)
    let index = try allocator.map {
        try HNSWIndex(dimension: rows.dimension, metric: metric, configuration: configuration, allocator: $0)
    } ?? HNSWIndex(dimension: rows.dimension, metric: metric, configuration: configuration)
    if rows.count > 0 { try index.addBatch(rows.values) }
    return index
}

// MARK: - Snapshots

/// Everything observable about an index's graph, for equality checks.
struct GraphSnapshot: Equatable, CustomStringConvertible {
    var count: Int
    var entryPoint: Int
    var maxLevel: Int
    var levels: [Int]
    /// `neighbors[node][layer]`.
    var neighbors: [[[Int]]]

    init(_ index: HNSWIndex) {
        count = index.count
        entryPoint = index.entryPoint
        maxLevel = index.maxLevel
        levels = (0..<index.count).map { index.level(of: $0) }
        neighbors = (0..<index.count).map { id in
            (0...index.level(of: id)).map { index.neighbors(of: id, layer: $0) }
        }
    }

    var description: String { "GraphSnapshot(count: \(count), entryPoint: \(entryPoint), maxLevel: \(maxLevel))" }
}

/// Search results for a fixed set of queries (all k ≤ 10, default ef and ef 128).
func probe(_ index: HNSWIndex, _ queries: Rows, k: Int = 10) throws -> [[SearchResult]] {
    var out: [[SearchResult]] = []
    for q in 0..<queries.count {
        out.append(try index.search(queries[q], k: k))
        out.append(try index.search(queries[q], k: k, ef: 128))
    }
    return out
}

func probe(_ index: FlatIndex, _ queries: Rows, k: Int = 10) throws -> [[SearchResult]] {
    try (0..<queries.count).map { try index.search(queries[$0], k: k) }
}

/// Results are sorted ascending, ids distinct and in range.
func expectWellFormed(_ results: [SearchResult], count: Int, sourceLocation: SourceLocation = #_sourceLocation) {
    for i in results.indices.dropFirst() {
        #expect(results[i - 1].distance <= results[i].distance, "not sorted at \(i)", sourceLocation: sourceLocation)
    }
    #expect(Set(results.map(\.id)).count == results.count, "duplicate ids", sourceLocation: sourceLocation)
    #expect(results.allSatisfy { $0.id >= 0 && $0.id < count }, "id out of range", sourceLocation: sourceLocation)
}

// MARK: - Errors

/// Runs `body` and returns the `EdgeVecError` it throws, or nil (recording an
/// issue) when it returns normally.
func thrownError<R>(sourceLocation: SourceLocation = #_sourceLocation,
                    _ body: () throws(EdgeVecError) -> R) -> EdgeVecError? {
    do {
        _ = try body()
        Issue.record("expected an EdgeVecError, but the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

// MARK: - CRC-32C (bitwise, for re-sealing crafted files)

func crc32c(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
    }
    return crc ^ 0xFFFF_FFFF
}

extension Array where Element == UInt8 {
    func u32(at offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(self[offset + $1]) << (8 * $1) }
    }

    func u64(at offset: Int) -> UInt64 {
        (0..<8).reduce(0) { $0 | UInt64(self[offset + $1]) << (8 * $1) }
    }

    mutating func setU32(_ value: UInt32, at offset: Int) {
        for i in 0..<4 { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }

    mutating func setU64(_ value: UInt64, at offset: Int) {
        for i in 0..<8 { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }

    /// Recomputes both checksums of an EdgeVec v1 file (header CRC at 92, trailer CRC at the end).
    mutating func reseal() {
        setU32(crc32c(self[0..<92]), at: 92)
        setU32(crc32c(self[0..<(count - 4)]), at: count - 4)
    }
}

/// Offsets inside an EdgeVec file (HNSW or flat, versions 1–3), from the documented layout.
struct FileLayout {
    let count: Int
    let dimension: Int
    let m: Int
    let upperWords: Int
    let version: UInt32
    let removedCount: Int
    let flat: Bool
    let bodyBytes: Int

    init(_ bytes: [UInt8]) {
        version = bytes.u32(at: 8)
        flat = bytes.u32(at: 12) == 1
        dimension = Int(bytes.u32(at: 20))
        count = Int(bytes.u64(at: 24))
        m = Int(bytes.u32(at: 32))
        removedCount = version >= 2 ? Int(bytes.u32(at: 68)) : 0
        upperWords = Int(bytes.u64(at: 72))
        bodyBytes = Int(bytes.u64(at: 80))
    }

    static let header = 96
    var vectors: Int { FileLayout.header }
    func vector(_ id: Int) -> Int { vectors + id * dimension * 4 }
    var levels: Int { vectors + count * dimension * 4 }
    /// Layer-0 tree parents, one word per node.
    var parents: Int { levels + ((count + 3) & ~3) }
    var layer0: Int { parents + count * 4 }
    /// Offset of node `id`'s layer-0 block (count word, then ids).
    func block0(_ id: Int) -> Int { layer0 + id * (1 + 2 * m) * 4 }
    var upper: Int { layer0 + count * (1 + 2 * m) * 4 }
    /// Version 2: the next id (u64), one id per slot (u64), the free slots (u32).
    var nextID: Int { flat ? levels : upper + upperWords * 4 }
    func id(_ slot: Int) -> Int { nextID + 8 + slot * 8 }
    var free: Int { id(count) }
    /// Version 3: the metadata section, the rest of the body.
    var metadata: Int { free + removedCount * 4 }
    var trailer: Int { version >= 3 ? FileLayout.header + bodyBytes : version == 2 ? metadata : nextID }
}

// MARK: - A counting allocator that can be told to fail

/// Shared state of a `TestAllocator`, reached through the allocator's context.
struct TestAllocatorState {
    /// Successful allocations still allowed; negative for no limit.
    var allowance = -1
    /// Live bytes allowed; negative for no limit.
    var byteBudget = -1
    var liveBytes = 0
    var liveBlocks = 0
    var allocations = 0
    var failures = 0
    var releases = 0
}

/// Owns a `TestAllocatorState` and vends `RawAllocator`s over it. Keep the
/// owner alive (and the state readable) after the index that used it is gone.
final class TestAllocator {
    let state: UnsafeMutablePointer<TestAllocatorState>

    init() {
        state = .allocate(capacity: 1)
        state.initialize(to: TestAllocatorState())
    }

    deinit {
        state.deinitialize(count: 1)
        state.deallocate()
    }

    var allocator: RawAllocator {
        RawAllocator(
            kind: .system, context: UnsafeMutableRawPointer(state),
            allocate: { context, byteCount, alignment in
                let s = context!.assumingMemoryBound(to: TestAllocatorState.self)
                guard let size = Int(exactly: byteCount) else {
                    s.pointee.failures += 1
                    return nil
                }
                if s.pointee.allowance == 0
                    || (s.pointee.byteBudget >= 0 && s.pointee.liveBytes + size > s.pointee.byteBudget) {
                    s.pointee.failures += 1
                    return nil
                }
                if s.pointee.allowance > 0 { s.pointee.allowance -= 1 }
                s.pointee.allocations += 1
                s.pointee.liveBlocks += 1
                s.pointee.liveBytes += size
                return UnsafeMutableRawPointer.allocate(byteCount: max(size, 1), alignment: max(alignment, 16))
            },
            deallocate: { context, pointer, size in
                let s = context!.assumingMemoryBound(to: TestAllocatorState.self)
                s.pointee.liveBlocks -= 1
                s.pointee.liveBytes -= Int(size)
                pointer.deallocate()
            },
            release: { context in
                context!.assumingMemoryBound(to: TestAllocatorState.self).pointee.releases += 1
            })
    }

    /// Allow this many more successful allocations (nil: no limit).
    func allow(_ allocations: Int?) { state.pointee.allowance = allocations ?? -1 }
    /// Cap live bytes (nil: no cap).
    func budget(_ bytes: Int?) { state.pointee.byteBudget = bytes ?? -1 }

    var liveBlocks: Int { state.pointee.liveBlocks }
    var liveBytes: Int { state.pointee.liveBytes }
    var failures: Int { state.pointee.failures }
    var releases: Int { state.pointee.releases }
    var allocations: Int { state.pointee.allocations }
}

extension SearchResult {
    /// The id as a row number of the test data (ids are the rows unless a test chooses its own).
    var row: Int { Int(id) }
}

// MARK: - Both index types behind one protocol

/// The API `HNSWIndex` and `FlatIndex` share, so behaviour tests run on both.
protocol TestIndex: AnyObject {
    var count: Int { get }
    var dimension: Int { get }
    var metric: Metric { get }
    @discardableResult func add(_ vector: [Float]) throws(EdgeVecError) -> UInt64
    @discardableResult func addBatch(_ vectors: [Float]) throws(EdgeVecError) -> UInt64
    func search(_ query: [Float], k: Int, ef: Int?) throws(EdgeVecError) -> [SearchResult]
    func serialized() -> [UInt8]
}

extension HNSWIndex: TestIndex {
    @discardableResult func add(_ vector: [Float]) throws(EdgeVecError) -> UInt64 { try add(vector, id: nil) }
    @discardableResult func addBatch(_ vectors: [Float]) throws(EdgeVecError) -> UInt64 { try addBatch(vectors, ids: nil) }
}
extension FlatIndex: TestIndex {
    @discardableResult func add(_ vector: [Float]) throws(EdgeVecError) -> UInt64 { try add(vector, id: nil) }
    @discardableResult func addBatch(_ vectors: [Float]) throws(EdgeVecError) -> UInt64 { try addBatch(vectors, ids: nil) }
}

extension TestIndex {
    func find(_ query: [Float], k: Int, ef: Int? = nil) throws(EdgeVecError) -> [SearchResult] {
        try search(query, k: k, ef: ef)
    }
}

enum IndexKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case hnsw, flat

    var testDescription: String { rawValue }

    func make(dimension: Int, metric: Metric, m: Int = 8, efConstruction: Int = 64,
              allocator: RawAllocator? = nil) throws(EdgeVecError) -> any TestIndex {
        switch self {
        case .hnsw:
            let configuration = HNSWConfiguration(m: m, efConstruction: efConstruction)
            if let allocator {
                return try HNSWIndex(dimension: dimension, metric: metric, configuration: configuration,
                                     allocator: allocator)
            }
            return try HNSWIndex(dimension: dimension, metric: metric, configuration: configuration)
        case .flat:
            if let allocator { return try FlatIndex(dimension: dimension, metric: metric, allocator: allocator) }
            return try FlatIndex(dimension: dimension, metric: metric)
        }
    }
}

/// Observable state of either index type: count, the serialized bytes (which
/// include every vector, level and neighbour list), and probe results.
struct IndexState: Equatable {
    var count: Int
    var bytes: [UInt8]
    var results: [[SearchResult]]

    init(_ index: any TestIndex, queries: Rows) throws {
        count = index.count
        bytes = index.serialized()
        results = try (0..<queries.count).map { try index.find(queries[$0], k: 5) }
    }
}
