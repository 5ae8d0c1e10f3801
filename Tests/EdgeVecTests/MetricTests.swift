import EdgeVec
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What each metric's distance means, through `Metric.distance` and through
/// both index types.
@Suite("Metric semantics")
struct MetricTests {
    static func distance(_ metric: Metric, _ a: [Float], _ b: [Float]) -> Float {
        a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in metric.distance(x, y) } }
    }

    @Test("Metric.distance reference values")
    func referenceValues() {
        #expect(Self.distance(.l2, [0, 0], [3, 4]) == 25)
        #expect(Self.distance(.l2, [1, 2, 3], [1, 2, 3]) == 0)
        #expect(Self.distance(.dot, [1, 2, 3], [4, -5, 6]) == -12)
        #expect(Self.distance(.dot, [2, 0], [3, 0]) == -6)
        #expect(abs(Self.distance(.cosine, [1, 0], [0, 5])) - 1 < 1e-6)
        #expect(abs(Self.distance(.cosine, [1, 1], [3.7, 3.7])) < 1e-6)
        #expect(abs(Self.distance(.cosine, [1, 0], [-2, 0]) - 2) < 1e-6)
        // Documented: cosine with a zero vector is 1.
        #expect(Self.distance(.cosine, [0, 0], [1, 0]) == 1)
    }

    @Test("Metric names round-trip")
    func names() {
        for metric in Metric.allCases { #expect(Metric(name: metric.name) == metric) }
        #expect(Metric(name: "euclidean") == nil)
        #expect(Metric.allCases.map(\.name) == ["l2", "cosine", "dot"])
    }

    @Test("l2 is the squared Euclidean distance")
    func l2Squared() throws {
        let hnsw = try HNSWIndex(dimension: 2, metric: .l2)
        try hnsw.add([0, 0])
        try hnsw.add([10, 10])
        let r = try hnsw.search([3, 4], k: 2)
        #expect(r == [SearchResult(id: 0, distance: 25), SearchResult(id: 1, distance: 49 + 36)])

        let flat = try FlatIndex(dimension: 2, metric: .l2)
        try flat.add([0, 0])
        try flat.add([10, 10])
        #expect(try flat.search([3, 4], k: 2) == r)
    }

    @Test("l2 distances on padded dimensions (not multiples of 16)", arguments: [1, 7, 15, 16, 17, 33, 100])
    func l2Padding(dimension: Int) throws {
        let rows = uniformRows(count: 40, dimension: dimension, seed: UInt64(dimension))
        let hnsw = try makeHNSW(rows, metric: .l2, m: 4, efConstruction: 50)
        let flat = try FlatIndex(dimension: dimension, metric: .l2)
        try flat.addBatch(rows.values)
        let query = uniformRows(count: 1, dimension: dimension, seed: 999)[0]
        let exact = allDistances(.l2, rows, query)
        for r in try flat.search(query, k: 40) { #expect(close(r.distance, exact[r.row])) }
        for r in try hnsw.search(query, k: 40, ef: 100) { #expect(close(r.distance, exact[r.row])) }
    }

    @Test("cosine: a scaled copy of a stored vector is at distance 0")
    func cosineScaled() throws {
        let rows = uniformRows(count: 300, dimension: 12, seed: 3)
        let hnsw = try makeHNSW(rows, metric: .cosine, m: 8, efConstruction: 64)
        let flat = try FlatIndex(dimension: 12, metric: .cosine)
        try flat.addBatch(rows.values)
        for target in [0, 17, 299] {
            let scaled = rows[target].map { $0 * 3.7 }
            for results in [try hnsw.search(scaled, k: 3), try flat.search(scaled, k: 3)] {
                #expect(results.first?.row == target)
                #expect(abs(results.first?.distance ?? 1) < 1e-5)
            }
            // And the opposite direction is at distance 2 from it.
            let opposite = rows[target].map { -$0 * 0.01 }
            let far = try flat.search(opposite, k: 300).last!
            #expect(far.id == target)
            #expect(abs(far.distance - 2) < 1e-5)
        }
    }

    @Test("cosine distances ignore the length of stored vectors and queries")
    func cosineScaleInvariant() throws {
        let index = try HNSWIndex(dimension: 3, metric: .cosine)
        try index.add([1, 0, 0])
        try index.add([0, 1000, 0])
        try index.add([0.001, 0.001, 0])
        let r = try index.search([0, 0.5, 0], k: 3)
        #expect(r.map(\.id) == [1, 2, 0])
        #expect(abs(r[0].distance) < 1e-6)
        #expect(abs(r[1].distance - (1 - 1 / Float(2).squareRoot())) < 1e-5)
        #expect(abs(r[2].distance - 1) < 1e-6)
    }

    @Test("cosine accepts tiny but non-zero vectors (subnormal components)", arguments: IndexKind.allCases)
    func cosineTinyVectors(kind: IndexKind) throws {
        // A subnormal Float (about 1e-40) is finite and non-zero, so it is valid
        // input. Normalised it is (1, 0, 0, 0); nothing may become NaN or infinite.
        let tiny = Float.leastNormalMagnitude / 100_000
        #expect(tiny.isSubnormal && tiny > 0)
        let index = try kind.make(dimension: 4, metric: .cosine)
        try index.add([0, 1, 0, 0])
        try index.add([tiny, 0, 0, 0])
        let r = try index.find([1, 0, 0, 0], k: 2)
        #expect(r.count == 2)
        #expect(r.first?.id == 1, "\(r)")
        #expect(r.allSatisfy { $0.distance.isFinite }, "\(r)")
        #expect(abs(r.first?.distance ?? 1) < 1e-5, "\(r)")
        // The same kind of tiny vector as a query.
        let q = try index.find([0, tiny, 0, 0], k: 2)
        #expect(q.first?.id == 0, "\(q)")
        #expect(q.allSatisfy { $0.distance.isFinite }, "\(q)")
        #expect(abs(q.first?.distance ?? 1) < 1e-5, "\(q)")
    }

    @Test("dot distance is the negative inner product")
    func dotNegative() throws {
        let hnsw = try HNSWIndex(dimension: 3, metric: .dot)
        let flat = try FlatIndex(dimension: 3, metric: .dot)
        let vectors: [[Float]] = [[1, 2, 3], [-1, 0, 1], [10, 0, 0], [0, 0, 0]]
        for v in vectors {
            try hnsw.add(v)
            try flat.add(v)
        }
        let query: [Float] = [1, 1, 1]
        // Inner products: 6, 0, 10, 0 → distances −10, −6, 0, 0.
        let expected = [SearchResult(id: 2, distance: -10), SearchResult(id: 0, distance: -6)]
        #expect(try hnsw.search(query, k: 2) == expected)
        #expect(try flat.search(query, k: 2) == expected)
        let all = try flat.search(query, k: 4)
        #expect(all.map(\.distance) == [-10, -6, 0, 0])
        #expect(Set(all.suffix(2).map(\.id)) == [1, 3])
        // Dot does not normalise: the zero vector is allowed and scaling matters.
        #expect(try hnsw.search([2, 2, 2], k: 1) == [SearchResult(id: 2, distance: -20)])
    }
}

@Suite("Distance kernels")
struct KernelTests {
    @Test("The dispatched kernels agree with the portable Swift SIMD kernels", arguments: Metric.allCases)
    func kernelsAgree(metric: Metric) {
        var rng = TestRandom(seed: 2024)
        for padded in [16, 32, 48, 128, 384, 400] {
            let a = (0..<padded).map { _ in Float(rng.gaussian()) }
            let b = (0..<padded).map { _ in Float(rng.gaussian()) }
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    let fast = metric._kernelDistance(pa.baseAddress!, pb.baseAddress!, paddedCount: padded, portable: false)
                    let portable = metric._kernelDistance(pa.baseAddress!, pb.baseAddress!, paddedCount: padded, portable: true)
                    let reference = metric == .l2 ? metric.distance(pa, pb) : metric == .dot
                        ? metric.distance(pa, pb) : 1 - zip(a, b).map { $0 * $1 }.reduce(0, +)
                    let tolerance = 1e-4 * max(1, abs(reference))
                    #expect(abs(fast - reference) <= tolerance, "\(metric) n=\(padded): \(fast) vs \(reference)")
                    #expect(abs(portable - reference) <= tolerance, "\(metric) n=\(padded): \(portable) vs \(reference)")
                }
            }
        }
        #expect(["avx512", "avx2+fma", "sse", "swift-simd"].contains(DistanceKernels.instructionSet))
    }

    /// `make test` runs this suite again with EDGEVEC_KERNELS=sse and =avx2, so
    /// the test above checks the narrower x86 kernels too, not only the CPU's best.
    @Test("EDGEVEC_KERNELS selects the x86 kernel level, never above what the CPU runs")
    func environmentSelectsLevel() {
        #if arch(x86_64) && os(Linux)
        let order = ["sse", "avx2+fma", "avx512"]
        guard let raw = getenv("EDGEVEC_KERNELS") else { return }
        let requested = ["sse": 0, "avx2": 1, "avx512": 2][String(cString: raw)]
        guard let requested, let running = order.firstIndex(of: DistanceKernels.instructionSet) else {
            Issue.record("EDGEVEC_KERNELS=\(String(cString: raw)), kernels \(DistanceKernels.instructionSet)")
            return
        }
        #expect(running <= requested, "asked for \(order[requested]), running \(order[running])")
        if requested == 0 { #expect(running == 0) }   // every x86_64 CPU runs SSE
        #endif
    }
}
