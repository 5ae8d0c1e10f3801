import EdgeVecAllocators
import EdgeVecConcurrency
import EdgeVecFormat

// How both index kinds are framed in `IndexFormat`: EdgeVecFormat writes
// and checks the header; each kind writes its body, then its metadata.

/// What both index kinds provide to be written out: their header and body;
/// the framing (header, trailing checksum) and the locking are shared below.
protocol _Serializable: AnyObject {
    var _header: IndexFormat.Header { get }
    var filtering: _FilterState { get }
    var lock: ReadWriteLock { get }
    /// Writes the body that follows the header.
    func _writeBody(_ w: inout _ByteWriter)
}

extension IndexFormat.Header {
    /// `read(_:kind:releasingOnFailure:)`, its corruption thrown as `corrupt(_)`.
    static func _read(_ bytes: UnsafeRawBufferPointer, kind: IndexFormat.Kind,
                      releasingOnFailure allocator: RawAllocator) throws(EdgeVecError) -> Self {
        do throws(IndexFormat.Corruption) {
            return try read(bytes, kind: kind, releasingOnFailure: allocator)
        } catch {
            throw .corrupt(error)
        }
    }
}

extension _Serializable {
    /// Header, body, then the CRC-32C of both; returns the byte count.
    /// `header` is `_header`, computed once by the caller (it sizes the
    /// metadata section, a walk over every record).
    func _serializeFramed(into buffer: UnsafeMutableRawBufferPointer, header: IndexFormat.Header) -> Int {
        let total = header.totalBytes!
        precondition(buffer.count >= total, "buffer too small for the serialized index")
        let base = buffer.baseAddress!
        header.write(into: base)
        var w = _ByteWriter(base + IndexFormat.headerSize)
        _writeBody(&w)
        filtering.writeSection(&w)
        w.u32(_CRC32C.checksum(UnsafeRawBufferPointer(start: base, count: total - IndexFormat.trailerSize)))
        return total
    }

    /// `serializedByteCount`, under the read lock.
    func _serializedByteCount() -> Int { lock.withReadLock { _header.totalBytes! } }

    /// `serialize(into:)`, under the read lock.
    func _serialize(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        lock.withReadLock { _serializeFramed(into: buffer, header: _header) }
    }

    /// The serialized bytes as an array, under the read lock.
    func _serializedArray() -> [UInt8] {
        lock.withReadLock {
            let header = _header
            return [UInt8](unsafeUninitializedCapacity: header.totalBytes!) { buffer, initialized in
                initialized = _serializeFramed(into: UnsafeMutableRawBufferPointer(buffer), header: header)
            }
        }
    }
}
