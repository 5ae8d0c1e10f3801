import EdgeVecAllocators
import EdgeVecSearch

// C-ABI exports over EdgeVecSearch, the same on wasm32 and native hosts.
// Every function returns a value ≥ 0 on success or a negative error code
// (`EdgeVecError.code`, or the bridge's own codes below); `ev_error_message`
// maps a code to a sentence. Handles index a table of live indexes.
//
// Not thread-safe: hosts call from one thread (wasm modules are single-threaded).

/// Bridge-only error codes (the core's are −1 … −19).
enum BridgeError {
    static let invalidHandle: Int32 = -20
    static let invalidMetric: Int32 = -21
    static let bufferTooSmall: Int32 = -22
}

/// The state behind a handle: the index plus its staging buffer, which hosts
/// write vectors into directly (one copy, no marshalling layer).
final class _Slot {
    let index: HNSWIndex
    var staging = _UnsafeGrowableBuffer<Float>()

    init(_ index: HNSWIndex) { self.index = index }

    deinit { staging.release(using: .system) }
}

nonisolated(unsafe) var _slots: [_Slot?] = []

@inline(__always)
func _slot(_ handle: Int32) -> _Slot? {
    handle >= 0 && Int(handle) < _slots.count ? _slots[Int(handle)] : nil
}

func _register(_ index: HNSWIndex) -> Int32 {
    if let free = _slots.firstIndex(where: { $0 == nil }) {
        _slots[free] = _Slot(index)
        return Int32(free)
    }
    _slots.append(_Slot(index))
    return Int32(_slots.count - 1)
}

/// Creates an empty HNSW index. `metric`: 0 l2, 1 cosine, 2 dot.
/// Returns a handle ≥ 0 or a negative error code.
@_cdecl("ev_create")
public func ev_create(_ dimension: Int32, _ metric: Int32, _ m: Int32, _ efConstruction: Int32,
                      _ seed: UInt64) -> Int32 {
    guard metric >= 0, let metric = Metric(rawValue: UInt32(metric)) else { return BridgeError.invalidMetric }
    let configuration = HNSWConfiguration(m: Int(m), efConstruction: Int(efConstruction), seed: seed)
    do throws(EdgeVecError) {
        return _register(try HNSWIndex(dimension: Int(dimension), metric: metric, configuration: configuration))
    } catch {
        return error.code
    }
}

/// A staging buffer with room for `count` vectors, owned by the index and
/// reused across calls (grown only for a larger batch). NULL on error.
@_cdecl("ev_input")
public func ev_input(_ handle: Int32, _ count: Int32) -> UnsafeMutablePointer<Float>? {
    guard let slot = _slot(handle), count >= 1 else { return nil }
    let (floats, overflow) = Int(count).multipliedReportingOverflow(by: slot.index.dimension)
    guard !overflow, slot.staging.reserve(floats, preserving: 0, using: .system) else { return nil }
    return slot.staging.base
}

/// Inserts one vector of the index dimension; returns its id or an error.
@_cdecl("ev_insert")
public func ev_insert(_ handle: Int32, _ vector: UnsafePointer<Float>?) -> Int32 {
    guard let slot = _slot(handle), let vector else { return BridgeError.invalidHandle }
    do throws(EdgeVecError) {
        return Int32(try slot.index.add(UnsafeBufferPointer(start: vector, count: slot.index.dimension)))
    } catch {
        return error.code
    }
}

/// Inserts `count` vectors stored row after row, all or nothing; returns the first id.
@_cdecl("ev_insert_batch")
public func ev_insert_batch(_ handle: Int32, _ vectors: UnsafePointer<Float>?, _ count: Int32) -> Int32 {
    guard let slot = _slot(handle), let vectors, count >= 0 else { return BridgeError.invalidHandle }
    do throws(EdgeVecError) {
        let floats = Int(count) * slot.index.dimension
        return Int32(try slot.index.addBatch(UnsafeBufferPointer(start: vectors, count: floats)))
    } catch {
        return error.code
    }
}

/// Writes up to `k` ids and distances (ascending) and returns how many.
/// `ef` ≤ 0 means the index default.
@_cdecl("ev_search")
public func ev_search(_ handle: Int32, _ query: UnsafePointer<Float>?, _ k: Int32, _ ef: Int32,
                      _ outIds: UnsafeMutablePointer<Int32>?, _ outDistances: UnsafeMutablePointer<Float>?) -> Int32 {
    guard let slot = _slot(handle), let query, let outIds, let outDistances else { return BridgeError.invalidHandle }
    do throws(EdgeVecError) {
        let n = try slot.index.search(UnsafeBufferPointer(start: query, count: slot.index.dimension), k: Int(k),
                                      ef: ef > 0 ? Int(ef) : nil, ids: outIds, distances: outDistances)
        return Int32(n)
    } catch {
        return error.code
    }
}

/// Vectors in the index, or an error.
@_cdecl("ev_size")
public func ev_size(_ handle: Int32) -> Int32 {
    guard let slot = _slot(handle) else { return BridgeError.invalidHandle }
    return Int32(clamping: slot.index.count)
}

/// The index dimension, or an error.
@_cdecl("ev_dimension")
public func ev_dimension(_ handle: Int32) -> Int32 {
    guard let slot = _slot(handle) else { return BridgeError.invalidHandle }
    return Int32(slot.index.dimension)
}

/// Bytes `ev_save` needs, or an error.
@_cdecl("ev_save_size")
public func ev_save_size(_ handle: Int32) -> Int32 {
    guard let slot = _slot(handle) else { return BridgeError.invalidHandle }
    return Int32(clamping: slot.index.serializedByteCount)
}

/// Serializes into `out` (`capacity` bytes); returns the byte count or an error.
@_cdecl("ev_save")
public func ev_save(_ handle: Int32, _ out: UnsafeMutableRawPointer?, _ capacity: Int32) -> Int32 {
    guard let slot = _slot(handle), let out else { return BridgeError.invalidHandle }
    let size = slot.index.serializedByteCount
    guard size <= Int(capacity), size <= Int(Int32.max) else { return BridgeError.bufferTooSmall }
    return Int32(slot.index.serialize(into: UnsafeMutableRawBufferPointer(start: out, count: Int(capacity))))
}

/// Loads serialized bytes; returns a new handle or an error.
@_cdecl("ev_load")
public func ev_load(_ bytes: UnsafeRawPointer?, _ length: Int32) -> Int32 {
    guard length >= 0 else { return EdgeVecError.corrupt(.truncated).code }
    do throws(EdgeVecError) {
        return _register(try HNSWIndex(serialized: UnsafeRawBufferPointer(start: bytes, count: Int(length))))
    } catch {
        return error.code
    }
}

/// Releases an index; its handle may be reused. Unknown handles are ignored.
@_cdecl("ev_free")
public func ev_free(_ handle: Int32) {
    if _slot(handle) != nil { _slots[Int(handle)] = nil }
}

/// A static, NUL-terminated English message for an error code.
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
    case -20: message = "invalid handle or null pointer"
    case -21: message = "invalid metric (0 l2, 1 cosine, 2 dot)"
    case -22: message = "buffer too small"
    default: message = code >= 0 ? "ok" : "unknown error"
    }
    return UnsafeRawPointer(message.utf8Start).assumingMemoryBound(to: CChar.self)
}
