import _EdgeVecCShims
import EdgeVecSearch

// C-ABI exports for ids, removal, update and reading back (see Bridge.swift
// for the conventions and include/edgevec.h for the contracts).

/// The id staging buffer: room for `count` uint64 ids, for
/// `ev_insert_batch_with_ids`. Owned by the index, reused, grown (contents
/// not kept) only for a larger count. NULL for an unknown handle, `count` < 1,
/// or when memory is exhausted.
@_expose(wasm, "ev_input_ids")
@_cdecl("ev_input_ids")
public func ev_input_ids(_ handle: Int32, _ count: Int32) -> UnsafeMutablePointer<UInt64>? {
    guard let slot = _slot(handle), count >= 1 else { return nil }
    let n = Int(count)
    if n <= slot.stagingIdCount { return slot.stagingIds }
    let (bytes, overflow) = n.multipliedReportingOverflow(by: 8)
    guard !overflow, let raw = _ev_aligned_alloc(UInt(bytes), 64) else { return nil }
    if let old = slot.stagingIds { _ev_free(old) }
    slot.stagingIds = raw.bindMemory(to: UInt64.self, capacity: n)
    slot.stagingIdCount = n
    return slot.stagingIds
}

/// Removes the vector with `id`: 1, 0 when no vector has it, or an error.
/// Its slot is reused by later inserts.
@_expose(wasm, "ev_remove")
@_cdecl("ev_remove")
public func ev_remove(_ handle: Int32, _ id: UInt64) -> Int32 {
    guard let slot = _slot(handle) else { return _fail(BridgeError.invalidHandle) }
    return slot.index.remove(id) ? 1 : 0
}

/// Replaces the vector of `id` (the index dimension's floats); 0 or an
/// error (−13 no vector has `id`; the index is unchanged on any error).
@_expose(wasm, "ev_update")
@_cdecl("ev_update")
public func ev_update(_ handle: Int32, _ id: UInt64, _ vector: UnsafePointer<Float>?) -> Int32 {
    guard let slot = _slot(handle), let vector else { return _fail(BridgeError.invalidHandle) }
    do throws(EdgeVecError) {
        try slot.index.update(id, UnsafeBufferPointer(start: vector, count: slot.index.dimension))
        return 0
    } catch {
        return _fail(error)
    }
}

/// 1 when a vector has `id`, 0 when none does, or an error.
@_expose(wasm, "ev_contains")
@_cdecl("ev_contains")
public func ev_contains(_ handle: Int32, _ id: UInt64) -> Int32 {
    guard let slot = _slot(handle) else { return _fail(BridgeError.invalidHandle) }
    return slot.index.contains(id) ? 1 : 0
}

/// Copies the stored vector of `id` (the index dimension's floats; cosine
/// indexes store vectors normalised) to `out`: 1, 0 when no vector has `id`
/// (`out` untouched), or an error.
@_expose(wasm, "ev_get")
@_cdecl("ev_get")
public func ev_get(_ handle: Int32, _ id: UInt64, _ out: UnsafeMutablePointer<Float>?) -> Int32 {
    guard let slot = _slot(handle), let out else { return _fail(BridgeError.invalidHandle) }
    return slot.index.copyVector(for: id, into: out) ? 1 : 0
}

/// Writes the live ids (slot order) to `out`, which has room for `capacity`;
/// returns how many (`ev_size`) or an error (−22 when `capacity` is smaller).
@_expose(wasm, "ev_ids")
@_cdecl("ev_ids")
public func ev_ids(_ handle: Int32, _ out: UnsafeMutablePointer<UInt64>?, _ capacity: Int32) -> Int32 {
    guard let slot = _slot(handle), let out else { return _fail(BridgeError.invalidHandle) }
    guard let n = slot.index.copyIDs(into: out, capacity: Int(capacity)) else {
        return _fail(BridgeError.bufferTooSmall)
    }
    return Int32(n)
}

/// Slots of removed vectors not yet reused or compacted away, or an error.
@_expose(wasm, "ev_removed_count")
@_cdecl("ev_removed_count")
public func ev_removed_count(_ handle: Int32) -> Int32 {
    guard let slot = _slot(handle) else { return _fail(BridgeError.invalidHandle) }
    return Int32(clamping: slot.index.removedCount)
}

/// Bytes of memory the index holds (vectors, graph, ids, scratch; not the
/// handle's staging and result buffers), or an error.
@_expose(wasm, "ev_memory_bytes")
@_cdecl("ev_memory_bytes")
public func ev_memory_bytes(_ handle: Int32) -> Int64 {
    guard let slot = _slot(handle) else { return Int64(_fail(BridgeError.invalidHandle)) }
    return Int64(slot.index.allocatedBytes)
}

/// The id the next insert without one gets (one above every id held so
/// far), or an error.
@_expose(wasm, "ev_next_id")
@_cdecl("ev_next_id")
public func ev_next_id(_ handle: Int32) -> Int64 {
    guard let slot = _slot(handle) else { return Int64(_fail(BridgeError.invalidHandle)) }
    return Int64(slot.index.nextID)
}

/// Rebuilds the live vectors into dense slots, giving removed ones' memory
/// back (ids unchanged); 0 or an error (−7, the index unchanged).
@_expose(wasm, "ev_compact")
@_cdecl("ev_compact")
public func ev_compact(_ handle: Int32) -> Int32 {
    guard let slot = _slot(handle) else { return _fail(BridgeError.invalidHandle) }
    do throws(EdgeVecError) {
        try slot.index.compact()
        return 0
    } catch {
        return _fail(error)
    }
}
