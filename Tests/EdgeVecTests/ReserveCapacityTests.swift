import EdgeVec
import Testing

/// `reserveCapacity`: after it, adds up to the reserved count make no
/// allocation at all, the graph is the one built without it, and bad input
/// or a failed allocation leaves the index as it was.
@Suite("Reserve capacity")
struct ReserveCapacityTests {
    static let data = ClusteredData(count: 900, queries: 20, dimension: 12, clusters: 9, seed: 77)
    static let configuration = HNSWConfiguration(m: 6, efConstruction: 48, seed: 3)

    static func rows(_ range: Range<Int>) -> [Float] {
        Array(data.data.values[range.lowerBound * 12 ..< range.upperBound * 12])
    }

    @Test("Adds and searches within the reservation allocate nothing; the graph is unchanged",
          arguments: Metric.allCases)
    func noAllocationsAfterReserving(metric: Metric) throws {
        let memory = TestAllocator()
        let reference = try HNSWIndex(dimension: 12, metric: metric, configuration: Self.configuration)
        try reference.addBatch(Self.rows(0..<900))
        do {
            let index = try HNSWIndex(dimension: 12, metric: metric, configuration: Self.configuration,
                                      allocator: memory.allocator)
            try index.addBatch(Self.rows(0..<100))
            try index.reserveCapacity(900)
            let reserved = memory.allocations
            let bytes = index.allocatedBytes
            for i in 100..<900 { #expect(try index.add(Self.data.data[i]) == i) }
            for q in 0..<Self.data.queries.count {
                _ = try index.search(Self.data.queries[q], k: 10, ef: Self.configuration.efConstruction)
            }
            #expect(memory.allocations == reserved, "allocations after reserveCapacity(900)")
            #expect(index.allocatedBytes == bytes)
            #expect(GraphSnapshot(index) == GraphSnapshot(reference))
            #expect(try probe(index, Self.data.queries) == probe(reference, Self.data.queries))
            // Past the reservation the index grows again.
            try index.add(Self.data.queries[0])
            #expect(memory.allocations > reserved)
            #expect(index.count == 901)
        }
        #expect(memory.liveBlocks == 0)
    }

    @Test("A reservation is exact: a batch of the same size afterwards needs no more memory")
    func exactSize() throws {
        let memory = TestAllocator()
        let index = try HNSWIndex(dimension: 12, metric: .l2, configuration: Self.configuration,
                                  allocator: memory.allocator)
        try index.reserveCapacity(900)
        let bytes = index.allocatedBytes
        try index.addBatch(Self.rows(0..<900))
        #expect(index.allocatedBytes == bytes)
        // Growing by doubling from empty holds more than the exact reservation.
        let grown = try HNSWIndex(dimension: 12, metric: .l2, configuration: Self.configuration)
        for i in 0..<900 { try grown.add(Self.data.data[i]) }
        #expect(grown.allocatedBytes > bytes)
    }

    @Test("A loaded index reserves too, and continues the graph of an uninterrupted build")
    func loadedIndex() throws {
        let built = try HNSWIndex(dimension: 12, metric: .cosine, configuration: Self.configuration)
        try built.addBatch(Self.rows(0..<300))
        let memory = TestAllocator()
        do {
            let index = try HNSWIndex(serialized: built.serialized(), allocator: memory.allocator)
            try index.reserveCapacity(900)
            let reserved = memory.allocations
            for i in 300..<900 { try index.add(Self.data.data[i]) }
            #expect(memory.allocations == reserved)
            try built.addBatch(Self.rows(300..<900))
            #expect(GraphSnapshot(index) == GraphSnapshot(built))
            #expect(index.serialized() == built.serialized())
        }
        #expect(memory.liveBlocks == 0)
    }

    @Test("Bump arena: no block is handed out while adding within the reservation")
    func arena() throws {
        let arena = BumpArena.make()
        let index = try HNSWIndex(dimension: 12, metric: .cosine, configuration: Self.configuration,
                                  allocator: arena)
        try index.reserveCapacity(900)
        let before = try #require(BumpArena.statistics(arena))
        for i in 0..<900 { try index.add(Self.data.data[i]) }
        let after = try #require(BumpArena.statistics(arena))
        #expect(after.used == before.used)
        #expect(after.reserved == before.reserved)
    }

    @Test("Bad capacities and exhausted memory throw and change nothing")
    func errors() throws {
        let memory = TestAllocator()
        do {
            let index = try HNSWIndex(dimension: 12, metric: .l2, configuration: Self.configuration,
                                      allocator: memory.allocator)
            try index.addBatch(Self.rows(0..<300))
            let before = GraphSnapshot(index)
            let results = try probe(index, Self.data.queries)
            #expect(throws: EdgeVecError.invalidParameter(.capacity, value: -1)) { try index.reserveCapacity(-1) }
            #expect(throws: EdgeVecError.capacityExceeded) { try index.reserveCapacity(Int(UInt32.max)) }
            // Below the count: nothing to do, nothing allocated.
            let allocations = memory.allocations
            memory.allow(0)
            try index.reserveCapacity(0)
            try index.reserveCapacity(300)
            #expect(memory.allocations == allocations)
            #expect(throws: EdgeVecError.outOfMemory) { try index.reserveCapacity(900) }
            #expect(memory.failures > 0)
            #expect(GraphSnapshot(index) == before)
            #expect(try probe(index, Self.data.queries) == results)
            memory.allow(nil)
            try index.reserveCapacity(900)
            try index.addBatch(Self.rows(300..<900))
            let reference = try HNSWIndex(dimension: 12, metric: .l2, configuration: Self.configuration)
            try reference.addBatch(Self.rows(0..<900))
            #expect(GraphSnapshot(index) == GraphSnapshot(reference))
        }
        #expect(memory.liveBlocks == 0)
        #expect(EdgeVecError.invalidParameter(.capacity, value: -1).message
                == "invalid capacity: -1 (0...4294967294)")
    }

    @Test("Flat index: adds within the reservation allocate nothing")
    func flat() throws {
        let memory = TestAllocator()
        let index = try FlatIndex(dimension: 12, metric: .dot, allocator: memory.allocator)
        #expect(throws: EdgeVecError.invalidParameter(.capacity, value: -5)) { try index.reserveCapacity(-5) }
        try index.reserveCapacity(900)
        let reserved = memory.allocations
        for i in 0..<900 { #expect(try index.add(Self.data.data[i]) == i) }
        #expect(memory.allocations == reserved)
        let hits = try index.search(Self.data.queries[0], k: 5)
        #expect(hits.count == 5)
        #expect(hits[0].distance == allDistances(.dot, Self.data.data, Self.data.queries[0]).min())
    }
}
