import EdgeVec
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ids of the caller's choosing, remove, update, read back, compaction and
/// format 2, checked against a brute-force model of the live set.
@Suite("Mutable index")
struct MutableIndexTests {
    static let data = ClusteredData(count: 1_200, queries: 30, dimension: 16, clusters: 12, seed: 2026)
    static let configuration = HNSWConfiguration(m: 8, efConstruction: 80, efSearch: 64, seed: 5)

    static func empty(_ metric: Metric) throws -> HNSWIndex {
        try HNSWIndex(dimension: 16, metric: metric, configuration: configuration)
    }

    /// The live set as the index should see it: id → original row.
    struct Model {
        var rows: [UInt64: [Float]] = [:]

        /// Exact top-k ids by (distance, id); the k-th distance for tie-aware checks.
        func exact(_ metric: Metric, _ query: [Float], k: Int) -> (ids: [UInt64], radius: Float, distances: [UInt64: Float]) {
            var all: [(Float, UInt64)] = []
            var distances: [UInt64: Float] = [:]
            for (id, row) in rows {
                let d = referenceDistance(metric, Rows(dimension: row.count, values: row), 0, query)
                all.append((d, id))
                distances[id] = d
            }
            all.sort { $0 < $1 }
            let top = all.prefix(k)
            return (top.map(\.1), top.last?.0 ?? 0, distances)
        }
    }

    /// Every result live, each distance the model's, sorted, min(k, live)
    /// of them; returns the tie-aware recall.
    static func check(_ index: HNSWIndex, _ model: Model, metric: Metric, k: Int = 10, ef: Int = 64,
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> Double {
        var hits = 0, wanted = 0
        for q in 0..<data.queries.count {
            let query = data.queries[q]
            let results = try index.search(query, k: k, ef: ef)
            let exact = model.exact(metric, query, k: k)
            #expect(results.count == min(k, model.rows.count), "query \(q)", sourceLocation: sourceLocation)
            for i in results.indices.dropFirst() {
                #expect(results[i - 1].distance <= results[i].distance, sourceLocation: sourceLocation)
            }
            #expect(Set(results.map(\.id)).count == results.count, "duplicate ids", sourceLocation: sourceLocation)
            for r in results {
                guard let d = exact.distances[r.id] else {
                    Issue.record("query \(q): id \(r.id) is not live", sourceLocation: sourceLocation)
                    continue
                }
                #expect(close(r.distance, d), "query \(q) id \(r.id)", sourceLocation: sourceLocation)
                if d <= exact.radius + max(abs(exact.radius), 1) * 1e-5 { hits += 1 }
            }
            wanted += exact.ids.count
        }
        #expect(index.count == model.rows.count, sourceLocation: sourceLocation)
        #expect(index.checkInvariants() == nil, sourceLocation: sourceLocation)
        #expect(Set(index.ids) == Set(model.rows.keys), sourceLocation: sourceLocation)
        return wanted == 0 ? 1 : Double(min(hits, wanted)) / Double(wanted)
    }

    // MARK: Ids

    @Test("Ids of the caller's choosing come back from searches; assigned ids start above every id held")
    func callerIDs() throws {
        let index = try Self.empty(.l2)
        #expect(try index.add(Self.data.data[0]) == 0)
        #expect(try index.add(Self.data.data[1], id: 1_000) == 1_000)
        #expect(try index.add(Self.data.data[2]) == 1_001)
        let big = SlotTable.maxID
        #expect(try index.add(Self.data.data[3], id: big) == big)
        #expect(thrownError { () throws(EdgeVecError) in try index.add(Self.data.data[4]) } == .invalidId(big + 1))
        #expect(try index.addBatch(Array(Self.data.data.values[16 * 5 ..< 16 * 8]), ids: [7, 3, 2]) == 7)
        for (row, id) in [(0, 0), (1, 1_000), (2, 1_001), (3, big), (5, 7), (6, 3), (7, 2)] as [(Int, UInt64)] {
            #expect(try index.search(Self.data.data[row], k: 1).first?.id == id)
            #expect(index.contains(id))
            #expect(index.vector(for: id) == Self.data.data[row])
        }
        #expect(!index.contains(4) && index.vector(for: 4) == nil)
        #expect(Set(index.ids) == [0, 1_000, 1_001, big, 7, 3, 2])
        #expect(index.count == 7)
        // Removing the largest id does not lower the next one.
        #expect(index.remove(1_001))
        let other = try Self.empty(.l2)
        try other.addBatch(Array(Self.data.data.values[0 ..< 16 * 3]), ids: [5, 9, 6])
        #expect(other.remove(9))
        #expect(try other.add(Self.data.data[3]) == 10)
    }

    @Test("Bad ids are refused whole, with the index unchanged", arguments: [Metric.l2, .cosine])
    func badIDs(metric: Metric) throws {
        let index = try Self.empty(metric)
        try index.addBatch(Array(Self.data.data.values[0 ..< 16 * 50]), ids: (0..<50).map { UInt64($0) * 10 })
        let before = index.serialized()
        let row = Self.data.data[60]
        let rows3 = Array(Self.data.data.values[16 * 60 ..< 16 * 63])
        #expect(thrownError { () throws(EdgeVecError) in try index.add(row, id: 20) } == .duplicateId(20))
        #expect(thrownError { () throws(EdgeVecError) in try index.add(row, id: SlotTable.maxID + 1) } == .invalidId(SlotTable.maxID + 1))
        #expect(thrownError { () throws(EdgeVecError) in try index.add(row, id: .max) } == .invalidId(.max))
        #expect(thrownError { () throws(EdgeVecError) in try index.addBatch(rows3, ids: [1, 2, 490]) } == .duplicateId(490))
        #expect(thrownError { () throws(EdgeVecError) in try index.addBatch(rows3, ids: [1, 2, 1]) } == .duplicateId(1))
        #expect(thrownError { () throws(EdgeVecError) in try index.addBatch(rows3, ids: [1, 1 << 60, 2]) } == .invalidId(1 << 60))
        #expect(thrownError { () throws(EdgeVecError) in try index.addBatch(rows3, ids: [1, 2]) } == .dimensionMismatch(expected: 3, actual: 2))
        #expect(thrownError { () throws(EdgeVecError) in try index.update(7, row) } == .unknownId(7))
        #expect(thrownError { () throws(EdgeVecError) in try index.update(20, [Float](repeating: .nan, count: 16)) } == .nonFiniteValue(position: 0))
        #expect(thrownError { () throws(EdgeVecError) in try index.update(20, [1, 2]) } == .dimensionMismatch(expected: 16, actual: 2))
        #expect(!index.remove(7))
        #expect(index.serialized() == before)
        #expect(try index.add(row) == 491)
    }

    // MARK: Remove and update against the model

    @Test("Random adds, removes and updates match brute force on the live set",
          arguments: Metric.allCases)
    func churnAgainstModel(metric: Metric) throws {
        let index = try Self.empty(metric)
        var model = Model()
        var rng = TestRandom(seed: 77 + UInt64(metric.rawValue))
        var live: [UInt64] = (0..<600).map(UInt64.init)   // the model's keys, in a deterministic order
        var nextRow = 0
        func row() -> [Float] {
            defer { nextRow = (nextRow + 1) % Self.data.data.count }
            return Self.data.data[nextRow]
        }
        try index.addBatch(Array(Self.data.data.values[0 ..< 16 * 600]))
        for i in 0..<600 { model.rows[UInt64(i)] = Self.data.data[i] }
        nextRow = 600
        var recalls: [Double] = []
        for round in 0..<6 {
            for _ in 0..<300 {
                switch rng.below(10) {
                case 0..<4:
                    let at = rng.below(live.count)
                    let id = live[at]
                    #expect(index.remove(id))
                    model.rows[id] = nil
                    live.swapAt(at, live.count - 1)
                    live.removeLast()
                case 4..<8:
                    let v = row()
                    let id = try index.add(v)
                    model.rows[id] = v
                    live.append(id)
                default:
                    let id = live[rng.below(live.count)]
                    let v = row()
                    try index.update(id, v)
                    model.rows[id] = v
                }
            }
            recalls.append(try Self.check(index, model, metric: metric))
            _ = round
        }
        // Stored vectors read back (cosine: normalised).
        #expect(try HNSWIndex(serialized: index.serialized()).count == index.count)   // the tree checked on load
        for (id, v) in model.rows.prefix(50) {
            let stored = try #require(index.vector(for: id))
            if metric == .cosine {
                let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                for i in 0..<16 { #expect(abs(stored[i] - v[i] / norm) < 1e-6) }
            } else {
                #expect(stored == v)
            }
        }
        // Against a fresh build of the same live set, same parameters (dot,
        // not a metric, is the hardest for any HNSW graph).
        let fresh = try Self.empty(metric)
        for id in live { try fresh.add(model.rows[id]!, id: id) }
        let freshRecall = try Self.check(fresh, model, metric: metric)
        // Under dot (no triangle inequality for the heuristic to rely on) the
        // churned graph loses more than under l2 and cosine: 0.023 here.
        let slack = metric == .dot ? 0.05 : 0.02
        #expect(recalls.last! >= freshRecall - slack, "recall@10 per round \(recalls), fresh build \(freshRecall)")
        #expect(recalls.min()! >= 0.9, "recall@10 per round \(recalls), fresh build \(freshRecall)")
        print("churn \(metric): recall@10 per round \(recalls), fresh build \(freshRecall)")
    }

    @Test("An update's old position is never found again")
    func updateMovesTheVector() throws {
        let index = try makeHNSW(Self.data.data, metric: .l2, m: 8, efConstruction: 80)
        let far = [Float](repeating: 100, count: 16)
        for id in [UInt64(0), 17, 599, 1_199] {
            let old = Self.data.data[Int(id)]
            try index.update(id, far.enumerated().map { $0.element + Float(id) + Float($0.offset) })
            #expect(try index.search(old, k: 20, ef: 200).allSatisfy { $0.id != id })
            #expect(try index.search(index.vector(for: id)!, k: 1).first?.id == id)
        }
        #expect(index.count == 1_200 && index.removedCount <= 4)   // pending until their batch is unlinked
        #expect(index.checkInvariants() == nil)
    }

    @Test("Heavy removal still returns min(k, live) results, none removed", arguments: [0.5, 0.9, 0.99])
    func heavyRemoval(fraction: Double) throws {
        let index = try makeHNSW(Self.data.data, metric: .cosine, m: 8, efConstruction: 80)
        index.compactionThreshold = 1      // keep every removed node in the graph
        var model = Model()
        for i in 0..<1_200 { model.rows[UInt64(i)] = Self.data.data[i] }
        var rng = TestRandom(seed: 3)
        let order = (0..<1_200).map { _ in rng.next() }.enumerated().sorted { $0.element < $1.element }.map(\.offset)
        for i in order.prefix(Int(1_200 * fraction)) {
            #expect(index.remove(UInt64(i)))
            model.rows[UInt64(i)] = nil
        }
        #expect(index.removedCount == Int(1_200 * fraction))
        let recall = try Self.check(index, model, metric: .cosine, k: 10, ef: 32)
        #expect(recall >= 0.9, "recall \(recall)")
    }

    @Test("Removing every vector leaves an empty, usable index; a removed id can come back")
    func removeAll() throws {
        let index = try makeHNSW(Rows(dimension: 16, values: Array(Self.data.data.values[0 ..< 16 * 100])),
                                 metric: .dot, m: 8, efConstruction: 80)
        let empty = try Self.empty(.dot).allocatedBytes
        for id in 0..<100 { #expect(index.remove(UInt64(id))) }
        #expect(index.count == 0 && index.removedCount == 0)
        #expect(try index.search(Self.data.queries[0], k: 5).isEmpty)
        #expect(index.allocatedBytes - empty <= 64 * 1024, "scratch only: \(index.allocatedBytes) vs \(empty)")
        #expect(try index.add(Self.data.data[5], id: 5) == 5)
        #expect(try index.add(Self.data.data[6]) == 100)
        #expect(try index.search(Self.data.data[5], k: 1).first?.id == 5)
        #expect(index.checkInvariants() == nil)
    }

    // MARK: Memory

    @Test("Remove-then-add reuses slots: memory does not grow")
    func slotsAreReused() throws {
        let index = try makeHNSW(Self.data.data, metric: .l2, m: 8, efConstruction: 80)
        let bytes = index.allocatedBytes
        var rng = TestRandom(seed: 11)
        var next: UInt64 = 10_000
        var live = (0..<1_200).map(UInt64.init)
        for _ in 0..<5 {
            for _ in 0..<200 {
                let at = rng.below(live.count)
                #expect(index.remove(live[at]))
                live.swapAt(at, live.count - 1)
                live.removeLast()
            }
            for _ in 0..<200 {
                try index.add(Self.data.data[rng.below(1_200)], id: next)
                live.append(next)
                next += 1
            }
            #expect(index.allocatedBytes == bytes)
            #expect(index.count == 1_200 && index.removedCount < 1_200 / 64, "\(index.removedCount) removed")
        }
        #expect(index.checkInvariants() == nil)
        // Reused slots choose their tree parents again: the tree a load checks is still one.
        #expect(try HNSWIndex(serialized: index.serialized()).serialized() == index.serialized())
    }

    @Test("At an exact reservation, alternating removals and inserts or updates grow by one batch, not per insert")
    func exactReservationChurn() throws {
        for useUpdate in [false, true] {
            let index = try Self.empty(.l2)
            try index.reserveCapacity(1_200)
            try index.addBatch(Self.data.data.values)
            let bytes = index.allocatedBytes
            var model = Model()
            for i in 0..<1_200 { model.rows[UInt64(i)] = Self.data.data[i] }
            var rng = TestRandom(seed: 17)
            var next: UInt64 = 5_000
            var grown = 0
            for step in 0..<300 {
                let row = Self.data.data[rng.below(1_200)]
                var id = Array(model.rows.keys)[rng.below(model.rows.count)]
                if useUpdate {
                    try index.update(id, row)
                } else {
                    #expect(index.remove(id))
                    model.rows[id] = nil
                    id = next
                    next += 1
                    try index.add(row, id: id)
                }
                model.rows[id] = row
                // The pending removals wait for their batch (1,200 / 64 = 18) instead of
                // a pass over the graph at every insert.
                if step < 18 { #expect(index.removedCount == step + 1, "step \(step)") }
                if index.allocatedBytes != bytes { grown = index.allocatedBytes }
            }
            // One growth by a batch of slots: about 18/1,200 of the per-slot memory.
            #expect(grown > 0 && index.allocatedBytes == grown, "update: \(useUpdate)")
            #expect(Double(index.allocatedBytes) <= 1.03 * Double(bytes), "\(index.allocatedBytes) vs \(bytes)")
            #expect(index.count == 1_200 && index.removedCount < 2 * 1_200 / 64)
            #expect(try Self.check(index, model, metric: .l2) >= 0.95)
            #expect(index.checkInvariants() == nil)
        }
    }

    @Test("compact() shrinks memory to the live set and keeps every id")
    func compaction() throws {
        let index = try makeHNSW(Self.data.data, metric: .l2, m: 8, efConstruction: 80)
        index.compactionThreshold = 1
        var model = Model()
        for i in 0..<1_200 where i % 3 != 0 { model.rows[UInt64(i)] = Self.data.data[i] }
        for i in stride(from: 0, to: 1_200, by: 3) { #expect(index.remove(UInt64(i))) }
        let before = index.allocatedBytes
        try index.compact()
        #expect(index.removedCount == 0 && index.count == 800)
        let fresh = try makeHNSW(Rows(dimension: 16, values: (0..<1_200).filter { $0 % 3 != 0 }
            .flatMap { Self.data.data[$0] }), metric: .l2, m: 8, efConstruction: 80)
        #expect(index.allocatedBytes < before)
        #expect(Double(index.allocatedBytes) <= 1.15 * Double(fresh.allocatedBytes),
                "\(index.allocatedBytes) vs fresh \(fresh.allocatedBytes)")
        #expect(try Self.check(index, model, metric: .l2) >= 0.95)
        #expect(try index.add(Self.data.data[0]) == 1_200)
    }

    @Test("Automatic compaction past the threshold")
    func automaticCompaction() throws {
        let index = try makeHNSW(Self.data.data, metric: .l2, m: 8, efConstruction: 80)
        #expect(index.compactionThreshold == 0.25)
        for i in 0..<300 { #expect(index.remove(UInt64(i))) }
        #expect(index.removedCount == 300)             // 300 of 1,200: not past 1/4
        #expect(index.remove(300))
        #expect(index.removedCount == 0 && index.count == 899)
        var model = Model()
        for i in 301..<1_200 { model.rows[UInt64(i)] = Self.data.data[i] }
        #expect(try Self.check(index, model, metric: .l2) >= 0.95)
    }

    // MARK: Format 2

    @Test("Removals, free slots and ids survive a round trip, and the copy continues identically")
    func roundTripWithRemovals() throws {
        let index = try makeHNSW(Self.data.data, metric: .cosine, m: 8, efConstruction: 80)
        index.compactionThreshold = 1
        for i in stride(from: 0, to: 1_200, by: 7) { index.remove(UInt64(i)) }
        try index.update(1, Self.data.data[2])
        try index.add(Self.data.data[3], id: 50_000)
        let bytes = index.serialized()
        let loaded = try HNSWIndex(serialized: bytes)
        #expect(loaded.serialized() == bytes)
        #expect(loaded.count == index.count && loaded.removedCount == index.removedCount)
        #expect(Array(loaded.ids) == Array(index.ids))
        for q in 0..<Self.data.queries.count {
            #expect(try loaded.search(Self.data.queries[q], k: 10) == index.search(Self.data.queries[q], k: 10))
        }
        for target in [index, loaded] {
            target.compactionThreshold = 1
            for i in 0..<40 { try target.add(Self.data.data[i]) }
            target.remove(50_000)
            try target.update(2, Self.data.data[9])
        }
        #expect(loaded.serialized() == index.serialized())
    }

    @Test("Crafted ids and free lists are refused")
    func craftedIDs() throws {
        let index = try makeHNSW(Rows(dimension: 16, values: Array(Self.data.data.values[0 ..< 16 * 40])),
                                 metric: .l2, m: 8, efConstruction: 80)
        index.compactionThreshold = 1
        index.remove(3)
        index.remove(8)
        let bytes = index.serialized()
        let layout = FileLayout(bytes)
        #expect(layout.version == IndexFormat.version && layout.removedCount == 2)
        func load(_ edit: (inout [UInt8]) -> Void) -> EdgeVecError? {
            var b = bytes
            edit(&b)
            b.reseal()
            return thrownError { () throws(EdgeVecError) in try HNSWIndex(serialized: b) }
        }
        #expect(load { $0.setU64(5, at: layout.id(4)) } == .corrupt(.invalidID(slot: 5)))   // 5 twice
        #expect(load { $0.setU64(SlotTable.maxID + 1, at: layout.id(4)) } == .corrupt(.invalidID(slot: 4)))
        #expect(load { $0.setU64(40, at: layout.id(4)) } == .corrupt(.invalidID(slot: 4)))   // not below next id
        #expect(load { $0.setU64(1 << 54, at: layout.nextID) } == .corrupt(.invalidHeader(.nextID, value: 1 << 54)))
        #expect(load { $0.setU32(4, at: layout.free) } == .corrupt(.invalidFreeList))        // a live slot
        #expect(load { $0.setU32(8, at: layout.free) } == .corrupt(.invalidFreeList))        // slot 8 twice
        #expect(load { $0.setU32(40, at: layout.free) } == .corrupt(.invalidFreeList))       // no such slot
        #expect(load { $0.setU64(SlotTable.removedKey, at: layout.id(4)) } == .corrupt(.invalidFreeList))
        #expect(try HNSWIndex(serialized: bytes).serialized() == bytes)
    }

    // MARK: Format 1

    /// `Tests/Fixtures/format-v1`, committed from the last format-1 release.
    static let fixtures: String = {
        var path = #filePath
        for _ in 0..<2 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path + "/Fixtures/format-v1/"
    }()

    static func readFile(_ path: String) throws -> [UInt8] {
        guard let file = fopen(path, "rb") else { throw EdgeVecError.io(errno: errno) }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }

    static func fvecs(_ bytes: [UInt8]) -> Rows {
        let dimension = Int(bytes.u32(at: 0))
        var values: [Float] = []
        var offset = 0
        while offset < bytes.count {
            for d in 0..<dimension { values.append(Float(bitPattern: bytes.u32(at: offset + 4 + 4 * d))) }
            offset += 4 + 4 * dimension
        }
        return Rows(dimension: dimension, values: values)
    }

    @Test("Format 1 files from the last release load with ids 0…n−1 and equal a fresh build",
          arguments: [("v1-hnsw-l2.evi", Metric.l2), ("v1-hnsw-cosine.evi", .cosine)])
    func formatOneHNSW(file: String, metric: Metric) throws {
        let bytes = try Self.readFile(Self.fixtures + file)
        #expect(bytes.u32(at: 8) == 1)
        let rows = Self.fvecs(try Self.readFile(Self.fixtures + "v1-base.fvecs"))
        let loaded = try HNSWIndex(serialized: bytes)
        #expect(loaded.count == 300 && loaded.removedCount == 0)
        #expect(Array(loaded.ids) == (0..<300).map(UInt64.init))
        // The same build today gives the same graph: nothing in format 2 changed how an index grows.
        let fresh = try HNSWIndex(dimension: 12, metric: metric,
                                  configuration: HNSWConfiguration(m: 6, efConstruction: 40, efSearch: 32, seed: 7))
        for i in 0..<rows.count { try fresh.add(rows[i]) }
        #expect(GraphSnapshot(loaded) == GraphSnapshot(fresh))
        #expect(loaded.serialized() == fresh.serialized())
        for i in stride(from: 0, to: 300, by: 37) {
            #expect(try loaded.search(rows[i], k: 1).first?.id == UInt64(i))
            #expect(loaded.vector(for: UInt64(i)) == fresh.vector(for: UInt64(i)))
        }
        // It goes on like the fresh one, and saves as format 2.
        for target in [loaded, fresh] {
            try target.add(rows[0], id: 1_000)
            target.remove(5)
        }
        #expect(loaded.serialized() == fresh.serialized())
        #expect(loaded.serialized().u32(at: 8) == IndexFormat.version)
        // Format 1 kept offsets 68 and 88 reserved.
        for offset in [68, 88] {
            var reserved = bytes
            reserved.setU32(1, at: offset)
            reserved.reseal()
            #expect(thrownError { () throws(EdgeVecError) in try HNSWIndex(serialized: reserved) }
                    == .corrupt(.invalidHeader(.reserved, value: 1)))
        }
    }

    @Test("A format 1 flat file loads")
    func formatOneFlat() throws {
        let bytes = try Self.readFile(Self.fixtures + "v1-flat-dot.evi")
        let rows = Self.fvecs(try Self.readFile(Self.fixtures + "v1-base.fvecs"))
        let loaded = try FlatIndex(serialized: bytes)
        let fresh = try FlatIndex(dimension: 12, metric: .dot)
        try fresh.addBatch(rows.values)
        #expect(Array(loaded.ids) == (0..<300).map(UInt64.init))
        #expect(loaded.serialized() == fresh.serialized())
        #expect(loaded.serialized().u32(at: 8) == IndexFormat.version)
    }

    // MARK: Flat

    @Test("Flat: ids, remove, update, reuse and compaction against brute force; format 2 round trip",
          arguments: Metric.allCases)
    func flatAgainstModel(metric: Metric) throws {
        let index = try FlatIndex(dimension: 16, metric: metric)
        var model = Model()
        var live: [UInt64] = []
        var rng = TestRandom(seed: 5 + UInt64(metric.rawValue))
        #expect(try index.addBatch(Array(Self.data.data.values[0 ..< 16 * 300]), ids: (0..<300).map { UInt64($0) * 3 }) == 0)
        for i in 0..<300 {
            model.rows[UInt64(i) * 3] = Self.data.data[i]
            live.append(UInt64(i) * 3)
        }
        #expect(thrownError { () throws(EdgeVecError) in try index.add(Self.data.data[0], id: 3) } == .duplicateId(3))
        for step in 0..<900 {
            let row = Self.data.data[300 + step % 900]
            switch rng.below(3) {
            case 0 where live.count > 1:
                let at = rng.below(live.count)
                #expect(index.remove(live[at]))
                model.rows[live[at]] = nil
                live.swapAt(at, live.count - 1)
                live.removeLast()
            case 1:
                let id = try index.add(row)
                model.rows[id] = row
                live.append(id)
            default:
                let id = live[rng.below(live.count)]
                try index.update(id, row)
                model.rows[id] = row
            }
        }
        #expect(index.count == model.rows.count && Set(index.ids) == Set(model.rows.keys))
        // Exact: the results are the model's k nearest (ties at the k-th distance aside).
        for q in 0..<Self.data.queries.count {
            let query = Self.data.queries[q]
            let results = try index.search(query, k: 10)
            let exact = model.exact(metric, query, k: 10)
            #expect(results.count == 10)
            for r in results {
                let d = try #require(exact.distances[r.id], "id \(r.id) is not live")
                #expect(close(r.distance, d) && d <= exact.radius + max(abs(exact.radius), 1) * 1e-5)
            }
        }
        let bytes = index.serialized()
        let loaded = try FlatIndex(serialized: bytes)
        #expect(loaded.serialized() == bytes && Array(loaded.ids) == Array(index.ids))
        // A flat file never has pending slots (the fuzzer's finding: one loaded, then saved other bytes).
        let small = try FlatIndex(dimension: 16, metric: metric)
        small.compactionThreshold = 1
        try small.addBatch(Array(Self.data.data.values[0 ..< 16 * 3]))
        #expect(small.remove(1))
        var pending = small.serialized()
        #expect(FileLayout(pending).removedCount == 1 && pending.u32(at: 88) == 1)
        pending.setU32(0, at: 88)
        pending.reseal()
        #expect(thrownError { () throws(EdgeVecError) in try FlatIndex(serialized: pending) }
                == .corrupt(.invalidHeader(.freeCount, value: 0)))
        let before = index.allocatedBytes
        index.compactionThreshold = 1
        try index.compact()
        #expect(index.removedCount == 0 && index.allocatedBytes <= before && Set(index.ids) == Set(model.rows.keys))
        for id in live { #expect(index.remove(id)) }
        #expect(index.count == 0 && index.removedCount == 0)
        #expect(try index.add(Self.data.data[0]) == loaded.nextID)
    }
}
