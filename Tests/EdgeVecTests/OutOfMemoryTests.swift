import EdgeVec
import Testing

/// Allocation failures surface as `.outOfMemory`, leave the index unchanged
/// and usable, and the index gives all its memory back when it dies.
@Suite("Out of memory")
struct OutOfMemoryTests {
    static let data = ClusteredData(count: 900, queries: 20, dimension: 12, clusters: 9, seed: 555)
    static let configuration = HNSWConfiguration(m: 6, efConstruction: 48, seed: 8)

    static func rows(_ range: Range<Int>) -> [Float] {
        Array(data.data.values[range.lowerBound * 12 ..< range.upperBound * 12])
    }

    @Test("Every failing allocation during addBatch throws outOfMemory and changes nothing")
    func batchFailsAtEveryAllocation() throws {
        let memory = TestAllocator()
        let reference = try HNSWIndex(dimension: 12, metric: .l2, configuration: Self.configuration)
        try reference.addBatch(Self.rows(0..<900))
        do {
            let index = try HNSWIndex(dimension: 12, metric: .l2, configuration: Self.configuration,
                                      allocator: memory.allocator)
            try index.addBatch(Self.rows(0..<300))
            // Fail the 1st, 2nd, … allocation of the next batch until it fits.
            var succeeded = false
            for allowed in 0..<64 {
                let before = GraphSnapshot(index)
                let results = try probe(index, Self.data.queries)
                memory.allow(allowed)
                do {
                    try index.addBatch(Self.rows(300..<900))
                    succeeded = true
                } catch {
                    #expect(error == .outOfMemory, "allowance \(allowed)")
                    #expect(memory.failures > 0)
                }
                memory.allow(nil)
                if succeeded {
                    #expect(allowed > 0, "the batch needed no memory at all?")
                    break
                }
                #expect(GraphSnapshot(index) == before, "allowance \(allowed)")
                #expect(try probe(index, Self.data.queries) == results, "allowance \(allowed)")
            }
            #expect(succeeded)
            // The failures consumed no randomness: the graph is the one built without them.
            #expect(GraphSnapshot(index) == GraphSnapshot(reference))
            #expect(index.checkInvariants() == nil)
            #expect(try probe(index, Self.data.queries) == probe(reference, Self.data.queries))
        }
        // The index is gone: every block came back and the allocator was released once.
        #expect(memory.liveBlocks == 0)
        #expect(memory.liveBytes == 0)
        #expect(memory.releases == 1)
    }

    @Test("Single adds hit the wall one at a time and recover", arguments: Metric.allCases)
    func singleAddsUnderBudget(metric: Metric) throws {
        let memory = TestAllocator()
        do {
            let index = try HNSWIndex(dimension: 12, metric: metric, configuration: Self.configuration,
                                      allocator: memory.allocator)
            try index.addBatch(Self.rows(0..<100))
            // A byte budget just above what is held now: adds succeed while
            // capacity lasts, then the first that must grow fails.
            memory.budget(memory.liveBytes + 64)
            var added = 100
            var failed = false
            while added < 900 {
                let before = GraphSnapshot(index)
                do {
                    #expect(try index.add(Self.data.data[added]) == added)
                    added += 1
                } catch {
                    #expect(error == .outOfMemory)
                    #expect(GraphSnapshot(index) == before)
                    #expect(index.count == added)
                    failed = true
                    break
                }
            }
            #expect(failed, "no allocation was refused")
            // A batch is refused as a whole.
            let before = GraphSnapshot(index)
            #expect(throws: EdgeVecError.outOfMemory) { try index.addBatch(Self.rows(added..<900)) }
            #expect(GraphSnapshot(index) == before)
            // Lift the limit: the rest goes in, giving the graph of a build
            // that never ran out of memory, and recall is fine.
            memory.budget(nil)
            #expect(try index.addBatch(Self.rows(added..<900)) == added)
            #expect(index.count == 900)
            let reference = try HNSWIndex(dimension: 12, metric: metric, configuration: Self.configuration)
            try reference.addBatch(Self.rows(0..<900))
            #expect(GraphSnapshot(index) == GraphSnapshot(reference))
            var recall = 0.0
            for q in 0..<Self.data.queries.count {
                let query = Self.data.queries[q]
                recall += tieAwareRecall(try index.search(query, k: 10, ef: 64),
                                         exact: allDistances(metric, Self.data.data, query), k: 10)
            }
            recall /= Double(Self.data.queries.count)
            // (dot's recall is held to its bar by the recall suite.)
            #expect(recall >= (metric == .dot ? 0.8 : 0.95), "recall after recovery: \(recall)")
        }
        #expect(memory.liveBlocks == 0)
        #expect(memory.releases == 1)
    }

    @Test("A search that needs a wider beam fails cleanly without memory")
    func searchOutOfMemory() throws {
        let memory = TestAllocator()
        do {
            let index = try HNSWIndex(dimension: 12, metric: .cosine, configuration: Self.configuration,
                                      allocator: memory.allocator)
            try index.addBatch(Self.rows(0..<400))
            let before = GraphSnapshot(index)
            let results = try probe(index, Self.data.queries)   // ef 64 and 128 fit in the reserved beam
            memory.allow(0)
            #expect(throws: EdgeVecError.outOfMemory) { try index.search(Self.data.queries[0], k: 5, ef: 5000) }
            #expect(throws: EdgeVecError.outOfMemory) { try index.search(Self.data.queries[0], k: 3000) }
            #expect(GraphSnapshot(index) == before)
            // Searches within the existing scratch still work with no memory at all.
            #expect(try probe(index, Self.data.queries) == results)
            memory.allow(nil)
            #expect(try index.search(Self.data.queries[0], k: 5, ef: 5000).count == 5)
        }
        #expect(memory.liveBlocks == 0)
        #expect(memory.releases == 1)
    }

    @Test("Flat index: failing allocations throw outOfMemory and change nothing")
    func flatOutOfMemory() throws {
        let memory = TestAllocator()
        do {
            let index = try FlatIndex(dimension: 12, metric: .dot, allocator: memory.allocator)
            try index.addBatch(Self.rows(0..<100))
            let before = try IndexState(index, queries: Self.data.queries)
            memory.allow(0)
            #expect(throws: EdgeVecError.outOfMemory) { try index.addBatch(Self.rows(100..<900)) }
            #expect(throws: EdgeVecError.outOfMemory) { try index.search(Self.data.queries[0], k: 90) }
            memory.allow(nil)
            #expect(try IndexState(index, queries: Self.data.queries) == before)
            #expect(try index.addBatch(Self.rows(100..<900)) == 100)
            #expect(index.count == 900)
        }
        #expect(memory.liveBlocks == 0)
        #expect(memory.releases == 1)
    }

    @Test("An index releases its allocator exactly once, also when init fails")
    func releaseOnce() throws {
        let memory = TestAllocator()
        do { _ = try HNSWIndex(dimension: 8, metric: .l2, allocator: memory.allocator) }
        #expect(memory.releases == 1)
        do { _ = try FlatIndex(dimension: 8, metric: .l2, allocator: memory.allocator) }
        #expect(memory.releases == 2)
        // A refused init owns the allocator too.
        _ = try? HNSWIndex(dimension: 0, metric: .l2, allocator: memory.allocator)
        #expect(memory.releases == 3)
        _ = try? HNSWIndex(dimension: 4, metric: .l2, configuration: HNSWConfiguration(m: 1), allocator: memory.allocator)
        #expect(memory.releases == 4)
        _ = try? FlatIndex(dimension: -1, metric: .l2, allocator: memory.allocator)
        #expect(memory.releases == 5)
        #expect(memory.liveBlocks == 0)
    }
}
