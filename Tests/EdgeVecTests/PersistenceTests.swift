import EdgeVec
import Testing

/// Serialization round trips: bit-exact bytes, identical behaviour, and the
/// generator state carried across a save/load.
@Suite("Persistence")
struct PersistenceTests {
    static let data = ClusteredData(count: 1500, queries: 30, dimension: 16, clusters: 12, seed: 4242)
    static let configuration = HNSWConfiguration(m: 8, efConstruction: 60, efSearch: 40, seed: 77)

    static func rows(_ range: Range<Int>) -> [Float] {
        Array(data.data.values[range.lowerBound * 16 ..< range.upperBound * 16])
    }

    @Test("HNSW round trip is bit-exact and behaves identically", arguments: Metric.allCases)
    func hnswRoundTrip(metric: Metric) throws {
        let original = try HNSWIndex(dimension: 16, metric: metric, configuration: Self.configuration)
        try original.addBatch(Self.rows(0..<1000))
        let bytes = original.serialized()
        #expect(bytes.count == original.serializedByteCount)
        #expect(Array(bytes.prefix(8)) == IndexFormat.magic)
        #expect(Array(bytes.prefix(8)) == Array("EDGEVEC".utf8) + [0])

        let loaded = try HNSWIndex(serialized: bytes)
        #expect(loaded.serialized() == bytes)
        #expect(loaded.dimension == 16)
        #expect(loaded.metric == metric)
        #expect(loaded.configuration == Self.configuration)
        #expect(loaded.count == 1000)
        #expect(loaded.checkInvariants() == original.checkInvariants())
        #expect(GraphSnapshot(loaded) == GraphSnapshot(original))
        #expect(try probe(loaded, Self.data.queries) == probe(original, Self.data.queries))

        // The generator state travels with the file: further inserts build the
        // same graph as if the index had never been saved.
        #expect(try original.addBatch(Self.rows(1000..<1500)) == 1000)
        #expect(try loaded.addBatch(Self.rows(1000..<1500)) == 1000)
        #expect(GraphSnapshot(loaded) == GraphSnapshot(original))
        #expect(loaded.serialized() == original.serialized())
        #expect(try probe(loaded, Self.data.queries) == probe(original, Self.data.queries))
    }

    @Test("A loaded index continues exactly like one built in a single run")
    func loadThenContinueEqualsSingleRun() throws {
        let singleRun = try HNSWIndex(dimension: 16, metric: .l2, configuration: Self.configuration)
        try singleRun.addBatch(Self.rows(0..<1500))
        // Save and load after every 250 inserts.
        var bytes = try HNSWIndex(dimension: 16, metric: .l2, configuration: Self.configuration).serialized()
        for start in stride(from: 0, to: 1500, by: 250) {
            let index = try HNSWIndex(serialized: bytes)
            for i in start..<(start + 250) { try index.add(Self.data.data[i]) }
            bytes = index.serialized()
        }
        #expect(bytes == singleRun.serialized())
    }

    @Test("Flat round trip is bit-exact", arguments: Metric.allCases)
    func flatRoundTrip(metric: Metric) throws {
        let original = try FlatIndex(dimension: 16, metric: metric)
        try original.addBatch(Self.rows(0..<700))
        let bytes = original.serialized()
        #expect(bytes.count == original.serializedByteCount)
        let loaded = try FlatIndex(serialized: bytes)
        #expect(loaded.serialized() == bytes)
        #expect(loaded.count == 700)
        #expect(loaded.metric == metric)
        #expect(loaded.dimension == 16)
        #expect(try probe(loaded, Self.data.queries) == probe(original, Self.data.queries))
        try original.addBatch(Self.rows(700..<800))
        try loaded.addBatch(Self.rows(700..<800))
        #expect(loaded.serialized() == original.serialized())
    }

    @Test("Empty indexes round trip", arguments: Metric.allCases)
    func emptyRoundTrip(metric: Metric) throws {
        let hnsw = try HNSWIndex(dimension: 5, metric: metric, configuration: Self.configuration)
        let loadedHNSW = try HNSWIndex(serialized: hnsw.serialized())
        #expect(loadedHNSW.serialized() == hnsw.serialized())
        #expect(loadedHNSW.count == 0)
        #expect(loadedHNSW.entryPoint == -1)
        #expect(try loadedHNSW.search([1, 2, 3, 4, 5], k: 3) == [])
        #expect(try loadedHNSW.add([1, 2, 3, 4, 5]) == 0)
        #expect(try hnsw.add([1, 2, 3, 4, 5]) == 0)
        #expect(loadedHNSW.serialized() == hnsw.serialized())

        let flat = try FlatIndex(dimension: 5, metric: metric)
        let loadedFlat = try FlatIndex(serialized: flat.serialized())
        #expect(loadedFlat.serialized() == flat.serialized())
        #expect(loadedFlat.count == 0)
        #expect(try loadedFlat.add([1, 2, 3, 4, 5]) == 0)
    }

    @Test("Buffer variants: serialize(into:) and init from a raw buffer")
    func bufferVariants() throws {
        let index = try HNSWIndex(dimension: 16, metric: .cosine, configuration: Self.configuration)
        try index.addBatch(Self.rows(0..<200))
        let expected = index.serialized()
        // serialize(into:) writes exactly serializedByteCount bytes and nothing past them.
        var buffer = [UInt8](repeating: 0xAB, count: expected.count + 16)
        let written = buffer.withUnsafeMutableBytes { index.serialize(into: $0) }
        #expect(written == expected.count)
        #expect(Array(buffer.prefix(written)) == expected)
        #expect(buffer.suffix(16).allSatisfy { $0 == 0xAB })
        // Loading from a raw buffer (at an odd address, to exercise unaligned reads).
        var shifted = [UInt8](repeating: 0, count: 1) + expected
        let loaded = try shifted.withUnsafeMutableBytes { (raw) throws(EdgeVecError) -> HNSWIndex in
            try HNSWIndex(serialized: UnsafeRawBufferPointer(rebasing: raw[1...]))
        }
        #expect(loaded.serialized() == expected)

        let flat = try FlatIndex(dimension: 16, metric: .dot)
        try flat.addBatch(Self.rows(0..<50))
        let flatBytes = [UInt8](repeating: 0, count: 3) + flat.serialized()
        let loadedFlat = try flatBytes.withUnsafeBytes { (raw) throws(EdgeVecError) -> FlatIndex in
            try FlatIndex(serialized: UnsafeRawBufferPointer(rebasing: raw[3...]))
        }
        #expect(loadedFlat.serialized() == flat.serialized())
    }

    @Test("LoadedIndex reads either kind")
    func loadedIndex() throws {
        let hnsw = try HNSWIndex(dimension: 16, metric: .l2, configuration: Self.configuration)
        try hnsw.addBatch(Self.rows(0..<300))
        let flat = try FlatIndex(dimension: 16, metric: .cosine)
        try flat.addBatch(Self.rows(0..<120))

        let a = try hnsw.serialized().withUnsafeBytes { (raw) throws(EdgeVecError) in try LoadedIndex.load(serialized: raw) }
        guard case .hnsw(let loadedHNSW) = a else {
            Issue.record("HNSW bytes loaded as \(a)")
            return
        }
        #expect(a.count == 300 && a.dimension == 16 && a.metric == .l2)
        #expect(a.serializedByteCount == hnsw.serializedByteCount)
        #expect(loadedHNSW.serialized() == hnsw.serialized())

        let b = try flat.serialized().withUnsafeBytes { (raw) throws(EdgeVecError) in try LoadedIndex.load(serialized: raw) }
        guard case .flat(let loadedFlat) = b else {
            Issue.record("flat bytes loaded as \(b)")
            return
        }
        #expect(b.count == 120 && b.dimension == 16 && b.metric == .cosine)
        #expect(loadedFlat.serialized() == flat.serialized())

        // Searching through the enum matches the underlying index.
        for q in 0..<5 {
            let query = Self.data.queries[q]
            let viaEnum = try query.withUnsafeBufferPointer { (q) throws(EdgeVecError) in try a.search(q, k: 4) }
            #expect(viaEnum == (try hnsw.search(query, k: 4)))
            let viaFlat = try query.withUnsafeBufferPointer { (q) throws(EdgeVecError) in try b.search(q, k: 4) }
            #expect(viaFlat == (try flat.search(query, k: 4)))
        }
    }

    @Test("The wrong loader for a kind reports an invalid header")
    func kindMismatch() throws {
        let hnsw = try HNSWIndex(dimension: 16, metric: .l2)
        try hnsw.addBatch(Self.rows(0..<20))
        let flat = try FlatIndex(dimension: 16, metric: .l2)
        try flat.addBatch(Self.rows(0..<20))
        #expect(throws: EdgeVecError.corrupt(.invalidHeader(.kind, value: 0))) { try FlatIndex(serialized: hnsw.serialized()) }
        #expect(throws: EdgeVecError.corrupt(.invalidHeader(.kind, value: 1))) { try HNSWIndex(serialized: flat.serialized()) }
    }

    @Test("Header fields are where the format says")
    func headerLayout() throws {
        let index = try HNSWIndex(dimension: 16, metric: .dot, configuration: Self.configuration)
        try index.addBatch(Self.rows(0..<100))
        let bytes = index.serialized()
        let layout = FileLayout(bytes)
        #expect(bytes.u32(at: 8) == IndexFormat.version)
        #expect(bytes.u32(at: 12) == 0)                       // kind HNSW
        #expect(bytes.u32(at: 16) == Metric.dot.rawValue)
        #expect(layout.dimension == 16)
        #expect(layout.count == 100)
        #expect(layout.m == 8)
        #expect(bytes.u32(at: 36) == 60)
        #expect(bytes.u32(at: 40) == 40)
        #expect(Int(bytes.u32(at: 44)) == index.maxLevel)
        #expect(bytes.u64(at: 48) == 77)
        #expect(Int(bytes.u32(at: 64)) == index.entryPoint)
        #expect(Int(bytes.u64(at: 80)) == bytes.count - 100)
        #expect(layout.trailer == bytes.count - 4)
        #expect(layout.metadata + 8 == layout.trailer)          // no metadata: two zero counts
        #expect(bytes.u32(at: layout.metadata) == 0 && bytes.u32(at: layout.metadata + 4) == 0)
        // The stored vectors are the inserted ones (dot: not normalised).
        for id in [0, 57, 99] {
            let stored = (0..<16).map { Float(bitPattern: bytes.u32(at: layout.vector(id) + 4 * $0)) }
            #expect(stored == Self.data.data[id])
        }
        // Levels and layer-0 lists match the accessors.
        for id in 0..<100 {
            #expect(Int(bytes[layout.levels + id]) == index.level(of: id))
            let n = Int(bytes.u32(at: layout.block0(id)))
            let ids = (0..<n).map { Int(bytes.u32(at: layout.block0(id) + 4 + 4 * $0)) }
            #expect(ids == index.neighbors(of: id, layer: 0))
        }
        // The test's CRC-32C agrees with the file's: resealing changes nothing.
        var resealed = bytes
        resealed.reseal()
        #expect(resealed == bytes)
    }
}
