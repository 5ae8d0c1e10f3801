import _EdgeVecCShims
import EdgeVecAllocators
import EdgeVecFilter
import EdgeVecSearch

// C-ABI exports over EdgeVecSearch, the same on wasm32 and native hosts.
// Every function returns a value ≥ 0 on success or a negative error code
// (`EdgeVecError.code`, −1 … −19, or the bridge's own codes −20 …); ids are
// uint64 (0 … 2⁵³ − 1), and the calls that return one return an int64.
// `ev_error_message` maps a code to a sentence and `ev_last_error_message`
// gives the most recent failure's detailed one (for a corrupt file, the
// reason). Handles name a slot of a table of live indexes and that slot's
// generation, so a freed or forged handle is refused, never resolved to
// another index. Each export carries `@_cdecl` (the C symbol, for native
// hosts) and `@_expose(wasm, …)` (the wasm export name; ignored natively).
// The list of exports, their contracts and error codes is include/edgevec.h
// (checked against this file and the library by Tests/Native/test_native.py).
//
// Memory: nothing here traps on exhaustion. Every allocation goes through
// the C allocator (dlmalloc in wasm, which returns NULL when `memory.grow`
// fails) and failures come back as −7 (out of memory) with the index
// unchanged. Swift objects are only created by `ev_create`/`ev_load`, after
// checking that some headroom is left (see `_hasHeadroom`).
//
// Threads (native hosts; the wasm module is single-threaded): the handle table
// and the error message are safe to use from any number of threads (see
// "Threads" below); what may overlap on one handle is in edgevec.h, "Thread
// safety".

/// Bridge-only error codes (the core's are −1 … −19).
enum BridgeError {
    /// Unknown or freed handle, or a NULL pointer argument.
    static let invalidHandle: Int32 = -20
    /// `metric` is not 0, 1 or 2.
    static let invalidMetric: Int32 = -21
    /// The caller's buffer is smaller than `ev_save_size`.
    static let bufferTooSmall: Int32 = -22
}

/// The state behind a handle: the index, its staging buffers (hosts write
/// vectors, ids, metadata and filter text into them directly: one copy, no
/// marshalling layer), its result buffers (hosts read hits and metadata from
/// them) and the per-handle default `ef`. The buffers are owned here, reused
/// across calls and grown only when a larger batch, k or metadata needs it;
/// they come from the C allocator, not the index's (so a bump-arena index is
/// not charged for host traffic).
final class _Slot {
    let index: HNSWIndex
    var _efSearch: Int
    var staging: UnsafeMutablePointer<Float>? = nil
    var stagingFloats = 0
    var stagingIds: UnsafeMutablePointer<UInt64>? = nil
    var stagingIdCount = 0
    var outputIds: UnsafeMutablePointer<UInt64>? = nil
    var outputDistances: UnsafeMutablePointer<Float>? = nil
    var outputCapacity = 0
    var stagingBytes: UnsafeMutablePointer<UInt8>? = nil
    var stagingByteCount = 0
    var outputBytes: UnsafeMutablePointer<UInt8>? = nil
    var outputByteCount = 0

    init(_ index: HNSWIndex) {
        self.index = index
        self._efSearch = index.configuration.efSearch
    }

    /// The handle's default `ef`. Under the table lock: `ev_set_ef_search`
    /// may change it while other threads search with it.
    var efSearch: Int {
        get {
            _lockHandles()
            defer { _unlockHandles() }
            return _efSearch
        }
        set {
            _lockHandles()
            _efSearch = newValue
            _unlockHandles()
        }
    }

    deinit {
        if let staging { _ev_free(staging) }
        if let stagingIds { _ev_free(stagingIds) }
        if let outputIds { _ev_free(outputIds) }
        if let stagingBytes { _ev_free(stagingBytes) }
        if let outputBytes { _ev_free(outputBytes) }
    }
}

/// The handle table, shared by indexes and compiled filters (an entry holds
/// one or the other, so a handle names at most one thing, and a filter
/// handle is refused where an index handle is expected and the other way
/// round). A handle is `generation << 16 | slot`: 16 bits of
/// slot (at most 65,536 live handles) and 15 of generation, so handles are
/// positive int32 values (and never 0: generations start at 1). Freeing a
/// slot bumps its generation, which turns every handle to it stale; a slot
/// whose generation would wrap is retired for good, so no handle ever comes
/// back to name another index (2³¹ creations per process before the table
/// is spent).
enum _Handles {
    static let slotBits: Int32 = 16
    static let slotMask: Int32 = (1 << 16) - 1
    static let maxSlots = 1 << 16
    static let maxGeneration: Int32 = (1 << 15) - 1

    struct Entry {
        var slot: _Slot?
        var filter: Filter?
        var generation: Int32
    }

    /// Read and written only between `_lockHandles()` and `_unlockHandles()`.
    nonisolated(unsafe) static var table: [Entry] = []
}

// MARK: Threads
//
// Natively, hosts may call from several threads: every access to the handle
// table holds one mutex, and lookups hand out a strong reference to the slot
// or filter, so `ev_free` on one thread never frees an index another thread
// is inside of (it goes when that call returns; the handle is stale at once).
// The error message buffer is per thread. The wasm module is single-threaded
// (no shared memory): the lock compiles to nothing and the buffer is a global.

#if arch(wasm32)
@inline(__always) func _lockHandles() {}
@inline(__always) func _unlockHandles() {}
#else
@inline(__always) func _lockHandles() { _ev_handles_lock() }
@inline(__always) func _unlockHandles() { _ev_handles_unlock() }
#endif

/// The table entry `handle` names, if its generation matches. Call with the
/// table locked.
@inline(__always)
func _entry(_ handle: Int32) -> Int? {
    guard handle > 0 else { return nil }
    let index = Int(handle & _Handles.slotMask)
    guard index < _Handles.table.count, _Handles.table[index].generation == handle >> _Handles.slotBits else {
        return nil
    }
    return index
}

/// The slot of a live index handle: a strong reference, which keeps the
/// index alive for the caller even if another thread frees the handle.
@inline(__always)
func _slot(_ handle: Int32) -> _Slot? {
    _lockHandles()
    defer { _unlockHandles() }
    guard let index = _entry(handle) else { return nil }
    return _Handles.table[index].slot
}

/// The compiled filter of a live filter handle.
func _filter(_ handle: Int32) -> Filter? {
    _lockHandles()
    defer { _unlockHandles() }
    guard let index = _entry(handle) else { return nil }
    return _Handles.table[index].filter
}

/// A free entry of the table (appended if needed), or nil when every entry
/// is live or retired (the table is at its size limit). Call with the table
/// locked.
func _freeEntry() -> Int? {
    for i in _Handles.table.indices where _Handles.table[i].slot == nil && _Handles.table[i].filter == nil
        && _Handles.table[i].generation <= _Handles.maxGeneration {
        return i
    }
    guard _Handles.table.count < _Handles.maxSlots else { return nil }
    _Handles.table.append(_Handles.Entry(slot: nil, filter: nil, generation: 1))
    return _Handles.table.count - 1
}

/// A handle for a new slot holding `index`, or out of memory (−7) when every
/// slot is live or retired.
func _register(_ index: HNSWIndex) -> Int32 {
    let slot = _Slot(index)
    _lockHandles()
    defer { _unlockHandles() }
    guard let free = _freeEntry() else { return _fail(.outOfMemory) }
    _Handles.table[free].slot = slot
    return _Handles.table[free].generation << _Handles.slotBits | Int32(free)
}

/// A handle for a compiled filter, or out of memory (−7) as `_register(_:)`.
func _register(filter: Filter) -> Int32 {
    _lockHandles()
    defer { _unlockHandles() }
    guard let free = _freeEntry() else { return _fail(.outOfMemory) }
    _Handles.table[free].filter = filter
    return _Handles.table[free].generation << _Handles.slotBits | Int32(free)
}

/// Frees the entry `handle` names if it is a live index (`filter` false) or
/// filter (`filter` true); returns whether it was. The table's references
/// are dropped after unlocking: an index's memory is given back outside the
/// lock (or later, by a call on another thread still using it).
func _unregister(_ handle: Int32, filter: Bool) -> Bool {
    _lockHandles()
    guard let index = _entry(handle),
          filter ? _Handles.table[index].filter != nil : _Handles.table[index].slot != nil else {
        _unlockHandles()
        return false
    }
    let slot = _Handles.table[index].slot
    let compiled = _Handles.table[index].filter
    _Handles.table[index].slot = nil
    _Handles.table[index].filter = nil
    _Handles.table[index].generation += 1   // past maxGeneration: retired
    _unlockHandles()
    withExtendedLifetime((slot, compiled)) {}
    return true
}

// MARK: The most recent failure's message

let _lastErrorCapacity = Int(_EV_ERROR_TEXT_BYTES)

#if arch(wasm32)
/// Bytes for `ev_last_error_message`: allocated on the first failure, from
/// the C allocator (so that a failure under memory pressure costs nothing
/// that can trap); without it the message is the code's generic one.
nonisolated(unsafe) var _lastErrorBuffer: UnsafeMutablePointer<UInt8>? = nil

/// The message buffer, allocated first if `allocating`; nil if it could not be.
@inline(__always)
func _lastErrorText(allocating: Bool) -> UnsafeMutablePointer<UInt8>? {
    if allocating && _lastErrorBuffer == nil {
        _lastErrorBuffer = _ev_aligned_alloc(UInt(_lastErrorCapacity), 16)?
            .bindMemory(to: UInt8.self, capacity: _lastErrorCapacity)
    }
    return _lastErrorBuffer
}
#else
/// This thread's message buffer (thread-local static storage in the C shims).
@inline(__always)
func _lastErrorText(allocating: Bool) -> UnsafeMutablePointer<UInt8>? {
    _ev_thread_error_text()
}
#endif

/// Records `error`'s message as the most recent failure's; returns its code.
func _fail(_ error: EdgeVecError) -> Int32 {
    _fail(error.code) { error.write(to: &$0) }
}

/// Records the message `write` writes as the most recent failure's (written
/// straight into the message buffer, truncated to its size); returns `code`.
func _fail(_ code: Int32, _ write: (inout MessageBuffer) -> Void) -> Int32 {
    guard let text = _lastErrorText(allocating: true) else { return code }
    var m = MessageBuffer(text, capacity: _lastErrorCapacity - 1)
    write(&m)
    text[min(m.count, _lastErrorCapacity - 1)] = 0
    return code
}

/// Records a failure known only by its code (the bridge's own): its message
/// is empty, so no earlier failure's detail is left standing.
func _fail(_ code: Int32) -> Int32 {
    _lastErrorText(allocating: false)?[0] = 0
    return code
}

/// Swift objects (the index, its slot, the handle table, lazily built
/// tables) are allocated by the runtime, which traps instead of returning
/// NULL. Before creating any, check that the C allocator still has this
/// much to give; if so, the few small objects that follow fit in it.
func _hasHeadroom() -> Bool {
    guard let probe = _ev_aligned_alloc(64 << 10, 16) else { return false }
    _ev_free(probe)
    return true
}

/// A new, empty index. `metric`: 0 l2, 1 cosine, 2 dot.
/// Returns a handle (> 0) or a negative error code.
@_expose(wasm, "ev_create")
@_cdecl("ev_create")
public func ev_create(_ dimension: Int32, _ metric: Int32, _ m: Int32, _ efConstruction: Int32,
                      _ seed: UInt64) -> Int32 {
    ev_create_with_ef_search(dimension, metric, m, efConstruction, Int32(HNSWConfiguration().efSearch), seed)
}

/// `ev_create` with the default search beam width `ef_search` (1...65536),
/// which is stored in the index and in its serialized form.
@_expose(wasm, "ev_create_with_ef_search")
@_cdecl("ev_create_with_ef_search")
public func ev_create_with_ef_search(_ dimension: Int32, _ metric: Int32, _ m: Int32, _ efConstruction: Int32,
                                     _ efSearch: Int32, _ seed: UInt64) -> Int32 {
    guard metric >= 0, let metric = Metric(rawValue: UInt32(metric)) else { return _fail(BridgeError.invalidMetric) }
    guard _hasHeadroom() else { return _fail(.outOfMemory) }
    let configuration = HNSWConfiguration(m: Int(m), efConstruction: Int(efConstruction),
                                          efSearch: Int(efSearch), seed: seed)
    do throws(EdgeVecError) {
        return _register(try HNSWIndex(dimension: Int(dimension), metric: metric, configuration: configuration))
    } catch {
        return _fail(error)
    }
}

/// The staging buffer, with room for `count` vectors (`count` × dimension
/// floats, 64-byte aligned), owned by the index and reused across calls;
/// grown (contents not kept) only for a larger batch. NULL for an unknown
/// handle, `count` < 1, or when memory is exhausted (the previous buffer
/// then stays in place).
@_expose(wasm, "ev_input")
@_cdecl("ev_input")
public func ev_input(_ handle: Int32, _ count: Int32) -> UnsafeMutablePointer<Float>? {
    guard let slot = _slot(handle), count >= 1 else { return nil }
    let (floats, overflow) = Int(count).multipliedReportingOverflow(by: slot.index.dimension)
    guard !overflow else { return nil }
    if floats <= slot.stagingFloats { return slot.staging }
    let (bytes, overflow2) = floats.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
    guard !overflow2, let raw = _ev_aligned_alloc(UInt(bytes), 64) else { return nil }
    if let old = slot.staging { _ev_free(old) }
    slot.staging = raw.bindMemory(to: Float.self, capacity: floats)
    slot.stagingFloats = floats
    return slot.staging
}

/// Inserts one vector of the index dimension under the next id (one above
/// every id the index has held: 0, 1, 2, … when ids are never given);
/// returns the id or an error.
@_expose(wasm, "ev_insert")
@_cdecl("ev_insert")
public func ev_insert(_ handle: Int32, _ vector: UnsafePointer<Float>?) -> Int64 {
    _insert(handle, vector, id: nil)
}

/// Inserts one vector under `id` (0 … 2⁵³ − 1); returns the id or an error
/// (−11 the id is present, −12 it is out of range).
@_expose(wasm, "ev_insert_with_id")
@_cdecl("ev_insert_with_id")
public func ev_insert_with_id(_ handle: Int32, _ vector: UnsafePointer<Float>?, _ id: UInt64) -> Int64 {
    _insert(handle, vector, id: id)
}

func _insert(_ handle: Int32, _ vector: UnsafePointer<Float>?, id: UInt64?) -> Int64 {
    guard let slot = _slot(handle), let vector else { return Int64(_fail(BridgeError.invalidHandle)) }
    do throws(EdgeVecError) {
        return Int64(try slot.index.add(UnsafeBufferPointer(start: vector, count: slot.index.dimension), id: id))
    } catch {
        return Int64(_fail(error))
    }
}

/// Inserts `count` vectors stored row after row, all or nothing, under
/// consecutive ids from the next one; returns the first id (`count` 0 adds
/// nothing and returns the next id) or an error.
@_expose(wasm, "ev_insert_batch")
@_cdecl("ev_insert_batch")
public func ev_insert_batch(_ handle: Int32, _ vectors: UnsafePointer<Float>?, _ count: Int32) -> Int64 {
    _insertBatch(handle, vectors, count, ids: nil)
}

/// Inserts `count` vectors row after row under `ids[0..<count]`, all or
/// nothing (−11 an id is present or given twice, −12 one is out of range);
/// returns the first id (`count` 0: the next id) or an error. `ids` may be
/// the buffer of `ev_input_ids`.
@_expose(wasm, "ev_insert_batch_with_ids")
@_cdecl("ev_insert_batch_with_ids")
public func ev_insert_batch_with_ids(_ handle: Int32, _ vectors: UnsafePointer<Float>?, _ count: Int32,
                                     _ ids: UnsafePointer<UInt64>?) -> Int64 {
    guard let ids else { return Int64(_fail(BridgeError.invalidHandle)) }
    return _insertBatch(handle, vectors, count, ids: ids)
}

func _insertBatch(_ handle: Int32, _ vectors: UnsafePointer<Float>?, _ count: Int32,
                  ids: UnsafePointer<UInt64>?) -> Int64 {
    guard let slot = _slot(handle), let vectors else { return Int64(_fail(BridgeError.invalidHandle)) }
    guard count >= 0 else { return Int64(_fail(.invalidParameter(.count, value: Int(count)))) }
    // More floats than the address space holds cannot have been staged.
    let (floats, overflow) = Int(count).multipliedReportingOverflow(by: slot.index.dimension)
    guard !overflow else { return Int64(_fail(.outOfMemory)) }
    do throws(EdgeVecError) {
        let keys = ids.map { UnsafeBufferPointer(start: $0, count: Int(count)) }
        return Int64(try slot.index.addBatch(UnsafeBufferPointer(start: vectors, count: floats), ids: keys))
    } catch {
        return Int64(_fail(error))
    }
}

/// Reserves memory for `capacity` vectors in all (exact size), so that
/// inserts up to that count allocate nothing; see
/// `HNSWIndex.reserveCapacity(_:)`. Returns 0 or an error (the index is
/// unchanged on any error).
@_expose(wasm, "ev_reserve")
@_cdecl("ev_reserve")
public func ev_reserve(_ handle: Int32, _ capacity: Int32) -> Int32 {
    guard let slot = _slot(handle) else { return _fail(BridgeError.invalidHandle) }
    do throws(EdgeVecError) {
        try slot.index.reserveCapacity(Int(capacity))
        return 0
    } catch {
        return _fail(error)
    }
}

/// The result buffer: room for `k` ids (uint64), with the distances (float32)
/// in a parallel buffer returned by `ev_output_distances`. Owned by the
/// index, reused, grown (contents not kept) only for a larger `k`. NULL for
/// an unknown handle, `k` < 1, or when memory is exhausted (the previous
/// buffers then stay in place). Hosts that know the index size may ask for
/// min(k, size): a search never returns more hits than vectors.
@_expose(wasm, "ev_output")
@_cdecl("ev_output")
public func ev_output(_ handle: Int32, _ k: Int32) -> UnsafeMutablePointer<UInt64>? {
    guard let slot = _slot(handle), k >= 1 else { return nil }
    let n = Int(k)
    if n <= slot.outputCapacity { return slot.outputIds }
    // One block: n ids (8 bytes), then n distances (4 bytes), 64-byte aligned start.
    let (bytes, overflow) = n.multipliedReportingOverflow(by: 12)
    guard !overflow, let raw = _ev_aligned_alloc(UInt(bytes), 64) else { return nil }
    if let old = slot.outputIds { _ev_free(old) }
    slot.outputIds = raw.bindMemory(to: UInt64.self, capacity: n)
    slot.outputDistances = (raw + n * 8).bindMemory(to: Float.self, capacity: n)
    slot.outputCapacity = n
    return slot.outputIds
}

/// The distances half of the result buffer (see `ev_output`); NULL before
/// the first `ev_output` or for an unknown handle.
@_expose(wasm, "ev_output_distances")
@_cdecl("ev_output_distances")
public func ev_output_distances(_ handle: Int32) -> UnsafeMutablePointer<Float>? {
    _slot(handle)?.outputDistances
}

/// Writes up to `k` ids and distances (ascending distance) and returns how
/// many: min(k, size). `ef` ≤ 0 means the handle's default (`ev_ef_search`).
/// `out_ids` and `out_distances` need room for min(k, size) entries.
@_expose(wasm, "ev_search")
@_cdecl("ev_search")
public func ev_search(_ handle: Int32, _ query: UnsafePointer<Float>?, _ k: Int32, _ ef: Int32,
                      _ outIds: UnsafeMutablePointer<UInt64>?, _ outDistances: UnsafeMutablePointer<Float>?) -> Int32 {
    guard let slot = _slot(handle), let query, let outIds, let outDistances else { return _fail(BridgeError.invalidHandle) }
    do throws(EdgeVecError) {
        let n = try slot.index.search(UnsafeBufferPointer(start: query, count: slot.index.dimension), k: Int(k),
                                      ef: ef > 0 ? Int(ef) : slot.efSearch, ids: outIds, distances: outDistances)
        return Int32(n)
    } catch {
        return _fail(error)
    }
}

/// Vectors in the index, or an error.
@_expose(wasm, "ev_size")
@_cdecl("ev_size")
public func ev_size(_ handle: Int32) -> Int32 {
    guard let slot = _slot(handle) else { return _fail(BridgeError.invalidHandle) }
    return Int32(clamping: slot.index.count)
}

/// The index dimension, or an error.
@_expose(wasm, "ev_dimension")
@_cdecl("ev_dimension")
public func ev_dimension(_ handle: Int32) -> Int32 {
    guard let slot = _slot(handle) else { return _fail(BridgeError.invalidHandle) }
    return Int32(slot.index.dimension)
}

/// The metric (0 l2, 1 cosine, 2 dot), or an error.
@_expose(wasm, "ev_metric")
@_cdecl("ev_metric")
public func ev_metric(_ handle: Int32) -> Int32 {
    guard let slot = _slot(handle) else { return _fail(BridgeError.invalidHandle) }
    return Int32(slot.index.metric.rawValue)
}

/// M (links per node on upper layers), or an error.
@_expose(wasm, "ev_m")
@_cdecl("ev_m")
public func ev_m(_ handle: Int32) -> Int32 {
    guard let slot = _slot(handle) else { return _fail(BridgeError.invalidHandle) }
    return Int32(slot.index.configuration.m)
}

/// efConstruction, or an error.
@_expose(wasm, "ev_ef_construction")
@_cdecl("ev_ef_construction")
public func ev_ef_construction(_ handle: Int32) -> Int32 {
    guard let slot = _slot(handle) else { return _fail(BridgeError.invalidHandle) }
    return Int32(slot.index.configuration.efConstruction)
}

/// The handle's default search beam width, or an error. Starts as the
/// index's stored efSearch; `ev_set_ef_search` changes it for this handle.
@_expose(wasm, "ev_ef_search")
@_cdecl("ev_ef_search")
public func ev_ef_search(_ handle: Int32) -> Int32 {
    guard let slot = _slot(handle) else { return _fail(BridgeError.invalidHandle) }
    return Int32(slot.efSearch)
}

/// Sets the handle's default search beam width (1...65536); returns 0 or an
/// error. Not stored in serialized bytes, which keep the efSearch the index
/// was created with.
@_expose(wasm, "ev_set_ef_search")
@_cdecl("ev_set_ef_search")
public func ev_set_ef_search(_ handle: Int32, _ ef: Int32) -> Int32 {
    guard let slot = _slot(handle) else { return _fail(BridgeError.invalidHandle) }
    guard ef >= 1 && ef <= 65536 else { return _fail(.invalidParameter(.efSearch, value: Int(ef))) }
    slot.efSearch = Int(ef)
    return 0
}

/// Bytes `ev_save` needs, or an error (−7 when the serialized form would not
/// fit in an int32 length).
@_expose(wasm, "ev_save_size")
@_cdecl("ev_save_size")
public func ev_save_size(_ handle: Int32) -> Int32 {
    guard let slot = _slot(handle) else { return _fail(BridgeError.invalidHandle) }
    guard _serializedSizeFitsInt32(slot.index) else { return _fail(.outOfMemory) }
    return Int32(slot.index.serializedByteCount)
}

/// Whether the serialized size surely fits in an int32. Checked from an
/// upper bound in 64-bit arithmetic, because `serializedByteCount` itself
/// traps on overflow where `Int` is 32 bits (wasm32).
func _serializedSizeFitsInt32(_ index: HNSWIndex) -> Bool {
    // Wrapping arithmetic: every factor is small (n < 2³², dimension ≤ 2¹⁶,
    // M ≤ 128, levels ≤ 255), so nothing overflows, and checked 64-bit
    // multiplication would need compiler-rt's __multi3 on wasm32.
    let n = Int64(index.count) &+ Int64(index.removedCount), m = Int64(index.configuration.m)
    let vectors = n &* Int64(index.dimension) &* 4
    let levelsAndParents = (n &+ 3) &+ n &* 4
    let layer0 = n &* (1 &+ 2 &* m) &* 4
    // Upper layers: at most `maxLevel` blocks of 1 + M words per node.
    let upper = n &* Int64(index.maxLevel) &* (1 &+ m) &* 4
    // The next id, an id per slot, a word per removed slot.
    let ids = 8 &+ n &* 12
    let fixed = 128 &+ vectors &+ levelsAndParents &+ layer0 &+ upper &+ ids
    return fixed <= Int64(Int32.max) && fixed &+ Int64(index.metadataSectionByteCount) <= Int64(Int32.max)
}

/// Serializes into `out` (`capacity` bytes); returns the byte count or an error.
@_expose(wasm, "ev_save")
@_cdecl("ev_save")
public func ev_save(_ handle: Int32, _ out: UnsafeMutableRawPointer?, _ capacity: Int32) -> Int32 {
    guard let slot = _slot(handle), let out else { return _fail(BridgeError.invalidHandle) }
    guard _serializedSizeFitsInt32(slot.index) else { return _fail(.outOfMemory) }
    let size = slot.index.serializedByteCount
    guard size <= Int(capacity) else { return _fail(BridgeError.bufferTooSmall) }
    // The first save builds the checksum tables (a Swift array).
    guard _hasHeadroom() else { return _fail(.outOfMemory) }
    return Int32(slot.index.serialize(into: UnsafeMutableRawBufferPointer(start: out, count: Int(capacity))))
}

/// Loads serialized bytes; returns a new handle or an error.
@_expose(wasm, "ev_load")
@_cdecl("ev_load")
public func ev_load(_ bytes: UnsafeRawPointer?, _ length: Int32) -> Int32 {
    guard length >= 0, let bytes else { return _fail(.corrupt(.truncated)) }
    guard _hasHeadroom() else { return _fail(.outOfMemory) }
    do throws(EdgeVecError) {
        return _register(try HNSWIndex(serialized: UnsafeRawBufferPointer(start: bytes, count: Int(length))))
    } catch {
        return _fail(error)
    }
}

/// Releases an index and its buffers. The handle is stale from then on:
/// every later call with it fails with −20, even after new indexes are
/// created. Unknown and stale handles (and filter handles) are ignored.
@_expose(wasm, "ev_free")
@_cdecl("ev_free")
public func ev_free(_ handle: Int32) {
    _ = _unregister(handle, filter: false)
}

/// `bytes` bytes (16-byte aligned) from the C allocator for the host, e.g.
/// to pass serialized bytes to `ev_load` or receive them from `ev_save`.
/// NULL when memory is exhausted or `bytes` < 0. Free with `ev_dealloc`.
@_expose(wasm, "ev_alloc")
@_cdecl("ev_alloc")
public func ev_alloc(_ bytes: Int32) -> UnsafeMutableRawPointer? {
    guard bytes >= 0 else { return nil }
    return _ev_aligned_alloc(UInt(bytes), 16)
}

/// Frees a block from `ev_alloc`; NULL is ignored.
@_expose(wasm, "ev_dealloc")
@_cdecl("ev_dealloc")
public func ev_dealloc(_ pointer: UnsafeMutableRawPointer?) {
    if let pointer { _ev_free(pointer) }
}

/// Which allocator new indexes use in this build (the build's trait):
/// 0 the C library's malloc (dlmalloc in wasm), 1 jemalloc, 2 bump arena.
@_expose(wasm, "ev_allocator_kind")
@_cdecl("ev_allocator_kind")
public func ev_allocator_kind() -> Int32 {
    Int32(RawAllocator.defaultKind.rawValue)
}

/// A static, NUL-terminated English message for an error code.
@_expose(wasm, "ev_error_message")
@_cdecl("ev_error_message")
public func ev_error_message(_ code: Int32) -> UnsafePointer<CChar> {
    let message: StaticString
    switch code {
    case -1: message = "dimension mismatch"
    case -2: message = "non-finite value (NaN or infinity)"
    case -3: message = "zero vector has no direction under the cosine metric"
    case -4: message = "k must be at least 1"
    case -5: message = "invalid parameter"
    case -6: message = "the index is full"
    case -7: message = "out of memory; the index is unchanged"
    case -8: message = "corrupt index data"
    case -9: message = "file operation failed"
    case -10: message = "vector too large: its distances would overflow float32"
    case -11: message = "the id is already in the index"
    case -12: message = "invalid id: ids are integers in 0...9007199254740991"
    case -13: message = "no vector has this id"
    case -14: message = "invalid filter"
    case -15: message = "invalid metadata"
    case -20: message = "invalid handle or null pointer"
    case -21: message = "invalid metric (0 l2, 1 cosine, 2 dot)"
    case -22: message = "buffer too small"
    default: message = code >= 0 ? "ok" : "unknown error"
    }
    return UnsafeRawPointer(message.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// The most recent failed call's message, NUL-terminated and valid until the
/// next failing call: for a corrupt file it names the reason (the field,
/// vector or node), as `EdgeVecError.message` does. For the bridge's own
/// codes, and before any failure, an empty string (use `ev_error_message`).
@_expose(wasm, "ev_last_error_message")
@_cdecl("ev_last_error_message")
public func ev_last_error_message() -> UnsafePointer<CChar> {
    if let text = _lastErrorText(allocating: false) {
        return UnsafeRawPointer(text).assumingMemoryBound(to: CChar.self)
    }
    let empty: StaticString = ""
    return UnsafeRawPointer(empty.utf8Start).assumingMemoryBound(to: CChar.self)
}
