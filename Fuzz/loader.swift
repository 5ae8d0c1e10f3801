// Fuzz target `loader`: bytes → LoadedIndex.load(serialized:) (both kinds, every format
// version the build reads). See docs/FUZZING.md.
//
// Per input:
//  1. Load the bytes as they are. A refusal must be `EdgeVecError.corrupt(_)` or
//     `.outOfMemory`, nothing else.
//  2. A refusal for a checksum mismatch (what nearly every mutation causes) is retried
//     with both checksums recomputed (`KnownFormats.reseal`), so that mutations reach
//     the header, vector and graph checks behind the checksums.
//  3. Whatever loads must be sound:
//     - the HNSW graph passes `checkInvariants()` (degrees, ids, reachability);
//     - every stored vector is one `add` would accept (finite, ‖v‖² ≤ Float.max / 8
//       under l2/dot, unit length under cosine);
//     - it saves the same bytes it was loaded from (a file of an older format version
//       must save as the current version, and that output must load and save itself);
//     - searches with queries derived from the input return well-formed answers, and
//       with ef ≥ size exactly the brute-force k nearest (the layer-0 graph is connected,
//       so such a search is exhaustive);
//     - one or two inserts succeed, keep the invariants, stay exhaustive, and the index
//       then round-trips through its bytes.
// Any violation traps (a finding). `-write_seeds=DIR` writes the seed corpus and exits.
import EdgeVecAllocators
import EdgeVecFilter
import EdgeVecSearch
#if canImport(Glibc)
import Glibc
#endif

/// What this target knows of each format version: where its checksums are (to re-seal
/// mutated bytes) and where its vectors and ids are (for the brute-force model). When a
/// format version is added, add a case to both and seed files of it (-write_seeds writes
/// the current version; older versions' seed files stay in Fuzz/corpus/loader as v1-*, v2-*).
enum KnownFormats {
    static func version(_ b: [UInt8]) -> UInt32? { b.count >= 12 ? b.u32(at: 8) : nil }

    /// Recomputes the checksums of `b` in place; false when there is nothing to re-seal.
    static func reseal(_ b: inout [UInt8]) -> Bool {
        switch version(b) {
        default:
            // Version 1 (and, until told otherwise, any other): CRC-32C of bytes 0..<92 at
            // 92, CRC-32C of everything before the last 4 bytes in the last 4 bytes.
            guard b.count >= 100 else { return false }
            b.setU32(b.crc32c(0..<92), at: 92)
            b.setU32(b.crc32c(0..<(b.count - 4)), at: b.count - 4)
            return true
        }
    }

    /// The live vectors of loaded bytes (stored form: cosine ones normalised) with their
    /// ids, in slot order, and the next id to assign; nil for a version this target cannot
    /// read (then only the model checks are skipped).
    static func contents(_ b: [UInt8], dimension: Int) -> Model? {
        // 96-byte header, then n · dimension little-endian float32 (n slots: live and removed).
        let n = Int(b.u64(at: 24))
        func vector(_ row: Int) -> [Float] {
            (0..<dimension).map { i in Float(bitPattern: b.u32(at: 96 + 4 * (row * dimension + i))) }
        }
        switch version(b) {
        case 1:
            return Model(ids: (0..<n).map(UInt64.init), vectors: (0..<n).map(vector), nextID: UInt64(n))
        case 2, 3:
            // (Version 3 adds a metadata section after these, checked through the API.)
            // Then levels (padded to 4), parents, layer-0 blocks, upper words; the next id,
            // n slot ids (all ones: removed), removed slot numbers.
            let m = Int(b.u32(at: 32)), upper = Int(b.u64(at: 72)), flat = b.u32(at: 12) == 1
            let tail = 96 + n * dimension * 4 + (flat ? 0 : ((n + 3) & ~3) + n * 4 + n * (1 + 2 * m) * 4 + upper * 4)
            var model = Model(ids: [], vectors: [], nextID: b.u64(at: tail))
            for row in 0..<n where b.u64(at: tail + 8 + 8 * row) != .max {
                model.ids.append(b.u64(at: tail + 8 + 8 * row))
                model.vectors.append(vector(row))
            }
            return model
        default:
            return nil
        }
    }
}

/// What a loaded index holds: its live vectors, their ids, and the id `add` assigns next.
struct Model {
    var ids: [UInt64]
    var vectors: [[Float]]
    var nextID: UInt64
}

@_cdecl("LLVMFuzzerTestOneInput")
public func loaderTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size > 0 && data != nil ? [UInt8](UnsafeBufferPointer(start: data, count: size)) : []
    #if FUZZ_PLANTED_BUG
    plantedBits = []
    #endif
    if loadAndCheck(bytes) == .checksumMismatch {
        var resealed = bytes
        if KnownFormats.reseal(&resealed) { _ = loadAndCheck(resealed) }
    }
    #if FUZZ_PLANTED_BUG
    // The self-check (Fuzz/run.sh): a bug that a comparison-guided build finds in
    // seconds and blind mutation practically never (one 32-bit value, in a file that
    // must also pass every check of the loader): an index holding a float with the bits
    // "FUZZ" (1.5e16: an l2 or dot vector the loader accepts). Compared last, so that libFuzzer's table of recent comparisons
    // still holds the values when it mutates the next input.
    // (The comparison sits in a function of its own: SanitizerCoverage does not trace a
    // comparison whose only use is a loop's back edge.)
    for bits in plantedBits where isPlanted(bits) { fail("planted bug reached (FUZZ_PLANTED_BUG)") }
    #endif
    return 0
}

#if FUZZ_PLANTED_BUG
nonisolated(unsafe) var plantedBits: [UInt32] = []
@inline(never) func isPlanted(_ bits: UInt32) -> Bool { bits == 0x5A5A_5546 }
#endif

func isFlat(_ index: LoadedIndex) -> Bool {
    if case .flat = index { return true }
    return false
}

enum LoadOutcome { case loaded, checksumMismatch, refused }

func loadAndCheck(_ bytes: [UInt8]) -> LoadOutcome {
    switch load(bytes) {
    case .failure(let error):
        switch error {
        case .corrupt(.checksumMismatch): return .checksumMismatch
        case .corrupt, .outOfMemory: return .refused
        default: fail("load refused \(bytes.count) bytes with \(error), not .corrupt or .outOfMemory")
        }
    case .success(let index):
        exercise(index, bytes)
        return .loaded
    }
}

func metricOf(_ index: LoadedIndex) -> RefMetric { RefMetric(rawValue: Int32(index.metric.rawValue))! }

/// Everything a loaded index must survive; see the top of the file.
func exercise(_ index: LoadedIndex, _ bytes: [UInt8]) {
    let metric = metricOf(index)
    let dimension = index.dimension
    if case .hnsw(let h) = index, let v = h.checkInvariants() {
        fail("loaded HNSW index breaks invariant \(v)")
    }

    // The bytes it saves.
    let saved = serialized(index)
    let current = IndexFormat.version
    if KnownFormats.version(bytes) == current {
        check(saved == bytes, "a loaded index saves different bytes (\(saved.count) vs \(bytes.count) loaded)"
              + firstDifference(saved, bytes))
    } else {
        check(KnownFormats.version(saved) == current, "an old-version file saves as another old version")
        let again = reload(saved)
        check(serialized(again) == saved, "an upgraded file does not load and save itself")
    }

    #if FUZZ_PLANTED_BUG
    if KnownFormats.version(bytes) == 1 {
        plantedBits = (0 ..< index.count * dimension).map { bytes.u32(at: 96 + 4 * $0) }
    }
    #endif

    guard var model = KnownFormats.contents(bytes, dimension: dimension) else { return }
    check(model.vectors.count == index.count, "\(index.count) live vectors, the file lists \(model.vectors.count)")
    let liveIDs: [UInt64], stored: (UInt64) -> [Float]?
    switch index {
    case .hnsw(let h): (liveIDs, stored) = (Array(h.ids), h.vector(for:))
    case .flat(let f): (liveIDs, stored) = (Array(f.ids), f.vector(for:))
    }
    check(liveIDs == model.ids, "the live ids are not the file's")
    for (id, v) in zip(model.ids, model.vectors) { check(stored(id) == v, "vector(for: \(id)) is not the file's") }
    for (row, v) in model.vectors.enumerated() {
        // Stored vectors must be ones `add` accepts, cosine ones normalised (issue 19).
        check(validationError(v, dimension: dimension, metric: metric) == nil,
              "loaded vector \(row) is one add refuses: code \(validationError(v, dimension: dimension, metric: metric)!)")
        if metric == .cosine {
            let norm = squaredNorm(v)
            check(abs(norm - 1) <= 1e-3, "loaded cosine vector \(row) has squared norm \(norm), not 1")
        }
    }

    var random = FuzzRandom(seed: bytes.withUnsafeBytes { fnv1a($0) })
    searchChecks(index, model, metric, &random, "loaded")
    metadataChecks(index, model, &random)

    // Inserts (reusing free slots first) and, for HNSW, a removal continue from the loaded
    // state (generator, graph, tree, free and pending slots).
    for _ in 0 ..< 1 + random.below(2) {
        let v = derivedVector(model.vectors, dimension: dimension, metric: metric, &random)
        let id: UInt64
        do throws(EdgeVecError) {
            switch index {
            case .hnsw(let h): id = try h.add(v)
            case .flat(let f): id = try f.add(v)
            }
        } catch {
            if error == .outOfMemory || error == .invalidId(model.nextID) { return }
            fail("add of a valid vector to a loaded index failed: \(error)")
        }
        check(id == model.nextID, "add returned id \(id), expected \(model.nextID)")
        model.ids.append(id)
        model.vectors.append(storedForm(v, metric: metric))
        model.nextID += 1
        if case .hnsw(let h) = index, let violation = h.checkInvariants() {
            fail("after an insert into a loaded index: invariant \(violation)")
        }
    }
    if model.ids.count > 1 {
        let row = random.below(model.ids.count)
        let id = model.ids[row]
        switch index {
        case .hnsw(let h):
            check(h.remove(id) && !h.contains(id), "remove of live id \(id) failed or left it there")
            if let violation = h.checkInvariants() { fail("after a removal: invariant \(violation)") }
        case .flat(let f):
            check(f.remove(id) && !f.contains(id), "remove of live id \(id) failed or left it there")
        }
        model.ids.remove(at: row)
        model.vectors.remove(at: row)
    }
    searchChecks(index, model, metric, &random, "after insert and removal")
    let bytes2 = serialized(index)
    check(serialized(reload(bytes2)) == bytes2, "after insert: the saved index does not load and save the same bytes")
}

func serialized(_ index: LoadedIndex) -> [UInt8] {
    switch index {
    case .hnsw(let h): return h.serialized()
    case .flat(let f): return f.serialized()
    }
}

func reload(_ bytes: [UInt8]) -> LoadedIndex {
    switch load(bytes) {
    case .success(let index): return index
    case .failure(let error): fail("bytes saved by the library do not load: \(error)")
    }
}

func load(_ bytes: [UInt8]) -> Result<LoadedIndex, EdgeVecError> {
    bytes.withUnsafeBytes { raw in
        Result { () throws(EdgeVecError) -> LoadedIndex in try LoadedIndex.load(serialized: raw) }
    }
}

func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> String {
    for i in 0 ..< min(a.count, b.count) where a[i] != b[i] {
        return " (first difference at byte \(i): saved \(a[i]), loaded \(b[i]))"
    }
    return ""
}

/// A valid vector for `add`: a stored vector nudged, or small values.
func derivedVector(_ vectors: [[Float]], dimension: Int, metric: RefMetric, _ random: inout FuzzRandom) -> [Float] {
    var v: [Float]
    if !vectors.isEmpty && random.below(2) == 0 {
        v = vectors[random.below(vectors.count)]
        let i = random.below(dimension)
        v[i] += Float(random.below(5)) / 8
    } else {
        v = (0..<dimension).map { _ in Float(random.below(9) - 4) / 2 }
    }
    if validationError(v, dimension: dimension, metric: metric) != nil {
        v = [Float](repeating: 0, count: dimension)
        v[0] = 1
    }
    return v
}

/// A few searches: a stored vector as query, a derived one; default ef, ef 1, ef ≥ size.
/// Ids come back as the model's row numbers (an id the model does not hold is a finding).
func searchChecks(_ index: LoadedIndex, _ model: Model, _ metric: RefMetric, _ random: inout FuzzRandom,
                  _ when: String) {
    let n = index.count
    let dimension = index.dimension
    let vectors = model.vectors
    var rowOf: [UInt64: Int32] = [:]
    for (row, id) in model.ids.enumerated() { rowOf[id] = Int32(row) }
    var queries: [[Float]] = [derivedVector(vectors, dimension: dimension, metric: metric, &random)]
    if n > 0 { queries.append(vectors[random.below(n)]) }
    let keys = UnsafeMutablePointer<UInt64>.allocate(capacity: n + 3)
    let ids = UnsafeMutablePointer<Int32>.allocate(capacity: n + 3)
    let distances = UnsafeMutablePointer<Float>.allocate(capacity: n + 3)
    defer { keys.deallocate(); ids.deallocate(); distances.deallocate() }
    for q in queries {
        let k = 1 + random.below(n + 2)
        for ef in [nil, 1, min(max(n, k), 65536)] as [Int?] {
            let effective: Int
            switch index {
            case .hnsw(let h): effective = ef ?? h.configuration.efSearch
            case .flat: effective = Int.max   // exact by construction
            }
            let exhaustive = max(effective, k) >= n
            let found: Int
            do throws(EdgeVecError) {
                found = try q.withUnsafeBufferPointer { (qb) throws(EdgeVecError) in
                    try index.search(qb, k: k, ef: ef, ids: keys, distances: distances)
                }
            } catch {
                if error == .outOfMemory { continue }
                fail("\(when): search (k \(k), ef \(String(describing: ef))) failed: \(error)")
            }
            for i in 0..<found {
                guard let row = rowOf[keys[i]] else { fail("\(when): search returned id \(keys[i]), not a live id") }
                ids[i] = row
            }
            checkSearchAnswer("\(when) search k \(k) ef \(String(describing: ef))",
                              query: storedForm(q, metric: metric), vectors: vectors, metric: metric, k: k, n: found,
                              ids: ids, distances: distances, exhaustive: exhaustive)
        }
    }
}

/// Filtered searches over loaded metadata: filters built from the values found, checked
/// against the reference evaluation (`Filter.matches`) of each live vector's metadata:
/// exactly min(k, matches) results, each one matching.
func metadataChecks(_ index: LoadedIndex, _ model: Model, _ random: inout FuzzRandom) {
    let rows = model.ids.map { id -> Metadata in
        guard let m = index.metadata(for: id) else { fail("metadata(for: \(id)) is nil for a live id") }
        return m
    }
    var texts: [String] = ["x IS NULL"]
    if let metadata = rows.first(where: { !$0.fields.isEmpty }) {
        let field = metadata.fields[random.below(metadata.fields.count)]
        texts.append(field.name + " IS NOT NULL")
        switch field.value {
        case .string(let s): texts.append(field.name + " >= " + quoted(s))
        case .integer(let x): texts.append(field.name + " = " + String(x))
        case .double(let x): texts.append(field.name + " <= " + String(x))
        case .bool(let b): texts.append("NOT " + field.name + " = " + (b ? "true" : "false"))
        case .strings(let list): texts.append(field.name + " CONTAINS " + quoted(list.first ?? ""))
        }
    }
    let n = model.ids.count
    let query = model.vectors.isEmpty ? [Float](repeating: 1, count: index.dimension) : model.vectors[random.below(n)]
    for text in texts {
        let filter: Filter
        do throws(EdgeVecError) { filter = try Filter(text) } catch { fail("filter \(text) does not parse: \(error)") }
        let matching = Set(zip(model.ids, rows).filter { filter.matches($0.1) }.map(\.0))
        let k = 1 + random.below(n + 2)
        do throws(EdgeVecError) {
            let results = try index.search(query, k: k, filter: filter)
            check(results.count == min(k, matching.count),
                  "filter \(text): \(results.count) results, expected min(\(k), \(matching.count))")
            for r in results { check(matching.contains(r.id), "filter \(text) returned \(r.id), which does not match") }
        } catch {
            if error == .outOfMemory { continue }
            fail("filtered search (\(text)) failed: \(error)")
        }
    }
}

/// A filter-language string literal.
func quoted(_ s: String) -> String {
    var out = "\""
    for c in s.unicodeScalars {
        if c == "\"" || c == "\\" { out.unicodeScalars.append("\\") }
        out.unicodeScalars.append(c)
    }
    return out + "\""
}

// MARK: - Seeds

@_cdecl("LLVMFuzzerInitialize")
public func loaderInitialize(_ argc: UnsafeMutablePointer<CInt>?,
                             _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    writeSeedsIfAsked(argc, argv, writeLoaderSeeds)
}

/// Small valid files of both kinds, every metric, empty and not, several M and
/// dimensions (1, 3, 8, 17: below, at and across a 16-float stride).
func writeLoaderSeeds(_ dir: String) {
    var random = FuzzRandom(seed: 19)
    // Values with all their mantissa bits in use (not multiples of 1/4): libFuzzer files a
    // comparison in its table under (a ^ b) % 32, so floats whose low bits are all zero
    // would share one slot and push each other out (see the planted bug). Two files keep
    // quarter values, for exact ties.
    // Cosine refuses zero rows: one that came out all zero gets a 1 in its first component.
    func rows(_ count: Int, _ dimension: Int, _ metric: Metric, quarters: Bool) -> [Float] {
        var values = (0 ..< count * dimension).map { _ in
            quarters ? Float(random.below(17) - 8) / 4 : Float(random.below(2001) - 1000) / 307
        }
        for r in 0 ..< count where metric == .cosine && values[r * dimension ..< (r + 1) * dimension].allSatisfy({ $0 == 0 }) {
            values[r * dimension] = 1
        }
        return values
    }
    for metric in Metric.allCases {
        for (dimension, count, m) in [(3, 0, 4), (1, 1, 2), (3, 5, 2), (8, 24, 3), (17, 6, 4), (2, 40, 2)] {
            do throws(EdgeVecError) {
                let index = try HNSWIndex(dimension: dimension, metric: metric,
                                          configuration: HNSWConfiguration(m: m, efConstruction: 16, efSearch: 8,
                                                                           seed: UInt64(count)))
                try index.addBatch(rows(count, dimension, metric, quarters: count == 40))
                writeFile("\(dir)/hnsw-\(metric.name)-d\(dimension)-n\(count)-m\(m).evi", index.serialized())
            } catch {
                fail("seed: \(error)")
            }
        }
        // Format 2's own: ids of the caller's choosing, removed slots pending and free.
        for (dimension, count, m, removals) in [(3, 12, 2, 3), (8, 90, 3, 40)] {
            do throws(EdgeVecError) {
                let index = try HNSWIndex(dimension: dimension, metric: metric,
                                          configuration: HNSWConfiguration(m: m, efConstruction: 16, efSearch: 8,
                                                                           seed: UInt64(count)))
                index.compactionThreshold = 1
                let ids = (0..<count).map { UInt64($0) * 1_000_003 % 9_007_199_254_740_991 }
                try index.addBatch(rows(count, dimension, metric, quarters: false), ids: ids)
                for i in 0..<removals { index.remove(ids[(i * 7) % count]) }
                try index.add(rows(1, dimension, metric, quarters: false))
                for (i, id) in ids.enumerated() where i % 3 != 2 && index.contains(id) {
                    try index.setMetadata(seedMetadata(i), for: id)
                }
                writeFile("\(dir)/hnsw-\(metric.name)-d\(dimension)-n\(count)-m\(m)-removed\(removals).evi",
                          index.serialized())
            } catch {
                fail("seed: \(error)")
            }
        }
        for (dimension, count) in [(4, 0), (3, 7), (5, 9)] {
            do throws(EdgeVecError) {
                let index = try FlatIndex(dimension: dimension, metric: metric)
                index.compactionThreshold = 1
                try index.addBatch(rows(count, dimension, metric, quarters: count == 7))
                if count == 9 {         // removed slots, one of them reused
                    for id: UInt64 in [1, 4, 6] { index.remove(id) }
                    try index.add(rows(1, dimension, metric, quarters: false), id: 1 << 40)
                    for id: UInt64 in [0, 2, 3, 1 << 40] { try index.setMetadata(seedMetadata(Int(id % 7)), for: id) }
                }
                writeFile("\(dir)/flat-\(metric.name)-d\(dimension)-n\(count).evi", index.serialized())
            } catch {
                fail("seed: \(error)")
            }
        }
    }
}

/// Format 3's own: metadata of every type, in a few shapes.
func seedMetadata(_ i: Int) -> Metadata {
    var fields: [(name: String, value: MetadataValue)] = [(name: "s", value: .string(["a", "b\"q", "é"][i % 3]))]
    if i % 2 == 0 { fields.append((name: "n", value: .integer(Int64(i) - 3))) }
    if i % 3 == 1 { fields.append((name: "d", value: .double(Double(i) / 4))) }
    if i % 4 == 3 { fields.append((name: "b", value: .bool(i % 8 == 3))) }
    if i % 5 == 1 { fields.append((name: "l.t", value: .strings(["x", "y"].prefix(i % 3).map { $0 }))) }
    return Metadata(fields)
}
