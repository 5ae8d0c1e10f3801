import EdgeVec
import Testing

/// Same seed and inserts give the same graph; ids are sequential; batches
/// equal single inserts.
@Suite("Determinism")
struct DeterminismTests {
    static let data = ClusteredData(count: 1500, queries: 40, dimension: 16, clusters: 15, seed: 1234)

    @Test("Same seed, same inserts: identical graphs and results", arguments: Metric.allCases)
    func sameSeed(metric: Metric) throws {
        let a = try makeHNSW(Self.data.data, metric: metric, m: 8, efConstruction: 80, seed: 99)
        let b = try makeHNSW(Self.data.data, metric: metric, m: 8, efConstruction: 80, seed: 99)
        #expect(GraphSnapshot(a) == GraphSnapshot(b))
        #expect(try probe(a, Self.data.queries) == probe(b, Self.data.queries))
        #expect(a.serialized() == b.serialized())
    }

    @Test("A different seed gives different levels")
    func differentSeed() throws {
        let a = try makeHNSW(Self.data.data, metric: .l2, m: 8, efConstruction: 40, seed: 1)
        let b = try makeHNSW(Self.data.data, metric: .l2, m: 8, efConstruction: 40, seed: 2)
        #expect(GraphSnapshot(a).levels != GraphSnapshot(b).levels)
        #expect(a.configuration.seed == 1 && b.configuration.seed == 2)
    }

    @Test("Searching does not change the index")
    func searchIsPure() throws {
        let index = try makeHNSW(Self.data.data, metric: .cosine, m: 8, efConstruction: 60)
        let before = GraphSnapshot(index)
        let first = try probe(index, Self.data.queries)
        _ = try index.search(Self.data.queries[0], k: 500, ef: 2000)
        _ = try index.search(Self.data.queries[1], k: 1, ef: 1)
        #expect(GraphSnapshot(index) == before)
        #expect(try probe(index, Self.data.queries) == first)
    }

    /// The heaps compare (distance, id) as one integer key; the order must be
    /// the float order across negative, zero (−0 from dot products of
    /// orthogonal vectors included), positive and tied distances.
    @Test("Results come nearest first, ties by id, across negative and zero distances",
          arguments: IndexKind.allCases)
    func resultOrder(kind: IndexKind) throws {
        let index = try kind.make(dimension: 2, metric: .dot)
        let rows: [[Float]] = [[1, 0], [0, 1], [-1, 0], [2, 0], [0, -1], [1, 0], [0, 2], [-2, 0], [0, 1],
                               [0.5, 3], [3, 0], [-3, 0]]
        for row in rows { try index.add(row) }
        let query: [Float] = [1, 0]
        let expected = rows.indices
            .map { SearchResult(id: UInt64($0), distance: -(rows[$0][0] * query[0] + rows[$0][1] * query[1])) }
            .sorted { ($0.distance, $0.id) < ($1.distance, $1.id) }
        let all = try index.find(query, k: rows.count, ef: 64)
        #expect(all == expected)
        #expect(all.map(\.id) == [10, 3, 0, 5, 9, 1, 4, 6, 8, 2, 7, 11])
        // Keeping fewer than all: the same prefix, the tie at distance −1 cut by id.
        #expect(try index.find(query, k: 3, ef: 64) == Array(expected.prefix(3)))
    }

    @Test("Ids are 0-based and sequential", arguments: IndexKind.allCases)
    func sequentialIds(kind: IndexKind) throws {
        let index = try kind.make(dimension: 16, metric: .l2)
        for i in 0..<50 { #expect(try index.add(Self.data.data[i]) == i) }
        #expect(index.count == 50)
        // A batch returns the id of its first row.
        let batch = Array(Self.data.data.values[50 * 16 ..< 80 * 16])
        #expect(try index.addBatch(batch) == 50)
        #expect(index.count == 80)
        // An empty batch adds nothing and returns the next id.
        #expect(try index.addBatch([]) == 80)
        #expect(index.count == 80)
        #expect(try index.add(Self.data.data[80]) == 80)
        // Each stored vector is found under its own id.
        for i in [0, 49, 50, 79, 80] {
            #expect(try index.find(Self.data.data[i], k: 1, ef: 200).first?.row == i)
        }
    }

    @Test("addBatch builds the same graph as single adds", arguments: Metric.allCases)
    func batchEqualsSingles(metric: Metric) throws {
        let configuration = HNSWConfiguration(m: 6, efConstruction: 50, seed: 2024)
        let singles = try HNSWIndex(dimension: 16, metric: metric, configuration: configuration)
        for i in 0..<Self.data.data.count { try singles.add(Self.data.data[i]) }

        // One big batch.
        let batched = try HNSWIndex(dimension: 16, metric: metric, configuration: configuration)
        #expect(try batched.addBatch(Self.data.data.values) == 0)

        // Uneven batches mixed with single adds.
        let mixed = try HNSWIndex(dimension: 16, metric: metric, configuration: configuration)
        var next = 0
        var size = 1
        while next < Self.data.data.count {
            let end = min(next + size, Self.data.data.count)
            if size % 2 == 0 {
                #expect(try mixed.add(Self.data.data[next]) == next)
                next += 1
            } else {
                #expect(try mixed.addBatch(Array(Self.data.data.values[next * 16 ..< end * 16])) == next)
                next = end
            }
            size = size * 3 % 97 + 1
        }

        let expected = GraphSnapshot(singles)
        #expect(GraphSnapshot(batched) == expected)
        #expect(GraphSnapshot(mixed) == expected)
        let results = try probe(singles, Self.data.queries)
        #expect(try probe(batched, Self.data.queries) == results)
        #expect(try probe(mixed, Self.data.queries) == results)
    }

    @Test("The buffer and pointer search variants agree with the array variant", arguments: Metric.allCases)
    func searchVariants(metric: Metric) throws {
        let index = try makeHNSW(Self.data.data, metric: metric, m: 8, efConstruction: 60)
        let flat = try FlatIndex(dimension: 16, metric: metric)
        try flat.addBatch(Self.data.data.values)
        for q in 0..<10 {
            let query = Self.data.queries[q]
            let reference = try index.search(query, k: 7, ef: 50)
            let flatReference = try flat.search(query, k: 7)
            var ids = [UInt64](repeating: .max, count: 8)
            var distances = [Float](repeating: .nan, count: 8)
            let n = try query.withUnsafeBufferPointer { q throws(EdgeVecError) in
                try index.search(q, k: 7, ef: 50, ids: &ids, distances: &distances)
            }
            #expect(n == 7)
            #expect(Array(ids.prefix(7)) == reference.map(\.id))
            #expect(Array(distances.prefix(7)) == reference.map(\.distance))
            #expect(ids[7] == .max, "wrote past k")
            let m = try query.withUnsafeBufferPointer { q throws(EdgeVecError) in
                try flat.search(q, k: 7, ids: &ids, distances: &distances)
            }
            #expect(m == 7)
            #expect(Array(ids.prefix(7)) == flatReference.map(\.id))
            #expect(ids[7] == .max, "wrote past k")
            let buffered = try query.withUnsafeBufferPointer { q throws(EdgeVecError) in
                try index.search(q, k: 7, ef: 50)
            }
            #expect(buffered == reference)
        }
    }
}
