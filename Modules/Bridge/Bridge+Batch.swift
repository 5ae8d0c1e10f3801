import EdgeVecAllocators
import EdgeVecFilter
import EdgeVecSearch

// C-ABI export for batch search (see Bridge.swift for the conventions and
// include/edgevec.h for the contract): many queries in one call, so a wasm
// host crosses the boundary once per batch. Every argument and every row is
// checked before any search runs, so an error writes nothing.

/// Searches `count` queries (rows of dimension floats) for their `k` nearest
/// vectors each, over all vectors or, with `filter` ≠ 0, those a compiled
/// filter matches: query i's hits go to `[i*k, i*k + outCounts[i])` of
/// `outIds`/`outDistances`. `threads` is for native hosts (0 = all cores);
/// the wasm module searches on its one thread. Returns `count` or an error
/// (nothing written).
@_expose(wasm, "ev_search_batch")
@_cdecl("ev_search_batch")
public func ev_search_batch(_ handle: Int32, _ queries: UnsafePointer<Float>?, _ count: Int32, _ k: Int32,
                            _ ef: Int32, _ filter: Int32, _ threads: Int32,
                            _ outIds: UnsafeMutablePointer<UInt64>?, _ outDistances: UnsafeMutablePointer<Float>?,
                            _ outCounts: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let slot = _slot(handle), let queries, let outIds, let outDistances, let outCounts else {
        return _fail(BridgeError.invalidHandle)
    }
    let compiled = _filter(filter)
    guard filter == 0 || compiled != nil else { return _fail(BridgeError.invalidHandle) }
    // The checks of ev_search, in its order, then the batch's own.
    guard k >= 1 else { return _failBatch(.invalidK(Int(k))) }
    let beam = ef > 0 ? Int(ef) : slot.efSearch
    guard beam <= 65536 else { return _failBatch(.invalidParameter(.ef, value: beam)) }
    guard count >= 0 else { return _failBatch(.invalidParameter(.count, value: Int(count))) }
    guard threads >= 0 && threads <= 1024 else { return _failBatch("threads", Int64(threads), "0 for all cores, or 1...1024") }
    // The contract indexes results with int32. Both factors are below 2³¹, so
    // the wrapping product is exact (a checked one costs wasm32 a __multi3 call).
    let results = Int64(count) &* Int64(k)
    guard results <= Int64(Int32.max) else { return _failBatch("count * k", results, "at most 2147483647") }
    if count == 0 { return 0 }
    let index = slot.index, dimension = index.dimension
    // More floats than the address space holds cannot have been staged (as ev_insert_batch).
    let (floats, overflow) = Int(count).multipliedReportingOverflow(by: dimension)
    guard !overflow else { return _failBatch(.outOfMemory) }
    do throws(EdgeVecError) {
        // The filter's bitmap and evaluation buffers are Swift arrays (see ev_search_filtered).
        if compiled != nil && !_hasHeadroom(for: (index.count + index.removedCount) / 2) { throw .outOfMemory }
        // Validates every row, then searches them on `threads` threads (nil: all cores).
        let n = try index.searchBatch(UnsafeBufferPointer(start: queries, count: floats), k: Int(k), ef: beam,
                                      filter: compiled, threads: threads == 0 ? nil : Int(threads),
                                      ids: outIds, distances: outDistances)
        for i in 0..<Int(count) { outCounts[i] = Int32(n) }
        return count
    } catch {
        return _failBatch(error, dimension: dimension)
    }
}

/// The batch's error messages, written by one copy of the code (each
/// `_fail` inlined at its return cost the wasm module about 150 bytes). A
/// bad row's error names the row: the core's messages for zero and
/// oversized vectors already do ("zero vector at row 3 …"); a non-finite
/// value's position becomes "query row 3: … at position 5" (within the row).
@inline(never)
func _failBatch(_ error: EdgeVecError, dimension: Int = 1) -> Int32 {
    guard case .nonFiniteValue(let position) = error, dimension > 1 else { return _fail(error) }
    let row = position / dimension
    return _fail(error.code) { m in
        m.text("query row ")
        m.number(row)
        m.text(": ")
        EdgeVecError.nonFiniteValue(position: position - row * dimension).write(to: &m)
    }
}

/// "invalid `name`: `value` (`range`)", as the core writes `invalidParameter`; −5.
@inline(never)
func _failBatch(_ name: StaticString, _ value: Int64, _ range: StaticString) -> Int32 {
    _fail(EdgeVecError.invalidParameter(.count, value: 0).code) { m in
        m.text("invalid ")
        m.text(name)
        m.text(": ")
        m.number(value)
        m.text(" (")
        m.text(range)
        m.text(")")
    }
}
