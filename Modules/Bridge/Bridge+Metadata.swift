import _EdgeVecCShims
import EdgeVecAllocators
import EdgeVecFilter
import EdgeVecSearch

// C-ABI exports for metadata and filtered search (see Bridge.swift for the
// conventions and include/edgevec.h for the contracts, the binary form of
// metadata included).
//
// Metadata crosses the boundary in its binary form (Metadata+Encoding.swift),
// decoded here with every length, tag and string checked; filters cross as
// UTF-8 text and are compiled once into a filter handle, which lives in the
// same generation-checked table as index handles.

/// Passed as the id of `ev_insert_with_metadata`: assign the next id.
let _nextIDSentinel = UInt64.max

/// The byte staging buffer: room for `count` bytes, for metadata in binary
/// form and filter text from hosts that cannot pass their own memory (wasm).
/// Owned by the index, reused, grown (contents not kept) only for a larger
/// count. NULL for an unknown handle, `count` < 1, or when memory is exhausted.
@_expose(wasm, "ev_input_bytes")
@_cdecl("ev_input_bytes")
public func ev_input_bytes(_ handle: Int32, _ count: Int32) -> UnsafeMutablePointer<UInt8>? {
    guard let slot = _slot(handle), count >= 1 else { return nil }
    let n = Int(count)
    if n <= slot.stagingByteCount { return slot.stagingBytes }
    guard let raw = _ev_aligned_alloc(UInt(n), 16) else { return nil }
    if let old = slot.stagingBytes { _ev_free(old) }
    slot.stagingBytes = raw.bindMemory(to: UInt8.self, capacity: n)
    slot.stagingByteCount = n
    return slot.stagingBytes
}

/// The bytes of `pointer`/`length` as a buffer, or the error for them: −20
/// for NULL, −5 for a negative length.
func _bytes(_ pointer: UnsafeRawPointer?, _ length: Int32) throws(EdgeVecError) -> UnsafeRawBufferPointer? {
    guard let pointer else { return nil }
    guard length >= 0 else { throw .invalidParameter(.count, value: Int(length)) }
    return UnsafeRawBufferPointer(start: pointer, count: Int(length))
}

/// A metadata problem, recorded as the most recent failure ("invalid
/// metadata: …", or "invalid metadata in row N: …" in a batch); returns −15.
func _fail(_ problem: MetadataBytesProblem, in form: UnsafeRawBufferPointer, row: Int? = nil) -> Int32 {
    // (The code of `invalidMetadata`, whatever the problem: −15.)
    _fail(EdgeVecError.invalidMetadata(.malformed(offset: 0)).code) { m in
        if let row {
            m.text("invalid metadata in row ")
            m.number(row)
            m.text(": ")
        } else {
            m.text("invalid metadata: ")
        }
        problem.write(to: &m, form: form)
    }
}

/// Checks one binary form that must fill `bytes` exactly: its length, or
/// the problem (bytes left over are malformed where they start).
func _checkForm(_ bytes: UnsafeRawBufferPointer) throws(MetadataBytesProblem) {
    let used = try MetadataBytes.check(bytes)
    if used != bytes.count { throw MetadataBytesProblem(kind: .malformed, number: used) }
}

/// Swift objects for the index's metadata columns come from the runtime,
/// which traps when memory runs out; check first that the C allocator can
/// still give a margin of `bytes` (at least 64 KiB) besides.
func _hasHeadroom(for bytes: Int) -> Bool {
    let probe = max(64 << 10, bytes)
    guard let p = _ev_aligned_alloc(UInt(probe), 16) else { return false }
    _ev_free(p)
    return true
}

/// Inserts one vector of the index dimension with metadata (binary form,
/// `length` bytes) under `id`, or under the next id when `id` is
/// `UInt64.max` (`EV_NEXT_ID`); returns the id or an error (−15 bad
/// metadata, or any error of `ev_insert_with_id`; the index is unchanged on
/// any error).
@_expose(wasm, "ev_insert_with_metadata")
@_cdecl("ev_insert_with_metadata")
public func ev_insert_with_metadata(_ handle: Int32, _ vector: UnsafePointer<Float>?, _ id: UInt64,
                                    _ metadata: UnsafeRawPointer?, _ length: Int32) -> Int64 {
    guard let slot = _slot(handle), let vector else { return Int64(_fail(BridgeError.invalidHandle)) }
    do throws(EdgeVecError) {
        guard let form = try _bytes(metadata, length) else { return Int64(_fail(BridgeError.invalidHandle)) }
        do throws(MetadataBytesProblem) {
            try _checkForm(form)
        } catch {
            return Int64(_fail(error, in: form))
        }
        guard _hasHeadroom(for: 4 * form.count) else { throw .outOfMemory }
        return Int64(try slot.index.add(UnsafeBufferPointer(start: vector, count: slot.index.dimension),
                                        id: id == _nextIDSentinel ? nil : id, checkedMetadata: form))
    } catch {
        return Int64(_fail(error))
    }
}

/// Inserts `count` vectors row after row with their metadata, all or
/// nothing: `metadata` holds `count` binary forms back to back (`length`
/// bytes in all), row i's the i-th. Row i gets `ids[i]`, or with `ids` NULL
/// consecutive ids from the next one. Returns the first id (`count` 0: the
/// next id) or an error; on any error, bad metadata in any row included,
/// nothing is added.
@_expose(wasm, "ev_insert_batch_with_metadata")
@_cdecl("ev_insert_batch_with_metadata")
public func ev_insert_batch_with_metadata(_ handle: Int32, _ vectors: UnsafePointer<Float>?, _ count: Int32,
                                          _ ids: UnsafePointer<UInt64>?, _ metadata: UnsafeRawPointer?,
                                          _ length: Int32) -> Int64 {
    guard let slot = _slot(handle), let vectors else { return Int64(_fail(BridgeError.invalidHandle)) }
    guard count >= 0 else { return Int64(_fail(.invalidParameter(.count, value: Int(count)))) }
    let (floats, overflow) = Int(count).multipliedReportingOverflow(by: slot.index.dimension)
    guard !overflow else { return Int64(_fail(.outOfMemory)) }
    do throws(EdgeVecError) {
        guard let forms = try _bytes(metadata, length) else { return Int64(_fail(BridgeError.invalidHandle)) }
        // Every row's metadata is checked before anything changes; offsets in
        // messages count from the start of `metadata`.
        var offset = 0
        for row in 0..<Int(count) {
            do throws(MetadataBytesProblem) {
                offset += try MetadataBytes.check(UnsafeRawBufferPointer(rebasing: forms[offset...]))
            } catch {
                return Int64(_fail(error.shifted(by: offset), in: forms, row: row))
            }
        }
        if offset != forms.count {
            return Int64(_fail(MetadataBytesProblem(kind: .malformed, number: offset), in: forms))
        }
        guard _hasHeadroom(for: 4 * forms.count) else { throw .outOfMemory }
        let keys = ids.map { UnsafeBufferPointer(start: $0, count: Int(count)) }
        return Int64(try slot.index.addBatch(UnsafeBufferPointer(start: vectors, count: floats), ids: keys,
                                              checkedMetadata: forms))
    } catch {
        return Int64(_fail(error))
    }
}

/// Replaces the metadata of `id` with `length` bytes of binary form (the
/// empty form, one zero byte, removes it); 0 or an error (−13 no vector has
/// `id`, −15 bad metadata; the index is unchanged on any error).
@_expose(wasm, "ev_set_metadata")
@_cdecl("ev_set_metadata")
public func ev_set_metadata(_ handle: Int32, _ id: UInt64, _ metadata: UnsafeRawPointer?, _ length: Int32) -> Int32 {
    guard let slot = _slot(handle) else { return _fail(BridgeError.invalidHandle) }
    do throws(EdgeVecError) {
        guard let form = try _bytes(metadata, length) else { return _fail(BridgeError.invalidHandle) }
        do throws(MetadataBytesProblem) {
            try _checkForm(form)
        } catch {
            return _fail(error, in: form)
        }
        guard _hasHeadroom(for: 4 * form.count) else { throw .outOfMemory }
        try slot.index.setMetadata(checked: form, for: id)
        return 0
    } catch {
        return _fail(error)
    }
}

/// Writes the metadata of `id` in binary form to the handle's byte output
/// buffer (`ev_output_bytes`) and returns its length (≥ 1: a vector without
/// metadata has the empty form, one zero byte), 0 when no vector has `id`, or
/// an error (−7).
@_expose(wasm, "ev_get_metadata")
@_cdecl("ev_get_metadata")
public func ev_get_metadata(_ handle: Int32, _ id: UInt64) -> Int32 {
    guard let slot = _slot(handle) else { return _fail(BridgeError.invalidHandle) }
    var counter = MetadataRecordWriter(nil)
    guard slot.index.encodeMetadata(for: id, into: &counter) else { return 0 }
    let n = counter.byteCount
    if n > slot.outputByteCount {
        guard let raw = _ev_aligned_alloc(UInt(n), 16) else { return _fail(.outOfMemory) }
        if let old = slot.outputBytes { _ev_free(old) }
        slot.outputBytes = raw.bindMemory(to: UInt8.self, capacity: n)
        slot.outputByteCount = n
    }
    var w = MetadataRecordWriter(UnsafeMutableRawPointer(slot.outputBytes!))
    _ = slot.index.encodeMetadata(for: id, into: &w)
    return Int32(n)
}

/// The byte output buffer, holding what the last successful
/// `ev_get_metadata` wrote; NULL before the first one or for an unknown handle.
@_expose(wasm, "ev_output_bytes")
@_cdecl("ev_output_bytes")
public func ev_output_bytes(_ handle: Int32) -> UnsafeMutablePointer<UInt8>? {
    _slot(handle)?.outputBytes
}

/// Compiles `length` bytes of UTF-8 filter text; returns a filter handle
/// (> 0, valid until `ev_free_filter`) or an error: −14 with the column and
/// what was expected in `ev_last_error_message`, −5 a negative length, −20
/// NULL text, −7.
@_expose(wasm, "ev_compile_filter")
@_cdecl("ev_compile_filter")
public func ev_compile_filter(_ text: UnsafePointer<CChar>?, _ length: Int32) -> Int32 {
    do throws(EdgeVecError) {
        guard let bytes = try _bytes(text, length) else { return _fail(BridgeError.invalidHandle) }
        guard _hasHeadroom(for: 8 * bytes.count) else { throw .outOfMemory }
        let filter = try Filter(utf8: bytes.assumingMemoryBound(to: UInt8.self))
        return _register(filter: filter)
    } catch {
        return _fail(error)
    }
}

/// Frees a filter handle; it is refused from then on. Unknown and stale
/// handles (and index handles) are ignored.
@_expose(wasm, "ev_free_filter")
@_cdecl("ev_free_filter")
public func ev_free_filter(_ filter: Int32) {
    _ = _unregister(filter, filter: true)
}

/// `ev_search` restricted to the vectors whose metadata satisfies the
/// compiled filter `filter`: writes min(k, matching vectors) results, nearest
/// first, and returns how many; −20 also for a filter handle that is not live.
@_expose(wasm, "ev_search_filtered")
@_cdecl("ev_search_filtered")
public func ev_search_filtered(_ handle: Int32, _ query: UnsafePointer<Float>?, _ k: Int32, _ ef: Int32,
                               _ filter: Int32, _ outIds: UnsafeMutablePointer<UInt64>?,
                               _ outDistances: UnsafeMutablePointer<Float>?) -> Int32 {
    guard let slot = _slot(handle), let filter = _filter(filter), let query, let outIds, let outDistances else {
        return _fail(BridgeError.invalidHandle)
    }
    // The bitmap of matches and the evaluation buffers are Swift arrays.
    guard _hasHeadroom(for: (slot.index.count + slot.index.removedCount) / 2) else { return _fail(.outOfMemory) }
    do throws(EdgeVecError) {
        let n = try slot.index.search(UnsafeBufferPointer(start: query, count: slot.index.dimension), k: Int(k),
                                      ef: ef > 0 ? Int(ef) : slot.efSearch, filter: filter,
                                      ids: outIds, distances: outDistances)
        return Int32(n)
    } catch {
        return _fail(error)
    }
}
