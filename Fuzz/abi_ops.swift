// Fuzz target `abi_ops`: a sequence of C-ABI calls (Modules/Bridge, include/edgevec.h)
// decoded from the input, each checked against a brute-force model kept here.
// See docs/FUZZING.md.
//
// The input is read as operations: one byte picks the operation, the next ones its
// arguments (handles, dimensions 1–8, small counts, values from a small set with NaN,
// ±inf, 0, tiny and huge ones; see `floatValue`). The model holds, per live handle,
// the parameters and the vectors as stored. Checked after every call:
//  - return codes: ids, sizes, properties, and the error code of every bad argument
//    (bad/stale/forged handle −20, NULL −20, metric −21, parameters −5, k −4,
//    non-finite −2, cosine zero −3, too large −10, buffer too small −22, corrupt −8);
//  - a rejected insert or batch leaves the index's bytes exactly as they were; so does
//    ev_reserve; a batch is all or nothing;
//  - search answers: min(k, size) hits, distinct ids, ascending distances that match
//    the model within float32 rounding; with ef ≥ size (ev_search is then exhaustive,
//    the layer-0 graph being connected by construction) the k nearest of the model,
//    ties in either order;
//  - ev_save → ev_load gives an index with the same properties, bit-identical search
//    answers, the same saved bytes, and the same bytes again after the same inserts
//    into both; damaged, truncated or extended bytes are refused with −8;
//  - ids (issue 20): ev_insert returns the model's next id; ev_remove of a live id
//    takes it out of every later answer, of an unknown one returns 0; ev_update
//    replaces the stored vector (−13 for an unknown id); ev_insert_with_id −11 for a
//    present id, −12 above 2⁵³ − 1; ev_contains and ev_get agree with the model;
//  - handles: positive, never issued twice, refused (−20) once freed;
//  - ev_last_error_message: after a core error (−1 … −19) non-empty, after the
//    bridge's own codes (−20 …) empty;
//  - metadata (issue 21): ev_insert_with_metadata, ev_insert_batch_with_metadata,
//    ev_set_metadata with valid forms from a small vocabulary (the model encodes them
//    itself), corrupted ones and raw hostile bytes: accepted exactly when
//    `Metadata(encoded:)` accepts the bytes (each batch row and no bytes left over),
//    −15 otherwise with the index's bytes unchanged (a batch all or nothing);
//    ev_get_metadata gives back what the model holds (0 for an absent id); update
//    keeps metadata, remove drops it, save/load keeps it;
//  - filters: ev_compile_filter of templates over the same fields and of raw bytes
//    succeeds exactly when the parser accepts the text (−14 otherwise); filter handles
//    are never issued twice and are refused (−20) once freed, as an index handle, or
//    forged; ev_search_filtered returns min(k, matches) hits, each matching by the
//    reference evaluation (`Filter.matches`), checked like ev_search over the matching
//    vectors, the k nearest when the matches are few enough for the exact scan.
// Every live index and filter is freed at the end of an input. `-write_seeds=DIR` writes seeds.
import EdgeVecBridge
import EdgeVecFilter
import EdgeVecSearch
#if canImport(Glibc)
import Glibc
#endif

let maxLive = 4          // live indexes per input
let maxSize = 48         // vectors per index (M 2 gives several layers well before that)
let maxModelDimension = 64
let maxSteps = 400
let maxID: UInt64 = (1 << 53) - 1

/// Every handle ev_create/ev_load returned in this process: none may come back.
nonisolated(unsafe) var issuedHandles = Set<Int32>()

struct ModelIndex {
    var dimension: Int
    var metric: RefMetric
    var m: Int32
    var efConstruction: Int32
    var efSearchStored: Int32
    var handleEf: Int32
    var vectors: [[Float]] = []
    /// `ids[i]` is the id of `vectors[i]`, `meta[i]` its metadata; `nextID` the one ev_insert assigns next.
    var ids: [UInt64] = []
    var meta: [Metadata] = []
    var nextID: UInt64 = 0
    var hasOutput = false

    /// The model row of each returned id (Int32.max, which the answer check refuses, for an id it does not hold).
    func rows(_ keys: [UInt64]) -> [Int32] {
        keys.map { key in ids.firstIndex(of: key).map { Int32($0) } ?? Int32.max }
    }

    /// The error ev_insert/ev_insert_batch give before looking at the vectors
    /// when `n` ids are to be assigned (−12: they would pass 2⁵³ − 1).
    func assignError(_ n: Int) -> Int32? {
        nextID > maxID || n > 0 && UInt64(n - 1) > maxID - nextID ? -12 : nil
    }

    mutating func append(_ v: [Float], id: UInt64, metadata: Metadata = Metadata()) {
        vectors.append(storedForm(v, metric: metric))
        ids.append(id)
        meta.append(metadata)
        if id >= nextID { nextID = id + 1 }
    }

    mutating func remove(at row: Int) {
        ids.remove(at: row)
        vectors.remove(at: row)
        meta.remove(at: row)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func abiOpsTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var session = Session(FuzzBytes(data, size))
    session.run()
    return 0
}

/// Operation codes (the first byte of each operation, modulo 19).
enum Op: UInt8 {
    case create = 0, insert, insertStaged, insertBatch, search, searchStaged, saveLoad, free,
         setEfSearch, reserve, properties, twin, badHandle, nullPointers, remove, misc,
         metadata, filtered, filterHandles
}

struct Session {
    var r: FuzzBytes
    var live: [Int32: ModelIndex] = [:]
    var order: [Int32] = []
    var stale: [Int32] = []
    /// Live filter handles and their filters (the reference), and freed ones.
    var filters: [Int32: Filter] = [:]
    var filterOrder: [Int32] = []
    var staleFilters: [Int32] = []

    init(_ r: FuzzBytes) { self.r = r }

    mutating func run() {
        var steps = 0
        while !r.atEnd && steps < maxSteps {
            steps += 1
            switch Op(rawValue: r.byte() % 19)! {
            case .create: create()
            case .insert: insert(staged: false)
            case .insertStaged: insert(staged: true)
            case .insertBatch: insertBatch()
            case .search: search(staged: false)
            case .searchStaged: search(staged: true)
            case .saveLoad: saveLoad()
            case .free: free()
            case .setEfSearch: setEfSearch()
            case .reserve: reserve()
            case .properties: properties(pickHandle())
            case .twin: twin()
            case .badHandle: badHandle()
            case .nullPointers: nullPointers()
            case .remove: mutate()
            case .misc: misc()
            case .metadata: metadata()
            case .filtered: filtered()
            case .filterHandles: filterHandles()
            }
        }
        for h in order {
            ev_free(h)
            expect(ev_size(h), -20, "ev_size after the final ev_free")
        }
        for f in filterOrder { ev_free_filter(f) }
        #if FUZZ_PLANTED_BUG
        // The self-check (Fuzz/run.sh): a bug that a comparison-guided build finds in
        // seconds and blind mutation practically never: a 32-bit magic error code given
        // to ev_error_message while a live index holds three vectors (so only after a
        // valid create and inserts). Compared last, so that libFuzzer's table of recent
        // comparisons still holds the values when it mutates the next input.
        for code in plantedCodes where isPlanted(code) { fail("planted bug reached (FUZZ_PLANTED_BUG)") }
        #endif
    }

    #if FUZZ_PLANTED_BUG
    var plantedCodes: [Int32] = []
    #endif

    // MARK: Reading arguments

    func isLive(_ h: Int32) -> Bool { live[h] != nil }

    /// A live handle most of the time, else one that must be refused (unless it happens
    /// to equal a live one, which the model then treats as that index).
    mutating func pickHandle() -> Int32 {
        let b = r.byte()
        if b < 224, !order.isEmpty { return order[Int(b) % order.count] }
        switch b % 8 {
        case 0: return 0
        case 1: return -1
        case 2: return stale.last ?? Int32.max
        case 3: return stale.first ?? Int32.min
        case 4: return order.first.map { $0 ^ (1 << 16) } ?? 1     // same slot, another generation
        case 5: return order.first.map { $0 &+ 1 } ?? 65537        // the next slot
        case 6: return Int32.max
        default: return Int32(bitPattern: r.u32())
        }
    }

    /// A float: mostly a multiple of 1/4 in −4 … 3.75; 3% from `specialFloats`.
    mutating func float() -> Float {
        let b = r.byte()
        return b < 248 ? floatValue(b % 224) : specialFloats[Int(r.byte()) % specialFloats.count]
    }

    mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in float() } }

    // MARK: Checks

    func expect(_ got: Int32, _ expected: Int32, _ what: @autoclosure () -> String,
                file: StaticString = #fileID, line: UInt = #line) {
        expect(Int64(got), Int64(expected), what(), file: file, line: line)
    }

    /// For the calls that return an id (int64).
    func expect(_ got: Int64, _ expected: Int64, _ what: @autoclosure () -> String,
                file: StaticString = #fileID, line: UInt = #line) {
        check(got == expected, "\(what()): returned \(got), expected \(expected)", file: file, line: line)
        guard expected < 0 else { return }
        let message = ev_last_error_message()
        let length = strlen(message)
        check(length < 512, "\(what()): ev_last_error_message is \(length) bytes long", file: file, line: line)
        if expected >= -19 {
            check(length > 0, "\(what()): ev_last_error_message empty after error \(expected)", file: file, line: line)
        } else {
            check(length == 0, "\(what()): ev_last_error_message not empty after bridge error \(expected)",
                  file: file, line: line)
        }
    }

    /// A new handle from ev_create/ev_load: positive, not live, never issued before.
    func checkNewHandle(_ h: Int32, _ what: @autoclosure () -> String) {
        check(h > 0, "\(what()): handle \(h) is not positive")
        check(!isLive(h), "\(what()): handle \(h) is already live")
        check(issuedHandles.insert(h).inserted, "\(what()): handle \(h) was issued before (a freed handle came back)")
        if issuedHandles.count > 1 << 22 { issuedHandles.removeAll() }   // bounded memory in long runs
    }

    func savedBytes(_ h: Int32) -> [UInt8] {
        let size = ev_save_size(h)
        check(size >= 100, "ev_save_size returned \(size)")
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let written = bytes.withUnsafeMutableBytes { ev_save(h, $0.baseAddress, size) }
        expect(written, size, "ev_save into a buffer of ev_save_size bytes")
        return bytes
    }

    /// Searches `h` with buffers of exactly min(k, size) entries (ASan catches overruns);
    /// returns the code and the hits.
    func rawSearch(_ h: Int32, _ query: [Float], k: Int32, ef: Int32, room: Int) -> (Int32, [UInt64], [Float]) {
        let ids = UnsafeMutablePointer<UInt64>.allocate(capacity: max(room, 1))
        let distances = UnsafeMutablePointer<Float>.allocate(capacity: max(room, 1))
        defer { ids.deallocate(); distances.deallocate() }
        let n = query.withUnsafeBufferPointer { ev_search(h, $0.baseAddress, k, ef, ids, distances) }
        guard n > 0 else { return (n, [], []) }
        return (n, Array(UnsafeBufferPointer(start: ids, count: Int(n))),
                Array(UnsafeBufferPointer(start: distances, count: Int(n))))
    }

    /// Expected error code of a search, or nil when it must succeed.
    func searchError(_ model: ModelIndex, _ query: [Float], k: Int32, ef: Int32) -> Int32? {
        if k < 1 { return -4 }
        let effective = ef > 0 ? ef : model.handleEf
        if effective > 65536 { return -5 }
        return validationError(query, dimension: model.dimension, metric: model.metric)
    }

    // MARK: Operations

    mutating func create() {
        let db = r.byte()
        let dimension: Int32 = db < 240 ? Int32(1 + db % 8) : [0, -1, 65537, Int32.min, 16, 17, 33, 65536][Int(db % 8)]
        let mb = r.byte()
        let metric: Int32 = mb < 240 ? Int32(mb % 3) : [3, -1, 255, Int32.min, Int32.max, 4, 1000, -3][Int(mb % 8)]
        // The largest valid values (M 128, ef 65536) size big scratch buffers: rare choices.
        let m: Int32 = r.pick([2, 2, 3, 4, 5, 8, 16, 3, 2, 4, 6, 0, 1, 129, -1], rare: [128])
        let efConstruction: Int32 = r.pick([1, 2, 4, 8, 16, 40, 100, 200, 3, 10, 24, 64, 0, -5, 65537], rare: [65536, 1000])
        let withEf = r.byte()
        let efSearch: Int32 = withEf < 128 ? 64 : r.pick([1, 2, 8, 64, 5, 16, 0, 65537, -1], rare: [65536])
        let seed = UInt64(r.byte()) &* 0x9E37_79B9_7F4A_7C15
        if live.count >= maxLive { return }
        let h = withEf < 128 ? ev_create(dimension, metric, m, efConstruction, seed)
            : ev_create_with_ef_search(dimension, metric, m, efConstruction, efSearch, seed)
        let what = { "ev_create(dim \(dimension), metric \(metric), m \(m), efC \(efConstruction), efS \(efSearch))" }
        guard let refMetric = RefMetric(rawValue: metric) else { return expect(h, -21, what()) }
        let valid = (1...65536).contains(dimension) && (2...128).contains(m) && (1...65536).contains(efConstruction)
            && (1...65536).contains(efSearch)
        guard valid else { return expect(h, -5, what()) }
        checkNewHandle(h, what())
        live[h] = ModelIndex(dimension: Int(dimension), metric: refMetric, m: m, efConstruction: efConstruction,
                             efSearchStored: efSearch, handleEf: efSearch)
        order.append(h)
        properties(h)
    }

    mutating func insert(staged: Bool) {
        let h = pickHandle()
        guard var model = live[h] else {
            var junk = [Float](repeating: 1, count: 8)
            expect(junk.withUnsafeMutableBufferPointer { ev_insert(h, $0.baseAddress) }, Int64(-20), "ev_insert(bad handle \(h))")
            check(ev_input(h, 1) == nil, "ev_input(bad handle \(h)) is not NULL")
            return
        }
        guard model.vectors.count < maxSize, model.dimension <= maxModelDimension else { return }
        let v = floats(model.dimension)
        let expected = model.assignError(1) ?? validationError(v, dimension: model.dimension, metric: model.metric)
        let before = expected != nil ? savedBytes(h) : []
        let id: Int64
        if staged {
            guard let p = ev_input(h, 1) else { fail("ev_input(\(h), 1) returned NULL") }
            for i in 0..<v.count { p[i] = v[i] }
            id = ev_insert(h, p)
        } else {
            id = v.withUnsafeBufferPointer { ev_insert(h, $0.baseAddress) }
        }
        if let expected {
            expect(id, Int64(expected), "ev_insert(\(v)) metric \(model.metric)")
            check(savedBytes(h) == before, "a rejected ev_insert changed the index bytes")
        } else {
            expect(id, Int64(model.nextID), "ev_insert(\(v)) metric \(model.metric)")
            model.append(v, id: model.nextID)
            live[h] = model
        }
        expect(ev_size(h), Int32(model.vectors.count), "ev_size after ev_insert")
    }

    mutating func insertBatch() {
        let h = pickHandle()
        let cb = r.byte()
        let staged = cb & 0x80 != 0
        let count: Int32 = cb & 0x7F < 120 ? Int32(cb % 5) : [-1, Int32.min, 0, 5][Int(cb % 4)]
        guard var model = live[h] else {
            var junk = [Float](repeating: 1, count: 8)
            expect(junk.withUnsafeMutableBufferPointer { ev_insert_batch(h, $0.baseAddress, 1) }, Int64(-20),
                   "ev_insert_batch(bad handle \(h))")
            return
        }
        guard model.dimension <= maxModelDimension, model.vectors.count + Int(max(count, 0)) <= maxSize else { return }
        let values = floats(model.dimension * Int(max(count, 0)))
        let expected: Int32? = count < 0 ? -5 : model.assignError(Int(count))
            ?? validationError(values, dimension: model.dimension, metric: model.metric)
        let before = expected != nil ? savedBytes(h) : []
        let first: Int64
        if staged, count > 0 {
            guard let p = ev_input(h, count) else { fail("ev_input(\(h), \(count)) returned NULL") }
            for i in 0..<values.count { p[i] = values[i] }
            first = ev_insert_batch(h, p, count)
        } else {
            // Room for at least one float: count 0 and negative counts still pass a real pointer.
            var buffer = values.isEmpty ? [Float](repeating: 0, count: 1) : values
            first = buffer.withUnsafeMutableBufferPointer { ev_insert_batch(h, $0.baseAddress, count) }
        }
        if let expected {
            expect(first, Int64(expected), "ev_insert_batch(count \(count), \(values)) metric \(model.metric)")
            check(savedBytes(h) == before, "a rejected ev_insert_batch changed the index bytes")
        } else {
            expect(first, Int64(model.nextID), "ev_insert_batch(count \(count))")
            let start = model.nextID
            for row in 0 ..< Int(count) {
                model.append(Array(values[row * model.dimension ..< (row + 1) * model.dimension]), id: start + UInt64(row))
            }
            live[h] = model
        }
        expect(ev_size(h), Int32(model.vectors.count), "ev_size after ev_insert_batch")
    }

    mutating func search(staged: Bool) {
        let h = pickHandle()
        guard var model = live[h] else {
            var q = [Float](repeating: 1, count: 8)
            var ids = [UInt64](repeating: 0, count: 8)
            var distances = [Float](repeating: 0, count: 8)
            let rc = q.withUnsafeMutableBufferPointer { qp in
                ids.withUnsafeMutableBufferPointer { ip in
                    distances.withUnsafeMutableBufferPointer { dp in
                        ev_search(h, qp.baseAddress, 1, 0, ip.baseAddress, dp.baseAddress)
                    }
                }
            }
            expect(rc, -20, "ev_search(bad handle \(h))")
            check(ev_output(h, 1) == nil, "ev_output(bad handle \(h)) is not NULL")
            check(ev_output_distances(h) == nil, "ev_output_distances(bad handle \(h)) is not NULL")
            return
        }
        guard model.dimension <= maxModelDimension else { return }
        let size = model.vectors.count
        var query = floats(model.dimension)
        if size > 0 && r.byte() < 64 { query = model.vectors[Int(r.byte()) % size] }   // a stored vector: distance ~0
        let kb = r.byte()
        let k: Int32 = kb < 248 ? Int32(1 + Int(kb) % (size + 3))
            : (staged ? Int32(1 + size) : [0, -1, Int32.min, Int32.max, 65536, 65537, 1, 2][Int(kb % 8)])
        let eb = r.byte()
        let ef: Int32 = eb < 128 ? 0
            : r.pick([1, 2, 3, Int32(size), Int32(size + 1), 65537, -1, Int32.min, Int32.max, 10, 16, 40, 64, 100, 0],
                     rare: [65536])
        let room = k >= 1 ? min(Int(k), size) : 1
        let expected = searchError(model, query, k: k, ef: ef)
        let what = { "ev_search(k \(k), ef \(ef), size \(size), metric \(model.metric), query \(query))" }
        var n: Int32
        var keys: [UInt64] = [], distances: [Float] = []
        if staged {
            guard let q = ev_input(h, 1) else { fail("ev_input(\(h), 1) returned NULL") }
            for i in 0..<query.count { q[i] = query[i] }
            guard let outIds = ev_output(h, Int32(max(room, 1))) else { fail("ev_output(\(h), \(room)) returned NULL") }
            guard let outDistances = ev_output_distances(h) else { fail("ev_output_distances is NULL after ev_output") }
            model.hasOutput = true
            live[h] = model
            n = ev_search(h, q, k, ef, outIds, outDistances)
            if n > 0 {
                keys = Array(UnsafeBufferPointer(start: outIds, count: Int(n)))
                distances = Array(UnsafeBufferPointer(start: outDistances, count: Int(n)))
            }
        } else {
            (n, keys, distances) = rawSearch(h, query, k: k, ef: ef, room: room)
        }
        if let expected { return expect(n, expected, what()) }
        if size == 0 { return expect(n, 0, what()) }
        check(n >= 0, "\(what()): returned \(n)")
        let effective = ef > 0 ? ef : model.handleEf
        let exhaustive = max(Int(effective), min(Int(k), 65536)) >= size
        model.rows(keys).withUnsafeBufferPointer { ip in
            distances.withUnsafeBufferPointer { dp in
                checkSearchAnswer(what(), query: storedForm(query, metric: model.metric), vectors: model.vectors,
                                  metric: model.metric, k: Int(k), n: Int(n), ids: ip.baseAddress!,
                                  distances: dp.baseAddress!, exhaustive: exhaustive)
            }
        }
    }

    mutating func saveLoad() {
        let h = pickHandle()
        let variant = r.byte()
        guard let model = live[h] else {
            expect(ev_save_size(h), -20, "ev_save_size(bad handle \(h))")
            var buffer = [UInt8](repeating: 0, count: 16)
            expect(buffer.withUnsafeMutableBytes { ev_save(h, $0.baseAddress, 16) }, -20, "ev_save(bad handle \(h))")
            return
        }
        let size = ev_save_size(h)
        check(size >= 100, "ev_save_size returned \(size)")
        // A capacity below ev_save_size: −22 and not one byte written.
        let small: Int32 = variant & 1 == 0 ? size - 1 : 0
        let probe = UnsafeMutableRawPointer.allocate(byteCount: Int(max(small, 1)), alignment: 16)
        probe.initializeMemory(as: UInt8.self, repeating: 0xA5, count: Int(max(small, 1)))
        expect(ev_save(h, probe, small), -22, "ev_save(capacity \(small) < \(size))")
        for i in 0 ..< Int(max(small, 1)) where probe.load(fromByteOffset: i, as: UInt8.self) != 0xA5 {
            fail("ev_save with a too small buffer wrote byte \(i)")
        }
        probe.deallocate()
        // A larger buffer than needed: exactly `size` bytes written.
        let roomy = UnsafeMutableRawPointer.allocate(byteCount: Int(size) + 8, alignment: 16)
        expect(ev_save(h, roomy, size + 8), size, "ev_save(capacity \(size + 8))")
        roomy.deallocate()
        let bytes = savedBytes(h)

        // Damaged copies are refused.
        switch (variant >> 1) % 5 {
        case 0:
            var damaged = bytes
            let at = Int(r.u16()) % damaged.count
            damaged[at] ^= 1 << (r.byte() % 8)
            expect(damaged.withUnsafeBytes { ev_load($0.baseAddress, Int32($0.count)) }, -8, "ev_load(bit flip at \(at))")
        case 1:
            let cut = Int32(1 + Int(r.u16()) % bytes.count)
            expect(bytes.withUnsafeBytes { ev_load($0.baseAddress, size - cut) }, -8, "ev_load(\(cut) bytes short)")
        case 2:
            let longer = bytes + [r.byte()]
            expect(longer.withUnsafeBytes { ev_load($0.baseAddress, Int32($0.count)) }, -8, "ev_load(one byte more)")
        case 3:
            expect(bytes.withUnsafeBytes { ev_load($0.baseAddress, -1 - Int32(r.byte())) }, -8, "ev_load(negative length)")
        default:
            expect(ev_load(nil, size), -8, "ev_load(NULL)")
        }

        guard live.count < maxLive else { return }
        let h2 = bytes.withUnsafeBytes { ev_load($0.baseAddress, Int32($0.count)) }
        checkNewHandle(h2, "ev_load of ev_save bytes")
        var copy = model
        copy.handleEf = model.efSearchStored
        copy.hasOutput = false
        live[h2] = copy
        order.append(h2)
        properties(h2)
        check(savedBytes(h2) == bytes, "a loaded index saves different bytes")
        compareSearches(h, h2, model)
    }

    /// The same searches on two handles of equal indexes give bit-identical answers.
    mutating func compareSearches(_ a: Int32, _ b: Int32, _ model: ModelIndex) {
        let size = model.vectors.count
        guard size > 0 else { return }
        for _ in 0..<2 {
            var query = model.vectors[Int(r.byte()) % size]
            query[Int(r.byte()) % model.dimension] += Float(r.byte() % 8) / 4
            if validationError(query, dimension: model.dimension, metric: model.metric) != nil { continue }
            let k = Int32(1 + Int(r.byte()) % (size + 1))
            let ef = r.pick([1, 2, 4, Int32(size)] as [Int32])
            let (na, ia, da) = rawSearch(a, query, k: k, ef: ef, room: min(Int(k), size))
            let (nb, ib, db) = rawSearch(b, query, k: k, ef: ef, room: min(Int(k), size))
            check(na == nb && ia == ib && da.map(\.bitPattern) == db.map(\.bitPattern),
                  "saved and loaded indexes answer differently: \(na) \(ia) \(da) vs \(nb) \(ib) \(db)")
        }
    }

    mutating func free() {
        let h = pickHandle()
        ev_free(h)
        if isLive(h) {
            live[h] = nil
            order.removeAll { $0 == h }
            stale.append(h)
        }
        expect(ev_size(h), -20, "ev_size after ev_free(\(h))")
        expect(ev_dimension(h), -20, "ev_dimension after ev_free(\(h))")
        check(ev_output_distances(h) == nil, "ev_output_distances after ev_free(\(h)) is not NULL")
        for other in order {
            expect(ev_size(other), Int32(live[other]!.vectors.count), "ev_size of another index after ev_free(\(h))")
        }
    }

    mutating func setEfSearch() {
        let h = pickHandle()
        let ef: Int32 = r.pick([1, 2, 10, 64, 3, 5, 16, 0, -1, 65537, Int32.min], rare: [65536])
        guard var model = live[h] else { return expect(ev_set_ef_search(h, ef), -20, "ev_set_ef_search(bad handle)") }
        if (1...65536).contains(ef) {
            expect(ev_set_ef_search(h, ef), 0, "ev_set_ef_search(\(ef))")
            model.handleEf = ef
            live[h] = model
        } else {
            expect(ev_set_ef_search(h, ef), -5, "ev_set_ef_search(\(ef))")
        }
        expect(ev_ef_search(h), model.handleEf, "ev_ef_search")
    }

    mutating func reserve() {
        let h = pickHandle()
        let cb = r.byte()
        guard let model = live[h] else { return expect(ev_reserve(h, 10), -20, "ev_reserve(bad handle)") }
        let size = Int32(model.vectors.count)
        let capacity: Int32 = [-1, 0, size, size + 1, size + 10, 64, Int32.min, 3][Int(cb % 8)]
        let before = savedBytes(h)
        expect(ev_reserve(h, capacity), capacity < 0 ? -5 : 0, "ev_reserve(\(capacity))")
        check(savedBytes(h) == before, "ev_reserve(\(capacity)) changed the index bytes")
    }

    /// Properties of `h` against the model (or −20 for a handle that is not live).
    func properties(_ h: Int32) {
        guard let model = live[h] else {
            for (f, name) in [(ev_size, "ev_size"), (ev_dimension, "ev_dimension"), (ev_metric, "ev_metric"),
                              (ev_m, "ev_m"), (ev_ef_construction, "ev_ef_construction"),
                              (ev_ef_search, "ev_ef_search"), (ev_save_size, "ev_save_size")] as [((Int32) -> Int32, String)] {
                expect(f(h), -20, "\(name)(bad handle \(h))")
            }
            return
        }
        expect(ev_size(h), Int32(model.vectors.count), "ev_size")
        expect(ev_dimension(h), Int32(model.dimension), "ev_dimension")
        expect(ev_metric(h), model.metric.rawValue, "ev_metric")
        expect(ev_m(h), model.m, "ev_m")
        expect(ev_ef_construction(h), model.efConstruction, "ev_ef_construction")
        expect(ev_ef_search(h), model.handleEf, "ev_ef_search")
        check((ev_output_distances(h) != nil) == model.hasOutput, "ev_output_distances NULL-ness")
    }

    /// An id for ev_remove/ev_update/ev_insert_with_id/ev_get: mostly a live one, else
    /// one never used, a removed one, 2⁵³ − 1, 2⁵³ or 2⁶⁴ − 1.
    mutating func pickID(_ model: ModelIndex) -> UInt64 {
        let b = r.byte()
        if b < 160 && !model.ids.isEmpty { return model.ids[Int(r.byte()) % model.ids.count] }
        return r.pick([model.nextID, model.nextID + 1000, 7, maxID, maxID + 1, .max], rare: [1 << 40])
    }

    /// ev_remove, ev_update, ev_insert_with_id, ev_contains and ev_get against the model:
    /// a removed id leaves every later answer while the others keep theirs; an
    /// update replaces the stored vector; rejected calls leave the bytes as they were.
    mutating func mutate() {
        let h = pickHandle()
        let kind = r.byte() % 4
        guard var model = live[h] else {
            expect(ev_remove(h, 1), -20, "ev_remove(bad handle \(h))")
            expect(ev_contains(h, 1), -20, "ev_contains(bad handle \(h))")
            return
        }
        guard model.dimension <= maxModelDimension else { return }
        let id = pickID(model)
        let row = model.ids.firstIndex(of: id)
        let what = "id \(id) of \(model.ids.count) live, metric \(model.metric)"
        switch kind {
        case 0:
            expect(ev_remove(h, id), row == nil ? 0 : 1, "ev_remove(\(what))")
            if let row { model.remove(at: row) }
        case 1:
            let v = floats(model.dimension)
            let expected: Int32? = row == nil ? -13 : validationError(v, dimension: model.dimension, metric: model.metric)
            let before = expected != nil ? savedBytes(h) : []
            expect(v.withUnsafeBufferPointer { ev_update(h, id, $0.baseAddress) }, expected ?? 0, "ev_update(\(what))")
            if expected != nil {
                check(savedBytes(h) == before, "a rejected ev_update changed the index bytes")
            } else if let row {
                let kept = model.meta[row]   // update keeps the metadata
                model.remove(at: row)
                model.append(v, id: id, metadata: kept)
            }
        case 2:
            guard model.vectors.count < maxSize else { return }
            let v = floats(model.dimension)
            let expected: Int32? = id > maxID ? -12 : row != nil ? -11
                : validationError(v, dimension: model.dimension, metric: model.metric)
            let before = expected != nil ? savedBytes(h) : []
            let got = v.withUnsafeBufferPointer { ev_insert_with_id(h, $0.baseAddress, id) }
            expect(got, expected.map(Int64.init) ?? Int64(id), "ev_insert_with_id(\(what))")
            if expected != nil {
                check(savedBytes(h) == before, "a rejected ev_insert_with_id changed the index bytes")
            } else {
                model.append(v, id: id)
            }
        default:
            expect(ev_contains(h, id), row == nil ? 0 : 1, "ev_contains(\(what))")
            var out = [Float](repeating: .nan, count: model.dimension)
            expect(out.withUnsafeMutableBufferPointer { ev_get(h, id, $0.baseAddress) }, row == nil ? 0 : 1, "ev_get(\(what))")
            if let row {
                check(out.map(\.bitPattern) == model.vectors[row].map(\.bitPattern), "ev_get(\(what)) is not the stored vector")
            }
        }
        live[h] = model
        expect(ev_size(h), Int32(model.vectors.count), "ev_size after \(what)")
        expect(ev_next_id(h), Int64(model.nextID), "ev_next_id after \(what)")
    }

    /// Save, load into a twin, the same inserts into both, then both save the same bytes.
    mutating func twin() {
        let h = pickHandle()
        let inserts = 1 + Int(r.byte() % 3)
        guard var model = live[h], live.count < maxLive, model.vectors.count + inserts <= maxSize,
              model.dimension <= maxModelDimension else { return }
        let bytes = savedBytes(h)
        let h2 = bytes.withUnsafeBytes { ev_load($0.baseAddress, Int32($0.count)) }
        checkNewHandle(h2, "ev_load (twin)")
        for _ in 0..<inserts {
            let v = floats(model.dimension)
            let a = v.withUnsafeBufferPointer { ev_insert(h, $0.baseAddress) }
            let b = v.withUnsafeBufferPointer { ev_insert(h2, $0.baseAddress) }
            let error = model.assignError(1) ?? validationError(v, dimension: model.dimension, metric: model.metric)
            let expected = error.map(Int64.init) ?? Int64(model.nextID)
            expect(a, expected, "ev_insert (twin, original)")
            expect(b, expected, "ev_insert (twin, loaded)")
            if error == nil { model.append(v, id: model.nextID) }
        }
        live[h] = model
        check(savedBytes(h) == savedBytes(h2), "a saved and reloaded index diverges from the original after the same inserts")
        var copy = model
        copy.handleEf = model.efSearchStored
        copy.hasOutput = false
        live[h2] = copy
        compareSearches(h, h2, model)
        if r.byte() & 1 == 0 {
            ev_free(h2)
            live[h2] = nil
            stale.append(h2)
        } else {
            order.append(h2)
        }
    }

    /// Every handle-taking function with a handle that is not live.
    mutating func badHandle() {
        var h = pickHandle()
        if isLive(h) { h = stale.last ?? 0 }
        if isLive(h) { return }
        properties(h)
        var v = [Float](repeating: 0.5, count: 8)
        v.withUnsafeMutableBufferPointer { p in
            expect(ev_insert(h, p.baseAddress), -20, "ev_insert(bad handle \(h))")
            expect(ev_insert_batch(h, p.baseAddress, 1), -20, "ev_insert_batch(bad handle \(h))")
            expect(ev_reserve(h, 4), -20, "ev_reserve(bad handle \(h))")
            expect(ev_set_ef_search(h, 4), -20, "ev_set_ef_search(bad handle \(h))")
            var ids = [UInt64](repeating: 0, count: 8)
            expect(ids.withUnsafeMutableBufferPointer { ev_search(h, p.baseAddress, 1, 0, $0.baseAddress, p.baseAddress) },
                   -20, "ev_search(bad handle \(h))")
        }
        check(ev_input(h, 1) == nil, "ev_input(bad handle) is not NULL")
        check(ev_output(h, 1) == nil, "ev_output(bad handle) is not NULL")
        check(ev_output_distances(h) == nil, "ev_output_distances(bad handle) is not NULL")
        var buffer = [UInt8](repeating: 0, count: 16)
        expect(buffer.withUnsafeMutableBytes { ev_save(h, $0.baseAddress, 16) }, -20, "ev_save(bad handle \(h))")
        ev_free(h)   // ignored
        for other in order { properties(other) }
    }

    /// NULL pointers and counts < 1 on a live handle.
    mutating func nullPointers() {
        let h = pickHandle()
        guard let model = live[h] else { return }
        let size = Int32(model.vectors.count)
        expect(ev_insert(h, nil), -20, "ev_insert(NULL)")
        expect(ev_insert_batch(h, nil, 1), -20, "ev_insert_batch(NULL)")
        expect(ev_insert_batch(h, nil, 0), -20, "ev_insert_batch(NULL, 0)")
        var q = [Float](repeating: 1, count: model.dimension)
        var ids = [UInt64](repeating: 0, count: 1)
        var distances = [Float](repeating: 0, count: 1)
        q.withUnsafeMutableBufferPointer { qp in
            ids.withUnsafeMutableBufferPointer { ip in
                distances.withUnsafeMutableBufferPointer { dp in
                    expect(ev_search(h, nil, 1, 0, ip.baseAddress, dp.baseAddress), -20, "ev_search(query NULL)")
                    expect(ev_search(h, qp.baseAddress, 1, 0, nil, dp.baseAddress), -20, "ev_search(ids NULL)")
                    expect(ev_search(h, qp.baseAddress, 1, 0, ip.baseAddress, nil), -20, "ev_search(distances NULL)")
                }
            }
        }
        expect(ev_save(h, nil, 1 << 20), -20, "ev_save(NULL)")
        expect(ev_load(nil, 0), -8, "ev_load(NULL, 0)")
        check(ev_input(h, 0) == nil && ev_input(h, -1) == nil && ev_input(h, Int32.min) == nil,
              "ev_input(count < 1) is not NULL")
        check(ev_output(h, 0) == nil && ev_output(h, -1) == nil, "ev_output(k < 1) is not NULL")
        expect(ev_size(h), size, "ev_size after NULL-pointer calls")
    }

    mutating func misc() {
        let n = r.pick([0, 1, 64, 1000, -1, Int32.min] as [Int32])
        if let p = ev_alloc(n) {
            check(n >= 0, "ev_alloc(\(n)) is not NULL")
            check(Int(bitPattern: p) % 16 == 0, "ev_alloc(\(n)) not 16-byte aligned")
            p.initializeMemory(as: UInt8.self, repeating: 0x5A, count: Int(n))
            ev_dealloc(p)
        } else {
            check(n < 0, "ev_alloc(\(n)) returned NULL")
        }
        ev_dealloc(nil)
        for _ in 0..<4 {
            let code = Int32(bitPattern: r.u32())
            check(strlen(ev_error_message(code)) > 0, "ev_error_message(\(code)) is empty")
            #if FUZZ_PLANTED_BUG
            if live.values.contains(where: { $0.vectors.count >= 3 }) { plantedCodes.append(code) }
            #endif
        }
        check((0...2).contains(ev_allocator_kind()), "ev_allocator_kind() = \(ev_allocator_kind())")
    }
}

// MARK: - Metadata and filters (issue 21)

/// Field names, values and filter templates over them (the seeds and the mutations
/// recombine them; raw bytes cover everything else).
let metaNames = ["a", "b", "size", "section", "tags", "x.y", "_z", "AND", "1a", "a b"]
let metaStrings = ["", "games", "libs", "été", "a\"b"]
let metaIntegers: [Int64] = [0, 1, -7, 120, MetadataValue.maxInteger, -MetadataValue.maxInteger, MetadataValue.maxInteger + 1]
let metaDoubles: [Double] = [0.5, -1e300, 1e-3, 120, -0.0, .nan, .infinity]
let filterTemplates = [
    "size = 120", "section = \"games\"", "size > 0 AND b = TRUE", "tags CONTAINS \"libs\"", "a IS NULL",
    "NOT section IN (\"games\", \"été\")", "size BETWEEN -7 AND 1e300", "x.y != 0.5 OR _z = FALSE",
    "size >= 1 OR tags IS NOT NULL", "section < \"h\"", "a = \"a\\\"b\"", "NOT (size < 0 OR b = false)",
    "section = ", "(a = 1", "size = games", "", "tags CONTAINS 1", "size IN ()",
]

/// The binary form (include/edgevec.h), written here independently of the library.
struct MetaEncoder {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { for i in 0..<2 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    mutating func string(_ s: String) { u32(UInt32(s.utf8.count)); bytes += Array(s.utf8) }
}

/// Whether two metadata hold the same fields (names unique), whatever their order:
/// the index gives fields back in the order it first saw their names.
func sameFields(_ a: Metadata, _ b: Metadata) -> Bool {
    a.fields.count == b.fields.count && a.fields.allSatisfy { field in b[field.name] == field.value }
}

extension Session {
    /// A metadata form: valid from the vocabulary (64 %), such a form corrupted (25 %), or
    /// raw bytes (11 %); and the metadata it decodes to, or nil when it must be refused.
    /// The oracle for corrupted and raw bytes is `Metadata(encoded:)`; a form written from
    /// the vocabulary with valid parts must decode to exactly those parts.
    mutating func metadataForm() -> ([UInt8], Metadata?) {
        let kind = r.byte()
        if kind >= 228 {
            let bytes = (0 ..< Int(r.byte() % 24)).map { _ in r.byte() }
            return (bytes, decoded(bytes))
        }
        var e = MetaEncoder()
        var fields: [(name: String, value: MetadataValue)] = []
        let n = Int(r.byte() % 5)
        e.u8(UInt8(n))
        for _ in 0..<n {
            let name = metaNames[Int(r.byte()) % metaNames.count]
            e.u8(UInt8(name.utf8.count))
            e.bytes += Array(name.utf8)
            let value: MetadataValue
            switch r.byte() % 5 {
            case 0:
                value = .string(r.pick(metaStrings))
                e.u8(1)
                if case .string(let s) = value { e.string(s) }
            case 1:
                let x = r.pick(Array(metaIntegers.dropLast()), rare: [metaIntegers.last!])
                value = .integer(x)
                e.u8(2)
                e.u64(UInt64(bitPattern: x))
            case 2:
                let x = r.pick(Array(metaDoubles.dropLast(2)), rare: Array(metaDoubles.suffix(2)))
                value = .double(x)
                e.u8(3)
                e.u64(x.bitPattern)
            case 3:
                let b = r.byte() & 1
                value = .bool(b == 1)
                e.u8(4)
                e.u8(b)
            default:
                let list = (0 ..< Int(r.byte() % 4)).map { _ in r.pick(metaStrings) }
                value = .strings(list)
                e.u8(5)
                e.u16(UInt16(list.count))
                for s in list { e.string(s) }
            }
            fields.append((name: name, value: value))
        }
        var bytes = e.bytes
        if kind >= 164 && !bytes.isEmpty {
            switch r.byte() % 4 {
            case 0: bytes[Int(r.byte()) % bytes.count] = r.byte()
            case 1: bytes.removeLast(1 + Int(r.byte()) % bytes.count)
            case 2: bytes.append(r.byte())
            default: bytes[Int(r.byte()) % bytes.count] ^= 1 << (r.byte() % 8)
            }
            return (bytes, decoded(bytes))
        }
        let metadata = Metadata(fields)
        let oracle = decoded(bytes)
        if metadata.validate() == nil {
            check(oracle.map { $0 == metadata } ?? false, "a valid form from the vocabulary decodes differently: \(bytes)")
        } else {
            check(oracle == nil, "an invalid form from the vocabulary decodes: \(bytes)")
        }
        return (bytes, oracle)
    }

    func decoded(_ bytes: [UInt8]) -> Metadata? {
        bytes.withUnsafeBytes { try? Metadata(encoded: $0) }
    }

    /// ev_insert_with_metadata, ev_set_metadata, ev_get_metadata and
    /// ev_insert_batch_with_metadata against the model.
    mutating func metadata() {
        let h = pickHandle()
        let kind = r.byte() % 4
        guard var model = live[h] else {
            var one: UInt8 = 0
            var v = [Float](repeating: 0.5, count: 8)
            expect(v.withUnsafeMutableBufferPointer { ev_insert_with_metadata(h, $0.baseAddress, UInt64.max, &one, 1) },
                   Int64(-20), "ev_insert_with_metadata(bad handle \(h))")
            expect(ev_set_metadata(h, 0, &one, 1), -20, "ev_set_metadata(bad handle \(h))")
            expect(ev_get_metadata(h, 0), -20, "ev_get_metadata(bad handle \(h))")
            check(ev_output_bytes(h) == nil && ev_input_bytes(h, 1) == nil, "byte buffers of a bad handle are not NULL")
            return
        }
        guard model.dimension <= maxModelDimension else { return }
        switch kind {
        case 0:   // insert one, under the next id or a picked one, from the caller's bytes or staged
            guard model.vectors.count < maxSize else { return }
            let (bytes, metadata) = metadataForm()
            let v = floats(model.dimension)
            // UInt64.max (EV_NEXT_ID) picked as an id means the next id too.
            let nextChoice = r.byte() < 128
            let id = nextChoice ? UInt64.max : pickID(model)
            let next = id == UInt64.max
            let what = "ev_insert_with_metadata(id \(next ? "next" : String(id)), \(bytes))"
            let expected: Int32? = metadata == nil ? -15
                : next ? model.assignError(1) ?? validationError(v, dimension: model.dimension, metric: model.metric)
                : id > maxID ? -12 : model.ids.contains(id) ? -11
                : validationError(v, dimension: model.dimension, metric: model.metric)
            let before = expected != nil ? savedBytes(h) : []
            let got: Int64
            if r.byte() & 1 == 0, !bytes.isEmpty {
                guard let p = ev_input_bytes(h, Int32(bytes.count)) else { fail("ev_input_bytes(\(bytes.count)) is NULL") }
                for i in bytes.indices { p[i] = bytes[i] }
                got = v.withUnsafeBufferPointer { ev_insert_with_metadata(h, $0.baseAddress, id, p, Int32(bytes.count)) }
            } else {
                let buffer = bytes.isEmpty ? [0xEE] : bytes   // a real pointer for 0 bytes
                got = v.withUnsafeBufferPointer { vp in
                    buffer.withUnsafeBytes { ev_insert_with_metadata(h, vp.baseAddress, id, $0.baseAddress, Int32(bytes.count)) }
                }
            }
            if let expected {
                expect(got, Int64(expected), what)
                check(savedBytes(h) == before, "a rejected \(what) changed the index bytes")
            } else {
                let key = next ? model.nextID : id
                expect(got, Int64(key), what)
                model.append(v, id: key, metadata: metadata!)
            }
        case 1:   // replace the metadata of an id
            let id = pickID(model)
            let row = model.ids.firstIndex(of: id)
            let (bytes, metadata) = metadataForm()
            let expected: Int32 = metadata == nil ? -15 : row == nil ? -13 : 0
            let before = expected != 0 ? savedBytes(h) : []
            let buffer = bytes.isEmpty ? [0xEE] : bytes
            let got = buffer.withUnsafeBytes { ev_set_metadata(h, id, $0.baseAddress, Int32(bytes.count)) }
            expect(got, expected, "ev_set_metadata(\(id), \(bytes))")
            if expected != 0 {
                check(savedBytes(h) == before, "a rejected ev_set_metadata changed the index bytes")
            } else {
                model.meta[row!] = metadata!
            }
        case 2:   // read back
            let id = pickID(model)
            let n = ev_get_metadata(h, id)
            guard let row = model.ids.firstIndex(of: id) else { return expect(n, 0, "ev_get_metadata(absent \(id))") }
            check(n >= 1, "ev_get_metadata(\(id)) returned \(n)")
            guard let out = ev_output_bytes(h) else { fail("ev_output_bytes is NULL after ev_get_metadata") }
            let got = decoded(Array(UnsafeBufferPointer(start: out, count: Int(n))))
            check(got.map { sameFields($0, model.meta[row]) } ?? false,
                  "ev_get_metadata(\(id)) gives \(String(describing: got)), the model holds \(model.meta[row])")
        default:  // a batch, all or nothing
            let cb = r.byte()
            let count = cb < 240 ? Int32(cb % 4) : -1
            guard model.vectors.count + Int(max(count, 0)) <= maxSize else { return }
            // The rows' forms back to back; the oracle reads them as the library must
            // (one form per row from where the previous one ended, nothing left over).
            var forms: [UInt8] = []
            for _ in 0 ..< max(count, 0) { forms += metadataForm().0 }
            if r.byte() % 8 == 0 { forms.append(r.byte()) }
            let oracle = decodedRows(forms, count: Int(max(count, 0)))
            let withIds = r.byte() & 1 == 0
            var keys: [UInt64] = []
            for _ in 0 ..< max(count, 0) { keys.append(withIds ? pickID(model) : 0) }
            let values = floats(model.dimension * Int(max(count, 0)))
            // Ids are checked in order (out of range −12, present −11), then for repeats (−11).
            var idError: Int32? = model.assignError(Int(max(count, 0)))
            if withIds {
                idError = keys.lazy.compactMap { $0 > maxID ? -12 : model.ids.contains($0) ? -11 : nil }.first
                    ?? (Set(keys).count < keys.count ? -11 : nil)
            }
            let expected: Int32? = count < 0 ? -5 : oracle == nil ? -15
                : idError ?? validationError(values, dimension: model.dimension, metric: model.metric)
            let before = expected != nil ? savedBytes(h) : []
            var buffer = values.isEmpty ? [Float](repeating: 0, count: 1) : values
            let formBuffer = forms.isEmpty ? [0xEE] : forms
            let first = buffer.withUnsafeMutableBufferPointer { vp in
                formBuffer.withUnsafeBytes { fp in
                    withIds ? keys.withUnsafeBufferPointer {
                        ev_insert_batch_with_metadata(h, vp.baseAddress, count, $0.baseAddress, fp.baseAddress, Int32(forms.count))
                    } : ev_insert_batch_with_metadata(h, vp.baseAddress, count, nil, fp.baseAddress, Int32(forms.count))
                }
            }
            let what = "ev_insert_batch_with_metadata(count \(count), ids \(withIds ? "\(keys)" : "next"), \(forms))"
            if let expected {
                expect(first, Int64(expected), what)
                check(savedBytes(h) == before, "a rejected \(what) changed the index bytes")
            } else {
                let start = model.nextID
                expect(first, Int64(withIds ? (keys.first ?? start) : start), what)
                for row in 0 ..< Int(count) {
                    model.append(Array(values[row * model.dimension ..< (row + 1) * model.dimension]),
                                 id: withIds ? keys[row] : start + UInt64(row), metadata: oracle![row])
                }
            }
        }
        live[h] = model
        expect(ev_size(h), Int32(model.vectors.count), "ev_size after a metadata operation")
    }

    /// One form at the start of `bytes` and its length (`Metadata.decode`), or nil.
    func decodedPrefix(_ bytes: [UInt8]) -> (Metadata, Int)? {
        bytes.withUnsafeBytes { try? Metadata.decode($0) }
    }

    /// `count` forms back to back filling `bytes` exactly, or nil: what a batch must accept.
    func decodedRows(_ bytes: [UInt8], count: Int) -> [Metadata]? {
        var out: [Metadata] = [], offset = 0
        for _ in 0..<count {
            guard let (m, used) = decodedPrefix(Array(bytes[offset...])) else { return nil }
            out.append(m)
            offset += used
        }
        return offset == bytes.count ? out : nil
    }

    /// Filter text: a template (sometimes two joined by AND/OR) or raw bytes.
    mutating func filterText() -> [UInt8] {
        let b = r.byte()
        if b >= 224 { return (0 ..< Int(r.byte() % 32)).map { _ in r.byte() } }
        var text = Array(filterTemplates[Int(b) % filterTemplates.count].utf8)
        if r.byte() % 4 == 0 { text += Array((r.byte() & 1 == 0 ? " AND " : " OR ").utf8) + Array(r.pick(filterTemplates).utf8) }
        return text
    }

    /// Compiles filter text; checks the handle or the error against the parser.
    mutating func compile(_ text: [UInt8]) -> Int32? {
        let reference: Filter?
        do throws(EdgeVecError) {
            reference = try text.withUnsafeBufferPointer { (p) throws(EdgeVecError) in try Filter(utf8: p) }
        } catch {
            reference = nil
        }
        let buffer = text.isEmpty ? [0xEE] : text
        let f = buffer.withUnsafeBufferPointer {
            UnsafeRawPointer($0.baseAddress!).withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                ev_compile_filter($0, Int32(text.count))
            }
        }
        let what = "ev_compile_filter(\(String(decoding: text, as: UTF8.self)))"
        guard let reference else {
            expect(f, -14, what)
            return nil
        }
        check(f > 0 && !isLive(f) && filters[f] == nil, "\(what): handle \(f)")
        check(issuedHandles.insert(f).inserted, "\(what): handle \(f) was issued before")
        filters[f] = reference
        filterOrder.append(f)
        return f
    }

    /// Compiles a filter (or reuses a live one) and searches with it; the answer against
    /// the model's matching vectors.
    mutating func filtered() {
        let h = pickHandle()
        // (Every choice reads its bytes whether it applies or not, so that a seed's
        // operations stay aligned whatever the state.)
        var f: Int32
        let reuse = r.byte(), which = r.byte()
        if !filterOrder.isEmpty && reuse < 96 {
            f = filterOrder[Int(which) % filterOrder.count]
        } else {
            guard let compiled = compile(filterText()) else { return }
            f = compiled
        }
        if r.byte() >= 240 { f = staleFilters.last ?? -f }   // a freed or negative filter handle
        let kb = r.byte(), eb = r.byte()
        guard let model = live[h], let filter = filters[f] else {
            var q = [Float](repeating: 0.5, count: 8), ids = [UInt64](repeating: 0, count: 8)
            var distances = [Float](repeating: 0, count: 8)
            let rc = q.withUnsafeMutableBufferPointer { qp in
                ids.withUnsafeMutableBufferPointer { ip in
                    distances.withUnsafeMutableBufferPointer { ev_search_filtered(h, qp.baseAddress, 1, 0, f, ip.baseAddress, $0.baseAddress) }
                }
            }
            return expect(rc, -20, "ev_search_filtered(handle \(h), filter \(f)) of a bad handle")
        }
        guard model.dimension <= maxModelDimension else { return }
        let matching = model.meta.indices.filter { filter.matches(model.meta[$0]) }
        var query = floats(model.dimension)
        let near = r.byte(), nearWhich = r.byte(), efChoice = r.byte()
        if !matching.isEmpty && near < 64 { query = model.vectors[matching[Int(nearWhich) % matching.count]] }
        let k: Int32 = kb < 248 ? Int32(1 + Int(kb) % (matching.count + 3)) : [0, -1, Int32.max, 65537][Int(kb % 4)]
        let efs: [Int32] = [1, 2, 3, 8, 40, Int32(model.vectors.count), 65537, -1]
        let ef: Int32 = eb < 128 ? 0 : efs[Int(efChoice) % efs.count]
        let room = k >= 1 ? min(Int(k), matching.count) : 1
        let ids = UnsafeMutablePointer<UInt64>.allocate(capacity: max(room, 1))
        let distances = UnsafeMutablePointer<Float>.allocate(capacity: max(room, 1))
        defer { ids.deallocate(); distances.deallocate() }
        let n = query.withUnsafeBufferPointer { ev_search_filtered(h, $0.baseAddress, k, ef, f, ids, distances) }
        let what = "ev_search_filtered(k \(k), ef \(ef), \(matching.count) of \(model.vectors.count) match, metric \(model.metric))"
        if let expected = searchError(model, query, k: k, ef: ef) { return expect(n, expected, what) }
        if model.vectors.count == 0 { return expect(n, 0, what) }
        check(n >= 0, "\(what): returned \(n)")
        let keys = Array(UnsafeBufferPointer(start: ids, count: Int(max(n, 0))))
        let rows: [Int32] = keys.map { key in
            guard let row = model.ids.firstIndex(of: key), let i = matching.firstIndex(of: row) else { return Int32.max }
            return Int32(i)
        }
        // Exact when the matches are scanned: at most max(ef, k) × 2M of them.
        let beam = max(Int(ef > 0 ? ef : model.handleEf), min(Int(k), 65536))
        let exhaustive = matching.count <= beam * 2 * Int(model.m)
        rows.withUnsafeBufferPointer { ip in
            checkSearchAnswer(what, query: storedForm(query, metric: model.metric), vectors: matching.map { model.vectors[$0] },
                              metric: model.metric, k: Int(k), n: Int(n), ids: ip.baseAddress ?? UnsafePointer(bitPattern: 8)!,
                              distances: distances, exhaustive: exhaustive)
        }
        if r.byte() < 64 {
            ev_free_filter(f)
            filters[f] = nil
            filterOrder.removeAll { $0 == f }
            staleFilters.append(f)
        }
    }

    /// Filter handles where index handles go and the other way round, freed and forged ones,
    /// NULL text and negative lengths.
    mutating func filterHandles() {
        let h = pickHandle()
        let which = r.byte()
        let f = filterOrder.isEmpty ? compile(Array("size > 0".utf8)) : filterOrder[Int(which) % filterOrder.count]
        guard let f else { return }
        expect(ev_size(f), -20, "ev_size(filter handle \(f))")
        ev_free(f)   // not an index: ignored
        check(filters[f] != nil, "the model lost a filter")
        var q = [Float](repeating: 0.5, count: 64), ids = [UInt64](repeating: 0, count: 64)
        var distances = [Float](repeating: 0, count: 64)
        q.withUnsafeMutableBufferPointer { qp in
            ids.withUnsafeMutableBufferPointer { ip in
                distances.withUnsafeMutableBufferPointer { dp in
                    expect(ev_search_filtered(f, qp.baseAddress, 1, 0, f, ip.baseAddress, dp.baseAddress), -20,
                           "ev_search_filtered with a filter handle as the index")
                    if isLive(h) {
                        expect(ev_search_filtered(h, qp.baseAddress, 1, 0, h, ip.baseAddress, dp.baseAddress), -20,
                               "ev_search_filtered with an index handle as the filter")
                        expect(ev_search_filtered(h, qp.baseAddress, 1, 0, f ^ (1 << 16), ip.baseAddress, dp.baseAddress), -20,
                               "ev_search_filtered with a forged filter generation")
                        if let s = staleFilters.last {
                            expect(ev_search_filtered(h, qp.baseAddress, 1, 0, s, ip.baseAddress, dp.baseAddress), -20,
                                   "ev_search_filtered with a freed filter")
                        }
                        expect(ev_search_filtered(h, qp.baseAddress, 1, 0, f, ip.baseAddress, nil), -20,
                               "ev_search_filtered(distances NULL)")
                    }
                }
            }
        }
        if isLive(h) {
            ev_free_filter(h)   // not a filter: ignored
            check(isLive(h) && ev_size(h) >= 0, "ev_free_filter(index handle) freed the index")
        }
        expect(ev_compile_filter(nil, 3), -20, "ev_compile_filter(NULL)")
        expect(ev_compile_filter("a = 1", -1), -5, "ev_compile_filter(length -1)")
        var one: UInt8 = 0
        if let model = live[h] {
            expect(ev_set_metadata(h, model.ids.first ?? 0, nil, 1), -20, "ev_set_metadata(NULL)")
            expect(ev_set_metadata(h, model.ids.first ?? 0, &one, -1), -5, "ev_set_metadata(length -1)")
            expect(ev_insert_with_metadata(h, nil, UInt64.max, &one, 1), Int64(-20), "ev_insert_with_metadata(vector NULL)")
            expect(ev_insert_batch_with_metadata(h, q, 0, nil, nil, 0), Int64(-20), "ev_insert_batch_with_metadata(metadata NULL)")
            check(ev_input_bytes(h, 0) == nil && ev_input_bytes(h, -1) == nil, "ev_input_bytes(count < 1) is not NULL")
            expect(ev_size(h), Int32(model.vectors.count), "ev_size after filter handle misuse")
        }
        if r.byte() & 1 == 0 {
            ev_free_filter(f)
            ev_free_filter(f)   // twice: ignored
            filters[f] = nil
            filterOrder.removeAll { $0 == f }
            staleFilters.append(f)
        }
    }
}

#if FUZZ_PLANTED_BUG
/// A function of its own: SanitizerCoverage does not trace a comparison whose only use
/// is a loop's back edge, and inlined into a loop this one could become one.
@inline(never) func isPlanted(_ code: Int32) -> Bool { code == 0x5A5A_5546 }
#endif

// MARK: - Seeds

@_cdecl("LLVMFuzzerInitialize")
public func abiOpsInitialize(_ argc: UnsafeMutablePointer<CInt>?,
                             _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    writeSeedsIfAsked(argc, argv, writeAbiSeeds)
}

/// Operation sequences in the encoding `Session` reads: create, inserts, batches,
/// searches (default ef and exhaustive), save/load, twin, free, per metric.
func writeAbiSeeds(_ dir: String) {
    func op(_ o: Op) -> UInt8 { o.rawValue }
    func seq(_ n: Int, _ f: (Int) -> Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: f($0)) } }
    for metric: UInt8 in 0...2 {
        for (dimension, m) in [(2, UInt8(0)), (4, 3), (7, 5)] {   // m: index into create's list (2, 4, 8)
            var s: [UInt8] = [op(.create), UInt8(dimension - 1), metric, m, 4, 200, 5, 7]   // efC 16, efSearch 16
            var value = 3
            for i in 0..<9 {
                s += [op(.insert), 0]
                for _ in 0..<dimension { s.append(UInt8(value % 224)); value = (value * 37 + 11) % 256 }
                if i % 3 == 2 {
                    s += [op(.search), 0]
                    s += seq(dimension) { $0 * 5 }
                    s += [64, 2, 0]
                    s += [op(.misc), UInt8(i)] + seq(16) { 37 &* ($0 + i) &+ 3 }   // ev_alloc, 4 × ev_error_message
                }
            }
            s += [op(.insertBatch), 0, 3]
            s += seq(3 * dimension) { ($0 * 29 + 7) % 200 }
            s += [op(.search), 0]
            s += seq(dimension) { $0 * 3 + 1 }
            s += [200, 4, 131]   // ef = size: exhaustive
            s += [op(.searchStaged), 0]
            s += seq(dimension) { $0 * 7 }
            s += [200, 3, 0]
            // Ids (issue 20): remove a live id, update one, insert under a new id and a
            // present one, read one back; the save/load and twin below then carry them.
            s += [op(.remove), 0, 0, 0, 2]
            s += [op(.remove), 0, 1, 0, 3] + seq(dimension) { $0 * 11 % 200 }
            s += [op(.remove), 0, 2, 200, 1] + seq(dimension) { $0 * 17 % 200 + 1 }
            s += [op(.remove), 0, 2, 0, 5] + seq(dimension) { $0 * 19 % 200 + 2 }
            s += [op(.remove), 0, 3, 0, 4]
            s += [op(.saveLoad), 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]
            s += [op(.twin), 0, 1]
            s += seq(2 * dimension) { $0 * 13 % 224 }
            s += [0]
            s += [op(.setEfSearch), 0, 2, op(.reserve), 0, 4, op(.properties), 0]
            s += [op(.badHandle), 230, op(.nullPointers), 0, op(.misc), 2, 200, 255, 255, 255, 0, 1, 0, 0]
            s += seq(8) { 91 &* $0 &+ 5 }
            s += [op(.free), 0, op(.search), 0, 1, 1, 1, 1]
            writeFile("\(dir)/ops-metric\(metric)-d\(dimension).bin", s)
        }
    }
    // Metadata and filters (issue 21), per metric: inserts with metadata of every type
    // (next ids, staged and not), a batch with ids and one without, set and get, filtered
    // searches with several templates (exhaustive and default ef), handle misuse,
    // updates and removals, then save/load and twin (which compare filtered answers
    // through the copied model), and hostile forms.
    for metric: UInt8 in 0...2 {
        let dimension = 3
        var s: [UInt8] = [op(.create), UInt8(dimension - 1), metric, 0, 4, 200, 5, 7]   // m 2: several layers
        var value = 5
        func vector() -> [UInt8] {
            (0..<dimension).map { _ in value = (value * 37 + 11) % 224; return UInt8(value) }
        }
        // form: valid (kind 0), fields as (name index, type, value bytes)
        func form(_ fields: [[UInt8]]) -> [UInt8] { [0, UInt8(fields.count)] + fields.flatMap { $0 } }
        let forms: [[UInt8]] = [
            form([[3, 0, 1], [2, 1, 3], [0, 3, 1], [4, 4, 2, 1, 2]]),   // section games, size 120, a true, tags [games, libs]
            form([[3, 0, 2], [2, 2, 0], [5, 2, 2]]),                    // section libs, size 0.5, x.y 1e-3
            form([[2, 1, 5], [6, 3, 0]]),                               // size -maxInteger, _z false
            form([]),                                                   // none
            form([[3, 0, 3], [2, 1, 1], [4, 4, 0]]),                    // section été, size 1, tags []
        ]
        for i in 0..<10 {
            s += [op(.metadata), 0, 0] + forms[i % forms.count] + vector() + [0, UInt8(i & 1)]
        }
        // A batch of 3 with ids (one present: rejected), then without.
        s += [op(.metadata), 0, 3, 3] + forms[0] + forms[1] + forms[2] + [1, 0, 200, 7, 200, 9, 0, 0] + vector() + vector() + vector()
        s += [op(.metadata), 0, 3, 3] + forms[4] + forms[3] + forms[0] + [1, 1] + vector() + vector() + vector()
        s += [op(.metadata), 0, 1, 0, 2] + forms[1]          // set id 2's metadata
        s += [op(.metadata), 0, 2, 0, 4]                     // get id 4's
        s += [op(.metadata), 0, 2, 200, 3]                   // get an absent id
        for (t, ef) in [(0, 131), (1, 0), (3, 0), (5, 131), (6, 0), (9, 131), (11, 0), (12, 0), (14, 0)] as [(UInt8, UInt8)] {
            s += [op(.filtered), 0, 200, 0, t, 1, 0, 9, ef] + vector() + [5, 4, 5, 200]
        }
        s += [op(.filterHandles), 0, 0, 1]
        s += [op(.remove), 0, 0, 0, 2]                       // remove: its metadata goes
        s += [op(.remove), 0, 1, 0, 3] + vector()            // update: its metadata stays
        s += [op(.filtered), 0, 200, 0, 0, 1, 0, 12, 131] + vector() + [5, 4, 5, 200]
        s += [op(.saveLoad), 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]
        s += [op(.twin), 0, 1] + vector() + [0]
        s += [op(.filtered), 0, 10, 0, 0, 0, 0, 20, 0] + vector() + [64, 0, 0, 0]
        writeFile("\(dir)/ops-metadata-metric\(metric).bin", s)
    }
    // Hostile metadata: corrupted forms (byte set, cut, extended, bit flipped) and raw bytes,
    // singly and in batches; filter text from raw bytes.
    var hostile: [UInt8] = [op(.create), 1, 0, 0, 4, 200, 5, 7]   // l2, dimension 2
    // Inserts of a valid two-field form (section "games", size 2^53 - 1) damaged: a byte set,
    // the end cut, a byte appended, a bit flipped; then 7 raw bytes.
    for (i, damage) in [[0, 5, 0x41], [1, 3], [2, 4], [3, 6, 3], [0, 9, 7], [3, 20, 6]].enumerated() {
        hostile += [op(.metadata), 0, 0, 170, 2, 3, 0, 1, 2, 1, 3] + damage.map { UInt8($0) } + [8, 16, 0, UInt8(i & 1)]
    }
    hostile += [op(.metadata), 0, 0, 230, 7, 1, 3, 0, 0, 0, 0, 0, 8, 16, 0, 0]
    // A batch of two: a valid form, then 5 raw bytes, then a byte left over.
    hostile += [op(.metadata), 0, 3, 2, 0, 1, 2, 1, 3, 230, 5, 1, 2, 3, 4, 5, 8, 1, 1, 8, 16, 24, 32]
    hostile += [op(.metadata), 0, 3, 2, 0, 1, 2, 1, 3, 0, 0, 8, 1, 1, 8, 16, 24, 32]
    // Set from raw bytes; filters from raw text.
    hostile += [op(.metadata), 0, 1, 0, 0, 230, 3, 2, 1, 0]
    for (text, valid) in [("size = é", false), ("a IS N", false), ("a IS NULL  ", true), ("size > 1e400", false),
                          ("(((a = 1", false), ("NOT a IS NULL OR size = 9007199254740991", true)] {
        // (A text that does not compile ends the operation.)
        hostile += [op(.filtered), 0, 200, 0, 230, UInt8(text.utf8.count)] + Array(text.utf8)
        if valid { hostile += [0, 3, 0, 8, 16, 24, 0, 0, 0] }
    }
    writeFile("\(dir)/ops-metadata-hostile.bin", hostile)

    // Bad values: NaN, infinities, huge and zero vectors, bad parameters.
    var bad: [UInt8] = [op(.create), 2, 1, 0, 2, 0, 1]   // cosine, dim 3
    for special: UInt8 in 0..<UInt8(specialFloats.count) { bad += [op(.insert), 0, 248, special, 8, 8] }
    bad += [op(.create), 241, 0, 0, 0, 0, 0, op(.create), 0, 243, 0, 0, 0, 0, op(.create), 0, 0, 12, 12, 0, 0]
    writeFile("\(dir)/ops-bad-values.bin", bad)
}
