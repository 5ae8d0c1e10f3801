import EdgeVec
import Testing

/// Recall of the HNSW index against brute force on clustered data, and the
/// exactness of the flat index.
@Suite("Recall")
struct RecallTests {
    static let k = 10

    @Test("HNSW recall@10 at ef 64 is at least 0.95", arguments: Metric.allCases)
    func hnswRecall(metric: Metric) throws {
        let data = ClusteredData.standard
        let index = try makeHNSW(data.data, metric: metric, m: 16, efConstruction: 200)
        #expect(index.count == data.data.count)

        var total = 0.0
        for q in 0..<data.queries.count {
            let query = data.queries[q]
            let results = try index.search(query, k: Self.k, ef: 64)
            #expect(results.count == Self.k)
            expectWellFormed(results, count: index.count)
            // Distances are the metric's, of the original vectors.
            for r in results {
                let expected = referenceDistance(metric, data.data, r.row, query)
                #expect(close(r.distance, expected), "query \(q) id \(r.id): \(r.distance) vs \(expected)")
            }
            total += tieAwareRecall(results, exact: allDistances(metric, data.data, query), k: Self.k)
        }
        let recall = total / Double(data.queries.count)
        #expect(recall >= 0.95, "recall@10 = \(recall) for \(metric.name)")
    }

    @Test("A larger ef does not lower recall and stays well formed", arguments: [Metric.l2, .cosine])
    func efMonotone(metric: Metric) throws {
        let data = ClusteredData(count: 3000, queries: 100, dimension: 16, clusters: 30, seed: 7)
        let index = try makeHNSW(data.data, metric: metric, m: 8, efConstruction: 100)
        var recallLow = 0.0, recallHigh = 0.0
        for q in 0..<data.queries.count {
            let query = data.queries[q]
            let exact = allDistances(metric, data.data, query)
            let low = try index.search(query, k: Self.k, ef: 10)
            let high = try index.search(query, k: Self.k, ef: 400)
            expectWellFormed(high, count: index.count)
            recallLow += tieAwareRecall(low, exact: exact, k: Self.k)
            recallHigh += tieAwareRecall(high, exact: exact, k: Self.k)
        }
        recallLow /= Double(data.queries.count)
        recallHigh /= Double(data.queries.count)
        #expect(recallHigh >= recallLow)
        #expect(recallHigh >= 0.99, "recall at ef 400 = \(recallHigh)")
    }

    @Test("Every stored vector finds itself first (l2 and cosine)", arguments: [Metric.l2, .cosine])
    func selfRecall(metric: Metric) throws {
        let data = ClusteredData(count: 2000, queries: 0, dimension: 24, clusters: 20, seed: 11)
        let index = try makeHNSW(data.data, metric: metric, m: 12, efConstruction: 100)
        var misses = 0
        for i in 0..<data.data.count {
            let top = try index.search(data.data[i], k: 1)
            #expect(top.count == 1)
            if top.first?.row != i { misses += 1 }
            if let d = top.first?.distance { #expect(abs(d) <= 1e-4, "self distance \(d) for \(i)") }
        }
        #expect(misses <= data.data.count / 200, "\(misses) vectors did not find themselves")
    }

    @Test("Flat index recall is exactly 1", arguments: Metric.allCases)
    func flatRecall(metric: Metric) throws {
        let data = ClusteredData.standard
        let index = try FlatIndex(dimension: data.data.dimension, metric: metric)
        #expect(try index.addBatch(data.data.values) == 0)
        #expect(index.count == data.data.count)
        for q in 0..<data.queries.count {
            let query = data.queries[q]
            let results = try index.search(query, k: Self.k)
            #expect(results.count == Self.k)
            expectWellFormed(results, count: index.count)
            let exact = allDistances(metric, data.data, query)
            #expect(tieAwareRecall(results, exact: exact, k: Self.k) == 1.0, "query \(q)")
            for r in results {
                #expect(close(r.distance, exact[r.row]), "query \(q) id \(r.id): \(r.distance) vs \(exact[r.row])")
            }
        }
    }

    @Test("HNSW with a huge ef returns the exact answer", arguments: Metric.allCases)
    func exhaustiveEf(metric: Metric) throws {
        let data = ClusteredData(count: 600, queries: 30, dimension: 8, clusters: 6, seed: 5)
        let hnsw = try makeHNSW(data.data, metric: metric, m: 6, efConstruction: 40)
        let flat = try FlatIndex(dimension: 8, metric: metric)
        try flat.addBatch(data.data.values)
        var mismatched: [Int] = []
        for q in 0..<data.queries.count {
            let query = data.queries[q]
            // ef ≥ count: the beam visits every node reachable on layer 0,
            // which must be all of them.
            let a = try hnsw.search(query, k: 20, ef: 1000)
            let b = try flat.search(query, k: 20)
            if a.map(\.id) != b.map(\.id) || !zip(a, b).allSatisfy({ close($0.distance, $1.distance) }) {
                mismatched.append(q)
            }
        }
        #expect(mismatched.isEmpty, "\(mismatched.count) of \(data.queries.count) queries differ from exact: \(mismatched)")
    }
}
