@testable import EdgeVecFilter
@testable import EdgeVecSearch
import EdgeVec
import Foundation
import Testing

/// Metadata in an index and filtered search, against a brute-force model:
/// the reference evaluation (`Filter.matches`) over each vector's metadata
/// and exact distances.
@Suite("Filtered search")
struct FilteredSearchTests {
    static let data = ClusteredData(count: 2_000, queries: 40, dimension: 16, clusters: 10, seed: 77)
    static let sections = (0..<20).map { "s\($0)" }

    /// Skewed sections (s0 about a third of the rows, s19 a handful), sizes,
    /// a sometimes-missing bool, a sometimes-double ratio, tags.
    static func metadata(_ row: Int, _ rng: inout TestRandom) -> Metadata {
        var fields: [(name: String, value: MetadataValue)] = []
        let u = rng.unit()
        fields.append((name: "section", value: .string(sections[min(19, Int(-log2(max(u, 1e-9)) * 3))])))
        fields.append((name: "size", value: .integer(Int64(rng.below(1_000)) - 100)))
        if rng.below(3) > 0 { fields.append((name: "free", value: .bool(rng.below(2) == 0))) }
        if rng.below(4) == 0 { fields.append((name: "ratio", value: .double(rng.unit() * 2 - 1))) }
        else if rng.below(4) == 0 { fields.append((name: "ratio", value: .integer(Int64(rng.below(3))))) }
        if rng.below(2) == 0 {
            fields.append((name: "tags", value: .strings((0..<rng.below(4)).map { _ in "t\(rng.below(8))" })))
        }
        return Metadata(fields)
    }

    static let filters = [
        #"section = "s0""#, #"section = "s3""#, #"section = "s9""#, #"section IN ("s1", "s2", "s12")"#,
        #"section != "s0""#, #"size < 0"#, #"size BETWEEN 100 AND 150"#, #"free = true AND size > 500"#,
        #"free IS NULL OR ratio > 0.5"#, #"tags CONTAINS "t3" AND NOT section = "s0""#, #"ratio >= 1"#,
        #"section > "s5" AND size >= 890"#, #"NOT (free = false OR size < 800)"#, #"missing = 1"#,
        #"section IS NOT NULL"#, #"size NOT IN (1, 2, 3) AND ratio IS NULL"#,
    ]

    struct Model {
        var rows: [UInt64: (vector: [Float], metadata: Metadata)] = [:]

        func exact(_ filter: Filter, _ metric: Metric, _ query: [Float], k: Int)
            -> (ids: [UInt64], radius: Float, distances: [UInt64: Float], matches: Int) {
            var all: [(Float, UInt64)] = []
            var distances: [UInt64: Float] = [:]
            for (id, row) in rows where filter.matches(row.metadata) {
                let d = referenceDistance(metric, Rows(dimension: row.vector.count, values: row.vector), 0, query)
                all.append((d, id))
                distances[id] = d
            }
            all.sort { $0 < $1 }
            let top = all.prefix(k)
            return (top.map(\.1), top.last?.0 ?? 0, distances, all.count)
        }
    }

    /// Exactly min(k, matches) results, each matching and live, sorted, with
    /// the model's distance; returns (hits, wanted) for tie-aware recall.
    static func check(_ index: HNSWIndex, _ model: Model, _ filter: Filter, _ text: String, metric: Metric,
                      k: Int = 10, ef: Int = 64) throws -> (Int, Int) {
        var hits = 0, wanted = 0
        for q in 0..<data.queries.count {
            let query = data.queries[q]
            let results = try index.search(query, k: k, ef: ef, filter: filter)
            let exact = model.exact(filter, metric, query, k: k)
            #expect(results.count == min(k, exact.matches), "\(text), query \(q)")
            for i in results.indices.dropFirst() { #expect(results[i - 1].distance <= results[i].distance) }
            for r in results {
                guard let d = exact.distances[r.id] else {
                    Issue.record("\(text), query \(q): id \(r.id) does not match or is not live")
                    continue
                }
                #expect(close(r.distance, d), "\(text), query \(q), id \(r.id)")
                if d <= exact.radius + max(abs(exact.radius), 1) * 1e-5 { hits += 1 }
            }
            wanted += exact.ids.count
        }
        return (hits, wanted)
    }

    static func build(_ metric: Metric) throws -> (HNSWIndex, Model) {
        let index = try HNSWIndex(dimension: 16, metric: metric,
                                  configuration: HNSWConfiguration(m: 8, efConstruction: 80, efSearch: 64, seed: 3))
        var model = Model()
        var rng = TestRandom(seed: 5)
        for row in 0..<data.data.count {
            let m = metadata(row, &rng)
            let id = try index.add(data.data[row], metadata: m)
            model.rows[id] = (data.data[row], m)
        }
        return (index, model)
    }

    @Test("Filtered searches return exactly min(k, matches), all matching, at every selectivity", arguments: Metric.allCases)
    func againstBruteForce(metric: Metric) throws {
        let (index, model) = try Self.build(metric)
        var hits = 0, wanted = 0
        for text in Self.filters {
            let (h, w) = try Self.check(index, model, try Filter(text), text, metric: metric)
            hits += h
            wanted += w
        }
        let recall = Double(hits) / Double(max(wanted, 1))
        #expect(recall >= 0.95, "recall \(recall)")
    }

    @Test("FlatIndex: filtered search is exact; metadata through remove, update and compaction")
    func flat() throws {
        let index = try FlatIndex(dimension: 16, metric: .l2)
        index.compactionThreshold = 1
        var model = Model()
        var rng = TestRandom(seed: 5)
        for row in 0..<Self.data.data.count {
            let m = Self.metadata(row, &rng)
            model.rows[try index.add(Self.data.data[row], metadata: m)] = (Self.data.data[row], m)
        }
        for id in stride(from: UInt64(0), to: 2_000, by: 5) {
            #expect(index.remove(id))
            model.rows[id] = nil
        }
        for id in stride(from: UInt64(1), to: 2_000, by: 10) {
            try index.update(id, Self.data.data[0])
            model.rows[id]!.vector = Self.data.data[0]
        }
        func checkAll() throws {
            for text in Self.filters {
                let filter = try Filter(text)
                for q in 0..<10 {
                    let query = Self.data.queries[q]
                    let got = try index.search(query, k: 10, filter: filter)
                    let exact = model.exact(filter, .l2, query, k: 10)
                    #expect(got.count == min(10, exact.matches), "\(text)")
                    for r in got { #expect(exact.distances[r.id].map { close(r.distance, $0) } == true, "\(text)") }
                    if let last = got.last { #expect(close(last.distance, exact.radius), "\(text)") }
                }
            }
            for (id, row) in model.rows {
                #expect(index.metadata(for: id) == Self.reordered(row.metadata, index.filtering.store))
            }
        }
        try checkAll()
        try index.compact()
        #expect(index.removedCount == 0)
        try checkAll()
    }

    @Test("k as large as the index returns exactly the matching set")
    func wholeMatchingSet() throws {
        let (index, model) = try Self.build(.l2)
        for text in Self.filters {
            let filter = try Filter(text)
            let got = Set(try index.search(Self.data.queries[0], k: 2_000, ef: 64, filter: filter).map(\.id))
            let want = Set(model.rows.filter { filter.matches($0.value.metadata) }.map(\.key))
            #expect(got == want, "\(text)")
        }
    }

    @Test("Random filters over random metadata: the columns evaluate as the reference does")
    func randomFilters() throws {
        var rng = TestRandom(seed: 91)
        var store = MetadataStore()
        var rows: [Metadata] = []
        let names = ["a", "b", "c.d"]
        let strings = ["", "x", "y", "é", "日本"]
        for slot in 0..<300 {
            var fields: [(name: String, value: MetadataValue)] = []
            for name in names where rng.below(4) > 0 {
                let value: MetadataValue
                switch rng.below(5) {
                case 0: value = .string(strings[rng.below(strings.count)])
                case 1: value = .integer(Int64(rng.below(7)) - 3)
                case 2: value = .double([-1.5, 0, 0.5, 2, 3][rng.below(5)])
                case 3: value = .bool(rng.below(2) == 0)
                default: value = .strings((0..<rng.below(3)).map { _ in strings[rng.below(strings.count)] })
                }
                fields.append((name: name, value: value))
            }
            rows.append(Metadata(fields))
            store.extend(to: slot + 1)
            store.set(rows[slot], at: slot)
        }
        // Overwrite and clear some, as updates and removals do.
        for slot in stride(from: 0, to: 300, by: 7) {
            rows[slot] = slot % 2 == 0 ? Metadata() : rows[(slot * 13) % 300]
            store.set(rows[slot], at: slot)
        }
        for slot in 0..<300 { #expect(store.metadata(at: slot) == Self.reordered(rows[slot], store)) }
        var scratch = FilterScratch()
        var g = TestRandom(seed: 17)
        for _ in 0..<1_500 {
            let node = FilterTests.randomNode(&g, depth: 0, fields: names, strings: strings, small: true)
            let filter = try Filter(FilterTests.print(node, &g))
            var bits = [UInt64](repeating: 0, count: store.bitmapWords)
            store.evaluate(filter, into: &bits, scratch: &scratch)
            for slot in 0..<300 {
                let bit = (bits[slot >> 6] >> UInt64(slot & 63)) & 1 == 1
                #expect(bit == filter.matches(rows[slot]), "slot \(slot): \(FilterTests.print(node, &g))")
            }
        }
    }

    /// `rows[slot]` with its fields in the store's column order.
    static func reordered(_ metadata: Metadata, _ store: MetadataStore) -> Metadata {
        Metadata(store.columns.compactMap { column in
            let name = String(decoding: column.name, as: UTF8.self)
            return metadata[name].map { (name: name, value: $0) }
        })
    }

    @Test("Metadata survives update, remove, slot reuse and compaction; bad metadata changes nothing")
    func lifecycle() throws {
        var (index, model) = try Self.build(.cosine)
        index.compactionThreshold = 1
        var rng = TestRandom(seed: 8)
        let ids = Array(model.rows.keys).sorted()
        for id in ids.prefix(600) where id % 3 == 0 {       // removed
            #expect(index.remove(id))
            model.rows[id] = nil
        }
        for id in ids.prefix(600) where id % 3 == 1 {       // updated: metadata kept
            let v = Self.data.data[Int(id + 1) % 2_000]
            try index.update(id, v)
            model.rows[id]!.vector = v
        }
        for i in 0..<150 {                                  // new ids into freed slots
            let m = Self.metadata(i, &rng)
            let id = try index.add(Self.data.data[i], id: 10_000 + UInt64(i), metadata: m)
            model.rows[id] = (Self.data.data[i], m)
        }
        for id in ids.dropFirst(600).prefix(50) {           // replaced metadata
            let m: Metadata = ["section": "s19", "size": 5]
            try index.setMetadata(m, for: id)
            model.rows[id]!.metadata = m
        }
        for (id, row) in model.rows { #expect(index.metadata(for: id) == Self.reordered(row.metadata, index)) }
        #expect(index.metadata(for: 0) == nil)
        for text in Self.filters.prefix(8) { _ = try Self.check(index, model, try Filter(text), text, metric: .cosine) }
        try index.compact()
        #expect(index.removedCount == 0)
        for (id, row) in model.rows { #expect(index.metadata(for: id) == Self.reordered(row.metadata, index)) }
        for text in Self.filters.prefix(8) { _ = try Self.check(index, model, try Filter(text), text, metric: .cosine) }

        let before = index.serialized()
        let bytes = index.allocatedBytes
        #expect(throws: EdgeVecError.invalidMetadata(.invalidFieldName("not"))) {
            try index.add(Self.data.data[0], metadata: ["not": 1])
        }
        #expect(throws: EdgeVecError.invalidMetadata(.invalidNumber(field: "n"))) {
            try index.setMetadata(["n": .double(.infinity)], for: ids[700])
        }
        #expect(throws: EdgeVecError.unknownId(99_999)) { try index.setMetadata(["a": 1], for: 99_999) }
        #expect(index.serialized() == before && index.allocatedBytes == bytes)
        #expect(index.metadata(for: ids[700]) == Self.reordered(model.rows[ids[700]]!.metadata, index))
    }

    /// A search keeps the bitmap of its last filter while the index is
    /// unchanged; every kind of change must make the next search see it.
    @Test("A filter repeated across searches sees every change to the index in between")
    func repeatedFilterSeesChanges() throws {
        var (index, model) = try Self.build(.l2)
        let flat = try FlatIndex(dimension: 16, metric: .l2)
        for (id, row) in model.rows.sorted(by: { $0.key < $1.key }) {
            try flat.add(row.vector, id: id, metadata: row.metadata)
        }
        let filter = try Filter(#"section = "s3""#)
        let query = Self.data.queries[0]
        func expectExact(_ step: String) throws {
            let want = model.exact(filter, .l2, query, k: 10)
            for (name, got) in [("HNSW", try index.search(query, k: 10, ef: 200, filter: filter)),
                                ("flat", try flat.search(query, k: 10, filter: filter)),
                                // Another compilation of the same text.
                                ("HNSW, compiled again", try index.search(query, k: 10, ef: 200,
                                                                          filter: try Filter(#"section = "s3""#)))] {
                #expect(got.count == min(10, want.matches), "\(step), \(name)")
                #expect(got.first?.id == want.ids.first, "\(step), \(name)")
                for r in got { #expect(want.distances[r.id] != nil, "\(step), \(name): id \(r.id) does not match") }
            }
        }
        func both(_ change: (any _FilterCacheTestIndex) throws -> Void) throws {
            try change(index)
            try change(flat)
        }
        try expectExact("first")
        try expectExact("again")
        let m: Metadata = ["section": "s3"]
        try both { _ = try $0.add(query, id: 50_000, metadata: m) }          // a match at distance 0
        model.rows[50_000] = (query, m)
        try expectExact("add")
        try both { try $0.setMetadata(["section": "s4"], for: 50_000) }     // no longer matches
        model.rows[50_000]!.metadata = ["section": "s4"]
        try expectExact("setMetadata")
        try both { try $0.setMetadata(m, for: 50_000) }
        model.rows[50_000]!.metadata = m
        try expectExact("setMetadata back")
        try both { _ = $0.remove(50_000) }
        model.rows[50_000] = nil
        try expectExact("remove")
        let other = model.rows.first { filter.matches($0.value.metadata) && $0.key < 2_000 }!.key
        try both { try $0.update(other, query) }                              // moves onto the query
        model.rows[other]!.vector = query
        try expectExact("update")
        try both { try $0.compact() }
        try expectExact("compact")
    }

    static func reordered(_ metadata: Metadata, _ index: HNSWIndex) -> Metadata {
        reordered(metadata, index.filtering.store)
    }
}

/// The changes `repeatedFilterSeesChanges` makes, on either index kind.
protocol _FilterCacheTestIndex {
    func add(_ vector: [Float], id: UInt64?, metadata: Metadata) throws(EdgeVecError) -> UInt64
    func setMetadata(_ metadata: Metadata, for id: UInt64) throws(EdgeVecError)
    func remove(_ id: UInt64) -> Bool
    func update(_ id: UInt64, _ vector: [Float]) throws(EdgeVecError)
    func compact() throws(EdgeVecError)
}
extension HNSWIndex: _FilterCacheTestIndex {}
extension FlatIndex: _FilterCacheTestIndex {}
