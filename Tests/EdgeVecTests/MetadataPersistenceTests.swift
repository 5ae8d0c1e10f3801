@testable import EdgeVecFilter
@testable import EdgeVecSearch
import EdgeVec
import Foundation
import Testing

/// Metadata in its binary form and in index files (format version 3): round
/// trips, and hostile bytes refused with where they went wrong.
@Suite("Metadata persistence")
struct MetadataPersistenceTests {
    /// Every type, lists empty and not, strings empty, multi-byte and at the limit.
    static func sample(_ i: Int) -> Metadata {
        var fields: [(name: String, value: MetadataValue)] = [
            (name: "section", value: .string(["games", "libs", "数据库", "", "café ☕"][i % 5])),
            (name: "size", value: .integer(i % 7 == 0 ? -MetadataValue.maxInteger : Int64(i * 37 - 500))),
        ]
        if i % 3 == 0 { fields.append((name: "ratio", value: .double(Double(i) / 7 - 3))) }
        if i % 4 != 1 { fields.append((name: "free", value: .bool(i % 2 == 0))) }
        if i % 5 == 2 { fields.append((name: "tags", value: .strings((0..<(i % 4)).map { "t\($0 * i % 9)" }))) }
        if i == 11 { fields.append((name: "long.name_", value: .string(String(repeating: "é", count: 2_048)))) }
        return Metadata(fields)
    }

    @Test("The binary form round-trips, and every prefix, extension or bad byte of it is refused")
    func binaryForm() throws {
        for i in 0..<40 {
            let metadata = Self.sample(i)
            let bytes = metadata.encoded()
            let back = try bytes.withUnsafeBytes { (raw) throws(MetadataProblem) in try Metadata(encoded: raw) }
            #expect(back == metadata)
            for cut in 0..<bytes.count {
                let problem = Self.problem(Array(bytes[..<cut]))
                guard case .malformed(let at)? = problem else {
                    Issue.record("prefix \(cut) of sample \(i): \(String(describing: problem))")
                    continue
                }
                #expect(at <= cut)
            }
            #expect(Self.problem(bytes + [0]) == .malformed(offset: bytes.count))
        }
        // One integer field "a" = 1: count, name, type, value.
        let one: [UInt8] = [1, 1, 0x61, 2] + [1, 0, 0, 0, 0, 0, 0, 0]
        #expect(Self.problem(one) == nil)
        #expect(Self.problem([1, 1, 0x61, 9] + one[4...]) == .malformed(offset: 3))          // unknown type
        #expect(Self.problem([1, 1, 0x61, 0] + one[4...]) == .malformed(offset: 3))          // "missing" is no type
        #expect(Self.problem([1, 1, 0x61, 4, 2]) == .malformed(offset: 4))                   // bool 2
        #expect(Self.problem([1, 1, 0x61, 4, 1]) == nil)
        #expect(Self.problem([1, 3, 0x41, 0x4E, 0x44, 4, 1]) == .invalidFieldName("AND"))   // a keyword
        #expect(Self.problem([1, 1, 0x31, 4, 1]) == .invalidFieldName("1"))
        #expect(Self.problem([2, 1, 0x61, 4, 1, 1, 0x61, 4, 0]) == .duplicateField("a"))
        #expect(Self.problem([65]) == .tooManyFields(65))
        // 2⁵³ is one past the largest integer.
        #expect(Self.problem([1, 1, 0x61, 2] + Self.le64(UInt64(1) << 53)) == .invalidNumber(field: "a"))
        #expect(Self.problem([1, 1, 0x61, 3] + Self.le64(Double.infinity.bitPattern)) == .invalidNumber(field: "a"))
        // Strings: over the limit (a size, named as `validate()` names it), past the end, and not UTF-8.
        let long = [UInt8](repeating: 0x78, count: 4_097)
        #expect(Self.problem([1, 1, 0x61, 1] + Self.le32(4_097) + long) == .tooLarge(field: "a"))
        #expect(Self.problem([1, 1, 0x61, 1] + Self.le32(4_096) + long.dropLast()) == nil)
        #expect(Self.problem([1, 1, 0x61, 5, 1, 0] + Self.le32(4_097) + long) == .tooLarge(field: "a"))
        #expect(Self.problem([1, 1, 0x61, 1] + Self.le32(4_097)) == .malformed(offset: 8))
        #expect(Self.problem([2, 2, 0x31, 0x61, 4, 1, 1, 0x61, 1] + Self.le32(4_097) + long)
                == .invalidFieldName("1a"), "fields in order, as validate() goes")
        for bad: [UInt8] in [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xFF], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80]] {
            #expect(Self.problem([1, 1, 0x61, 1] + Self.le32(UInt32(bad.count)) + bad) == .malformed(offset: 8))
        }
        #expect(Self.problem([1, 1, 0x61, 5, 0x01, 0x01]) == .malformed(offset: 6))           // 257 strings, none there
        #expect(Self.problem([1, 1, 0x61, 5, 0x01, 0x01] + [UInt8](repeating: 0, count: 257 * 4)) == .tooLarge(field: "a"))
        #expect(Self.problem([1, 1, 0x61, 5, 0, 0]) == nil)                                   // empty list
    }

    static func problem(_ bytes: [UInt8]) -> MetadataProblem? {
        do {
            _ = try bytes.withUnsafeBytes { (raw) throws(MetadataProblem) in try Metadata(encoded: raw) }
            return nil
        } catch let problem as MetadataProblem { return problem } catch { return nil }
    }

    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    static func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    static let filters = [#"section = "games""#, #"size < 0 AND free = true"#, #"tags CONTAINS "t0""#,
                          #"ratio IS NOT NULL OR section IN ("数据库", "")"#, #"free IS NULL"#]

    @Test("Metadata survives save and load in both index kinds, byte for byte", arguments: [false, true])
    func roundTrip(flat: Bool) throws {
        let data = ClusteredData(count: 400, queries: 20, dimension: 8, clusters: 6, seed: 5)
        let ids = (0..<400).map { UInt64($0 * 3) }
        let index: LoadedIndex
        let setMetadata: (Metadata, UInt64) throws -> Void
        let update: (UInt64, [Float]) throws -> Void
        if flat {
            let f = try FlatIndex(dimension: 8, metric: .l2)
            try f.addBatch(data.data.values, ids: ids)
            (index, setMetadata, update) = (.flat(f), { try f.setMetadata($0, for: $1) }, { try f.update($0, $1) })
        } else {
            let h = try HNSWIndex(dimension: 8, metric: .l2, configuration: HNSWConfiguration(m: 8, efConstruction: 40, seed: 3))
            try h.addBatch(data.data.values, ids: ids)
            (index, setMetadata, update) = (.hnsw(h), { try h.setMetadata($0, for: $1) }, { try h.update($0, $1) })
        }
        for i in 0..<400 where i % 6 != 5 { try setMetadata(Self.sample(i), ids[i]) }
        for i in stride(from: 0, to: 400, by: 7) { index.remove(ids[i]) }
        try update(ids[1], data.data[9])
        let bytes = index.serialized()
        #expect(bytes.u32(at: 8) == 3)
        let loaded = try bytes.withUnsafeBytes { (raw) throws(EdgeVecError) in try LoadedIndex.load(serialized: raw) }
        #expect(loaded.serialized() == bytes)
        for i in 0..<400 {
            let id = UInt64(i * 3)
            #expect(loaded.metadata(for: id) == index.metadata(for: id))
            if i % 7 != 0 && i % 6 != 5 { #expect(loaded.metadata(for: id) == Self.sample(i)) }
        }
        for text in Self.filters {
            let filter = try Filter(text)
            for j in 0..<data.queries.count {
                let q = data.queries[j]
                #expect(try loaded.search(q, k: 10, ef: 50, filter: filter) == index.search(q, k: 10, ef: 50, filter: filter))
            }
        }
    }

    /// A flat index of 10 vectors, slot 2 removed, {"a": 1} on slots 1 and 3:
    /// its metadata section is at a known place with known bytes.
    static func tiny() throws -> (bytes: [UInt8], section: Int) {
        let index = try FlatIndex(dimension: 4, metric: .l2)
        for i in 0..<10 {
            let v: [Float] = [Float(i), 1, 0, 0]
            if i == 1 || i == 3 { try index.add(v, metadata: ["a": 1]) } else { try index.add(v) }
        }
        index.remove(2)
        let bytes = index.serialized()
        let section = FileLayout(bytes).metadata
        let record: [UInt8] = [1, 1, 0x61, 2] + le64(1)
        let expected: [UInt8] = le32(1) + [1, 0x61] + le32(2) + le32(1) + le32(12) + record + le32(3) + le32(12) + record
        #expect(Array(bytes[section ..< bytes.count - 4]) == expected)
        return (bytes, section)
    }

    @Test("Crafted metadata sections are refused at the byte that is wrong")
    func craftedSections() throws {
        let (bytes, m) = try Self.tiny()
        func crafted(_ name: String, _ edit: (inout [UInt8]) -> Void) -> EdgeVecError.Corruption? {
            CorruptionTests.crafted(bytes, name) { b, _ in edit(&b) }
        }
        #expect(crafted("column count 2") { $0.setU32(2, at: m) } == .invalidMetadata(offset: m + 6))
        #expect(crafted("column name 1") { $0[m + 5] = 0x31 } == .invalidMetadata(offset: m + 4))
        #expect(crafted("record count 3") { $0.setU32(3, at: m + 6) } == .invalidMetadata(offset: m + 50))
        #expect(crafted("record count 11") { $0.setU32(11, at: m + 6) } == .invalidMetadata(offset: m + 6))
        #expect(crafted("record count 1") { $0.setU32(1, at: m + 6) } == .invalidMetadata(offset: m + 30))
        #expect(crafted("slots out of order") { $0.setU32(1, at: m + 30) } == .invalidMetadata(offset: m + 30))
        #expect(crafted("slot past the end") { $0.setU32(10, at: m + 30) } == .invalidMetadata(offset: m + 30))
        #expect(crafted("a removed slot") { $0.setU32(2, at: m + 10) } == .invalidMetadata(offset: m + 10))
        #expect(crafted("record longer") { $0.setU32(13, at: m + 14) } == .invalidMetadata(offset: m + 10))
        #expect(crafted("record past the end") { $0.setU32(40, at: m + 34) } == .invalidMetadata(offset: m + 50))
        #expect(crafted("undeclared field") { $0[m + 20] = 0x62 } == .invalidMetadata(offset: m + 10))
        #expect(crafted("integer 2^53") { $0.setU64(UInt64(1) << 53, at: m + 22) } == .invalidMetadata(offset: m + 10))
        #expect(crafted("unknown type") { $0[m + 21] = 7 } == .invalidMetadata(offset: m + 10))
        #expect(crafted("empty record") { $0.setU32(1, at: m + 14); $0[m + 18] = 0 }
                == .invalidMetadata(offset: m + 10))
        // The body must leave room for the section's two counts.
        var short = Array(bytes[..<m]) + [0, 0, 0, 0]
        short.setU64(UInt64(short.count - 96), at: 80)
        short += [0, 0, 0, 0]
        #expect(CorruptionTests.crafted(short, "4-byte section") { _, _ in } == .invalidHeader(.bodyBytes, value: UInt64(m - 92)))
        // Bytes after the last record.
        var longer = Array(bytes[..<(bytes.count - 4)]) + [0, 0, 0, 0]
        longer.setU64(UInt64(longer.count - 96), at: 80)
        longer += [0, 0, 0, 0]
        #expect(CorruptionTests.crafted(longer, "trailing section bytes") { _, _ in } == .invalidMetadata(offset: m + 50))
    }

    @Test("A version 2 file (no metadata section) still loads")
    func version2() throws {
        let index = try HNSWIndex(dimension: 8, metric: .cosine, configuration: HNSWConfiguration(m: 8, efConstruction: 40, seed: 9))
        let data = ClusteredData(count: 300, queries: 0, dimension: 8, clusters: 4, seed: 2)
        try index.addBatch(data.data.values)
        index.remove(7)
        let v3 = index.serialized()
        let m = FileLayout(v3).metadata
        #expect(m + 8 == v3.count - 4)
        var v2 = Array(v3[..<m]) + [0, 0, 0, 0]
        v2.setU32(2, at: 8)
        v2.setU64(UInt64(v2.count - 100), at: 80)
        v2.reseal()
        let loaded = try HNSWIndex(serialized: v2)
        #expect(loaded.serialized() == v3)
    }
}
