// Builds an HNSW index over a few thousand random vectors, searches it, and
// measures recall@10 against brute force. Exits with status 1 when recall is
// below 0.9.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import EdgeVecSearch
import EdgeVecStorage

/// SplitMix64, seeded, so every run sees the same data.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Roughly normal (sum of four uniforms), without a math library.
    mutating func noise() -> Float {
        var s: Float = 0
        for _ in 0..<4 { s += Float.random(in: -1...1, using: &self) }
        return s * 0.5
    }
}

/// `count` vectors scattered around `centres`, like embeddings of a few topics.
func clusteredVectors(_ count: Int, around centres: [[Float]], _ rng: inout SeededGenerator) -> [[Float]] {
    (0..<count).map { _ in
        let centre = centres[Int.random(in: 0..<centres.count, using: &rng)]
        return centre.map { $0 + 0.7 * rng.noise() }
    }
}

/// Ids of the `k` vectors of `base` nearest to `query`, by brute force.
func exactNeighbors(of query: [Float], in base: [[Float]], k: Int, metric: Metric) -> [Int] {
    var scored: [(distance: Float, id: Int)] = []
    scored.reserveCapacity(base.count)
    query.withUnsafeBufferPointer { q in
        for (id, vector) in base.enumerated() {
            scored.append((vector.withUnsafeBufferPointer { metric.distance(q, $0) }, id))
        }
    }
    scored.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.id < $1.id) }
    return scored.prefix(k).map(\.id)
}

func runExample() throws(EdgeVecError) -> Double {
    let dimension = 48, baseCount = 4000, queryCount = 100, k = 10
    let metric = Metric.cosine
    var rng = SeededGenerator(state: 7)
    let centres = (0..<24).map { _ in (0..<dimension).map { _ in rng.noise() } }
    let base = clusteredVectors(baseCount, around: centres, &rng)
    let queries = clusteredVectors(queryCount, around: centres, &rng)

    let index = try HNSWIndex(dimension: dimension, metric: metric,
                              configuration: HNSWConfiguration(m: 16, efConstruction: 200, efSearch: 64, seed: 42))
    let clock = ContinuousClock()
    let start = clock.now
    for vector in base { try index.add(vector) }
    let built = clock.now
    var results: [[SearchResult]] = []
    for query in queries { results.append(try index.search(query, k: k)) }
    let searched = clock.now

    var hits = 0
    for (query, found) in zip(queries, results) {
        let truth = Set(exactNeighbors(of: query, in: base, k: k, metric: metric))
        hits += found.filter { truth.contains(Int($0.id)) }.count
    }
    let recall = Double(hits) / Double(queryCount * k)

    print("EdgeVec example: \(baseCount) vectors of \(dimension) floats, metric \(metric.name)")
    print("storage stride: \(VectorStorage.stride(forDimension: dimension)) floats per vector (zero-padded for SIMD)")
    print("index: \(index.count) vectors, \(index.allocatedBytes) bytes, top level \(index.maxLevel)")
    print("build: \(built - start); \(queryCount) searches (k \(k), ef 64): \(searched - built)")
    if let nearest = results.first?.first {
        print("nearest to query 0: id \(nearest.id) at distance \(nearest.distance)")
    }
    print("recall@\(k): \(recall)")
    return recall
}

do throws(EdgeVecError) {
    let recall = try runExample()
    if recall < 0.9 {
        print("FAIL: recall below 0.9")
        exit(1)
    }
} catch {
    print("EdgeVec error: \(error.message)")
    exit(1)
}
