@testable import EdgeVecSearch
import EdgeVec
import Foundation
import Synchronization
import Testing

/// Searches from many threads at once, with and without a writer, and batch
/// search, against serial runs. `make test-tsan` runs this suite under
/// ThreadSanitizer, which turns any unsynchronised access into a failure.
/// A value behind an `NSLock` (pthread, which ThreadSanitizer sees; the
/// futex of `Synchronization.Mutex` it does not, and reports a race).
final class Guarded<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}

@Suite("Concurrency")
struct ConcurrencyTests {
    static let data = ClusteredData(count: 2_400, queries: 40, dimension: 24, clusters: 12, seed: 91)
    static let configuration = HNSWConfiguration(m: 8, efConstruction: 64, seed: 5)
    /// Made per test, not a static `let`: LeakSanitizer reports a global's parsed filter as leaked.
    static func makeFilter() throws -> Filter { try Filter(#"group < 3 OR tag = "b""#) }

    static func metadata(_ row: Int) -> Metadata {
        Metadata([(name: "group", value: .integer(Int64(row % 7))), (name: "tag", value: .string(row % 5 == 0 ? "b" : "a"))])
    }

    /// An index of the first `rows` rows, each with `metadata(row)`.
    static func makeIndex(rows: Int, metric: Metric = .l2) throws -> HNSWIndex {
        let index = try HNSWIndex(dimension: data.data.dimension, metric: metric, configuration: configuration)
        for row in 0..<rows { try index.add(data.data[row], id: UInt64(row), metadata: metadata(row)) }
        return index
    }

    /// Runs `body(0)`, …, `body(threads − 1)` on threads of their own, all at once.
    static func onThreads(_ threads: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for t in 0..<threads {
            group.enter()
            Thread {
                body(t)
                group.leave()
            }.start()
        }
        group.wait()
    }

    /// What a search of each query returns, unfiltered and filtered.
    static func answers(_ filter: Filter, _ search: (Int, Filter?) throws -> [SearchResult]) rethrows -> [[SearchResult]] {
        try (0..<data.queries.count).flatMap { q in [try search(q, nil), try search(q, filter)] }
    }

    @Test("Searches from several threads at once return what a serial run does", arguments: Metric.allCases)
    func concurrentSearches(metric: Metric) throws {
        let index = try Self.makeIndex(rows: 2_000, metric: metric)
        let flat = try FlatIndex(dimension: Self.data.data.dimension, metric: metric)
        for row in 0..<2_000 { try flat.add(Self.data.data[row], id: UInt64(row), metadata: Self.metadata(row)) }
        let filter = try Self.makeFilter()
        let expected = try Self.answers(filter) { q, f in
            if let f { return try index.search(Self.data.queries[q], k: 10, filter: f) }
            return try index.search(Self.data.queries[q], k: 10)
        }
        let exact = try Self.answers(filter) { q, f in
            if let f { return try flat.search(Self.data.queries[q], k: 10, filter: f) }
            return try flat.search(Self.data.queries[q], k: 10)
        }
        let mismatches = Guarded(0)
        Self.onThreads(4) { t in
            // Each thread walks the queries from its own starting point, so different ones overlap.
            for round in 0..<3 {
                for i in 0..<Self.data.queries.count {
                    let q = (i + t * 11 + round * 7) % Self.data.queries.count
                    let query = Self.data.queries[q]
                    let got = [try? index.search(query, k: 10), try? index.search(query, k: 10, filter: filter)]
                    let exactGot = [try? flat.search(query, k: 10), try? flat.search(query, k: 10, filter: filter)]
                    var wrong = 0
                    if got[0] != expected[2 * q] || got[1] != expected[2 * q + 1] { wrong += 1 }
                    if exactGot[0] != exact[2 * q] || exactGot[1] != exact[2 * q + 1] { wrong += 1 }
                    mismatches.withLock { $0 += wrong }
                }
            }
        }
        #expect(mismatches.withLock { $0 } == 0)
    }

    @Test("Searches run while a writer adds, removes and updates; the writer's result is the serial one")
    func searchesDuringWrites() throws {
        let rows = Self.data.data
        let index = try Self.makeIndex(rows: 1_600)
        let reference = try Self.makeIndex(rows: 1_600)
        // Rows 1,600… are added; every third step removes an early id, every fifth updates one.
        let updated = Set((0..<80).map { UInt64(1_000 + $0 * 5) })
        @Sendable func write(_ index: HNSWIndex) throws {
            for step in 0..<800 {
                let row = 1_600 + step
                try index.add(rows[row], id: UInt64(row), metadata: Self.metadata(row))
                if step % 3 == 0 { index.remove(UInt64(step / 3 * 7 % 1_000)) }
                if step % 10 == 0 { try index.update(UInt64(1_000 + step / 2), rows[(step * 13) % 1_600]) }
            }
        }
        try write(reference)
        let filter = try Self.makeFilter()
        let problems = Guarded<[String]>([])
        let done = Atomic(false)
        let searches = Atomic(0)
        Self.onThreads(3) { t in
            if t == 0 {
                // Start once both readers have searched, so that writes and searches overlap.
                while searches.load(ordering: .relaxed) < 2 { Thread.sleep(forTimeInterval: 0.001) }
                do { try write(index) } catch { problems.withLock { $0.append("writer: \(error)") } }
                done.store(true, ordering: .releasing)
                return
            }
            var q = t
            while !done.load(ordering: .acquiring) {
                q = (q + 1) % Self.data.queries.count
                let query = Self.data.queries[q]
                do {
                    for results in [try index.search(query, k: 10), try index.search(query, k: 10, filter: filter),
                                    try index.searchBatch([query], k: 10, threads: 1)[0]] {
                        // Whatever the moment, 10 results, sorted, distinct, each at its vector's true distance.
                        var issue: String? = nil
                        if results.count != 10 { issue = "\(results.count) results" }
                        if Set(results.map(\.id)).count != results.count { issue = "duplicate ids" }
                        for (a, b) in zip(results, results.dropFirst()) where a.distance > b.distance { issue = "unsorted" }
                        for r in results where !updated.contains(r.id) && r.id < UInt64(rows.count)
                            && !close(r.distance, referenceDistance(.l2, rows, Int(r.id), query)) {
                            issue = "id \(r.id) at distance \(r.distance)"
                        }
                        if let issue { problems.withLock { $0.append(issue) } }
                    }
                    _ = index.count
                    _ = index.metadata(for: UInt64(q))
                    searches.add(1, ordering: .relaxed)
                } catch {
                    problems.withLock { $0.append("reader: \(error)") }
                }
            }
        }
        #expect(problems.withLock { $0 } == [])
        #expect(searches.load(ordering: .relaxed) > 2)
        // Searches change nothing: the index is bit for bit the one written without them.
        #expect(index.serialized() == reference.serialized())
        #expect(index.checkInvariants() == nil)
    }

    @Test("An index is Sendable: tasks share it under strict concurrency checking")
    func sharedAcrossTasks() async throws {
        let index = try Self.makeIndex(rows: 1_000)
        let queries = Self.data.queries
        let expected = try (0..<queries.count).map { try index.search(queries[$0], k: 5) }
        let results = try await withThrowingTaskGroup(of: (Int, [SearchResult]).self) { group in
            for q in 0..<queries.count {
                group.addTask { (q, try index.search(queries[q], k: 5)) }
            }
            group.addTask {
                try index.add(Self.data.data[1_500], id: 5_000)     // a writer among them
                return (-1, [])
            }
            var out = [[SearchResult]](repeating: [], count: queries.count)
            for try await (q, r) in group where q >= 0 { out[q] = r }
            return out
        }
        // The far-away add may or may not be seen; the 5 nearest of these queries are other rows.
        #expect(results == expected)
    }

    @Test("Batch search equals one search per query, on any number of threads", arguments: Metric.allCases)
    func batchSearch(metric: Metric) throws {
        let index = try Self.makeIndex(rows: 2_000, metric: metric)
        let flat = try FlatIndex(dimension: Self.data.data.dimension, metric: metric)
        for row in 0..<2_000 { try flat.add(Self.data.data[row], id: UInt64(row), metadata: Self.metadata(row)) }
        let queries = Self.data.queries
        let k = 7
        for filter in [nil, try Self.makeFilter()] {
            let expected = try (0..<queries.count).map { q in
                if let filter { return try index.search(queries[q], k: k, ef: 40, filter: filter) }
                return try index.search(queries[q], k: k, ef: 40)
            }
            let exact = try (0..<queries.count).map { q in
                if let filter { return try flat.search(queries[q], k: k, filter: filter) }
                return try flat.search(queries[q], k: k)
            }
            for threads in [1, 2, 3, nil] {
                let rows = (0..<queries.count).map { queries[$0] }
                #expect(try index.searchBatch(rows, k: k, ef: 40, filter: filter, threads: threads) == expected)
                #expect(try flat.searchBatch(rows, k: k, filter: filter, threads: threads) == exact)
                var ids = [UInt64](repeating: .max, count: queries.count * k)
                var distances = [Float](repeating: .nan, count: queries.count * k)
                let n = try queries.values.withUnsafeBufferPointer { q in
                    try index.searchBatch(q, k: k, ef: 40, filter: filter, threads: threads,
                                          ids: &ids, distances: &distances)
                }
                #expect(n == k)
                for q in 0..<queries.count {
                    #expect(Array(ids[q * k ..< q * k + k]) == expected[q].map(\.id))
                    #expect(Array(distances[q * k ..< q * k + k]) == expected[q].map(\.distance))
                }
            }
        }
        // Fewer matches than k: every row gets them all, the same count.
        let rare = try Filter("group = 3 AND tag = \"b\" AND id_missing IS NULL AND group != 3")
        #expect(try index.searchBatch([queries[0], queries[1]], k: 5, filter: rare) == [[], []])
    }

    @Test("Batch search refuses bad input before writing anything")
    func batchSearchErrors() throws {
        let index = try Self.makeIndex(rows: 300)
        let d = Self.data.data.dimension
        var queries = Array(Self.data.queries.values[0 ..< 4 * d])
        var ids = [UInt64](repeating: 7, count: 40)
        var distances = [Float](repeating: 7, count: 40)
        func batch(_ values: [Float], k: Int = 10, ef: Int? = nil, threads: Int? = nil) -> EdgeVecError? {
            thrownError { () throws(EdgeVecError) -> Int in
                try values.withUnsafeBufferPointer { (q) throws(EdgeVecError) -> Int in
                    try index.searchBatch(q, k: k, ef: ef, threads: threads, ids: &ids, distances: &distances)
                }
            }
        }
        #expect(batch(Array(queries.dropLast())) == .dimensionMismatch(expected: d, actual: 4 * d - 1))
        #expect(batch(queries, k: 0) == .invalidK(0))
        #expect(batch(queries, ef: 0) == .invalidParameter(.ef, value: 0))
        #expect(batch(queries, threads: 0) == .invalidParameter(.threads, value: 0))
        #expect(batch(queries, threads: 1_025) == .invalidParameter(.threads, value: 1_025))
        queries[3 * d + 2] = .infinity
        #expect(batch(queries) == .nonFiniteValue(position: 3 * d + 2))
        #expect(ids.allSatisfy { $0 == 7 } && distances.allSatisfy { $0 == 7 })
        // No rows, or an empty index: nothing to find.
        #expect(try [Float]().withUnsafeBufferPointer { q in
            try index.searchBatch(q, k: 3, ids: &ids, distances: &distances)
        } == 0)
        let empty = try HNSWIndex(dimension: d, metric: .l2)
        #expect(try empty.searchBatch([Self.data.queries[0]], k: 3) == [[]])
    }

    /// Recall@10 of `index` against exact results over `queries`, at ef 64.
    static func recall(_ index: HNSWIndex, _ exact: FlatIndex, _ queries: Rows) throws -> Double {
        var hits = 0
        for q in 0..<queries.count {
            let truth = Set(try exact.search(queries[q], k: 10).map(\.id))
            hits += try index.search(queries[q], k: 10, ef: 64).filter { truth.contains($0.id) }.count
        }
        return Double(hits) / Double(10 * queries.count)
    }

    @Test("A parallel build: a sound graph that loads back, with the recall of a one-thread build",
          arguments: Metric.allCases)
    func parallelBuild(metric: Metric) throws {
        let data = ClusteredData(count: 3_000, queries: 100, dimension: 24, clusters: 30, seed: 17)
        let exact = try FlatIndex(dimension: 24, metric: metric)
        try exact.addBatch(data.data.values)
        let serial = try HNSWIndex(dimension: 24, metric: metric, configuration: Self.configuration)
        try serial.addBatch(data.data.values)
        let again = try HNSWIndex(dimension: 24, metric: metric, configuration: Self.configuration)
        try again.addBatch(data.data.values, threads: 1)
        #expect(again.serialized() == serial.serialized(), "one thread: bit for bit the serial build")
        for threads in [2, 4] {
            let parallel = try HNSWIndex(dimension: 24, metric: metric, configuration: Self.configuration)
            try parallel.addBatch(Array(data.data.values[..<(500 * 24)]), threads: threads)
            try parallel.addBatch(Array(data.data.values[(500 * 24)...]), threads: threads)
            #expect(parallel.count == 3_000)
            #expect(parallel.checkInvariants() == nil)
            #expect(Array(parallel.ids) == (0..<3_000).map { UInt64($0) })
            #expect(parallel.vector(for: 1_234) == serial.vector(for: 1_234))
            // The strict loader checks every list and the layer-0 tree (parents before children).
            let loaded = try HNSWIndex(serialized: parallel.serialized())
            #expect(loaded.checkInvariants() == nil)
            let (r1, rn) = (try Self.recall(serial, exact, data.queries), try Self.recall(parallel, exact, data.queries))
            #expect(rn >= r1 - 0.01, "recall@10 at ef 64: \(threads) threads \(rn), one thread \(r1)")
        }
    }

    @Test("A parallel batch reuses free slots, keeps given ids, and refuses bad thread counts")
    func parallelBatchEdges() throws {
        let data = ClusteredData(count: 1_200, queries: 10, dimension: 16, clusters: 8, seed: 3)
        let index = try HNSWIndex(dimension: 16, metric: .l2, configuration: Self.configuration)
        try index.addBatch(Array(data.data.values[..<(1_000 * 16)]), threads: 2)
        for id in stride(from: 0, to: 1_000, by: 9) { index.remove(UInt64(id)) }
        index.consolidate()
        let free = index.removedCount
        #expect(free > 0)
        let ids = (0..<200).map { UInt64(50_000 + $0 * 3) }
        try index.addBatch(Array(data.data.values[(1_000 * 16)...]), ids: ids, threads: 3)
        #expect(index.removedCount == max(0, free - 200))
        #expect(index.checkInvariants() == nil)
        for (row, id) in ids.enumerated() {
            #expect(try index.search(data.data[1_000 + row], k: 1, ef: 64).first?.id == id)
        }
        #expect(thrownError { () throws(EdgeVecError) in try index.addBatch(data.data[0], threads: 0) }
                == .invalidParameter(.threads, value: 0))
        #expect(index.count == 1_000 - 112 + 200)
        _ = try HNSWIndex(serialized: index.serialized())
    }
}
