@testable import EdgeVecSearch
import EdgeVec
import Testing

/// `metadataFields` (what `edgevec info` lists) against a model that counts
/// the live vectors' metadata directly, through adds, replacements, removals,
/// updates and compaction, for both index kinds.
@Suite("Metadata fields")
struct MetadataFieldsTests {
    /// name → per-type counts, from the metadata of the live ids.
    static func model(_ live: [UInt64: Metadata]) -> [String: [MetadataType: Int]] {
        var out: [String: [MetadataType: Int]] = [:]
        for metadata in live.values {
            for field in metadata.fields {
                let type: MetadataType
                switch field.value {
                case .string: type = .string
                case .integer: type = .integer
                case .double: type = .double
                case .bool: type = .bool
                case .strings: type = .strings
                }
                out[field.name, default: [:]][type, default: 0] += 1
            }
        }
        return out
    }

    static func check(_ fields: [MetadataField], _ live: [UInt64: Metadata],
                      sourceLocation: SourceLocation = #_sourceLocation) {
        let want = model(live)
        #expect(Set(fields.map(\.name)) == Set(want.keys), sourceLocation: sourceLocation)
        #expect(fields.count == Set(fields.map(\.name)).count, "a field listed twice", sourceLocation: sourceLocation)
        for field in fields {
            let counts = want[field.name] ?? [:]
            #expect(field.types == MetadataType.allCases.filter { counts[$0] != nil }, "\(field.name)",
                    sourceLocation: sourceLocation)
            for type in MetadataType.allCases {
                #expect(field.count(of: type) == counts[type] ?? 0, "\(field.name) \(type.name)",
                        sourceLocation: sourceLocation)
            }
            #expect(field.count == counts.values.reduce(0, +), "\(field.name)", sourceLocation: sourceLocation)
        }
    }

    static func randomMetadata(_ rng: inout TestRandom) -> Metadata {
        var fields: [(name: String, value: MetadataValue)] = []
        if rng.below(4) > 0 { fields.append((name: "section", value: .string("s\(rng.below(5))"))) }
        switch rng.below(4) {
        case 0: fields.append((name: "size", value: .integer(Int64(rng.below(100)))))
        case 1: fields.append((name: "size", value: .double(rng.unit())))
        default: break
        }
        if rng.below(3) == 0 { fields.append((name: "free", value: .bool(rng.below(2) == 0))) }
        if rng.below(5) == 0 { fields.append((name: "tags", value: .strings(["a", "b"]))) }
        if rng.below(50) == 0 { fields.append((name: "rare", value: .integer(1))) }
        return Metadata(fields)
    }

    @Test("first-seen order, types and counts of a fresh index")
    func order() throws {
        let index = try HNSWIndex(dimension: 2, metric: .l2)
        #expect(index.metadataFields.isEmpty)
        try index.add([0, 0], metadata: ["b": 1, "a": "x"])
        try index.add([1, 0], metadata: ["a": 2.5, "c": true])
        try index.add([2, 0])
        try index.add([3, 0], metadata: ["a": ["p", "q"]])
        let fields = index.metadataFields
        #expect(fields.map(\.name) == ["b", "a", "c"])
        #expect(fields[1].types == [.string, .double, .strings])
        #expect(fields[1].count == 3 && fields[1].count(of: .double) == 1 && fields[1].count(of: .integer) == 0)
        #expect(fields[0].types == [.integer] && fields[0].count == 1)
        #expect(fields[2].types == [.bool] && fields[2].count == 1)
    }

    @Test("HNSW: counts follow adds, setMetadata, remove, update and compact", arguments: [1, 2])
    func hnsw(seed: Int) throws {
        var rng = TestRandom(seed: UInt64(seed))
        let index = try HNSWIndex(dimension: 4, metric: .l2)
        index.compactionThreshold = 2      // compaction only when asked
        var live: [UInt64: Metadata] = [:]
        for step in 0..<1_500 {
            let vector = (0..<4).map { _ in Float(rng.unit()) }
            switch rng.below(10) {
            case 0..<6:
                let metadata = Self.randomMetadata(&rng)
                let id = try index.add(vector, metadata: metadata)
                live[id] = metadata
            case 6:
                if let id = live.keys.randomElement(using: &rng) {
                    let metadata = Self.randomMetadata(&rng)
                    try index.setMetadata(metadata, for: id)
                    live[id] = metadata
                }
            case 7, 8:
                if let id = live.keys.randomElement(using: &rng) {
                    #expect(index.remove(id))
                    live[id] = nil
                }
            default:
                if let id = live.keys.randomElement(using: &rng) { try index.update(id, vector) }
            }
            if step % 250 == 249 { Self.check(index.metadataFields, live) }
        }
        try index.compact()
        Self.check(index.metadataFields, live)
        for id in Array(live.keys) {
            index.remove(id)
            live[id] = nil
        }
        #expect(index.metadataFields.isEmpty)
    }

    @Test("Flat: counts follow adds, setMetadata, remove, update and compact")
    func flat() throws {
        var rng = TestRandom(seed: 9)
        let index = try FlatIndex(dimension: 3, metric: .cosine)
        index.compactionThreshold = 2
        var live: [UInt64: Metadata] = [:]
        for _ in 0..<800 {
            let vector = (0..<3).map { _ in Float(rng.unit()) + 0.1 }
            switch rng.below(10) {
            case 0..<6:
                let metadata = Self.randomMetadata(&rng)
                live[try index.add(vector, metadata: metadata)] = metadata
            case 6:
                if let id = live.keys.randomElement(using: &rng) {
                    let metadata = Self.randomMetadata(&rng)
                    try index.setMetadata(metadata, for: id)
                    live[id] = metadata
                }
            case 7, 8:
                if let id = live.keys.randomElement(using: &rng) {
                    index.remove(id)
                    live[id] = nil
                }
            default:
                if let id = live.keys.randomElement(using: &rng) { try index.update(id, vector) }
            }
        }
        Self.check(index.metadataFields, live)
        try index.compact()
        Self.check(index.metadataFields, live)
        Self.check(LoadedIndex.flat(index).metadataFields, live)
    }
}
