import EdgeVecAllocators
import EdgeVecFormat
import EdgeVecStorage

extension FlatIndex: _Serializable {
    var _header: IndexFormat.Header {
        IndexFormat.Header(version: IndexFormat.version, kind: .flat, metric: metric, dimension: dimension,
                           count: slotCount, m: 0, efConstruction: 0, efSearch: 0, maxLevel: 0, seed: 0, rngState: 0,
                           entryPoint: IndexFormat.noEntry, upperWords: 0, removedCount: slots.removedSlotCount,
                           freeCount: slots.freeCount, metadataBytes: filtering.sectionByteCount)
    }

    /// Bytes `serialize(into:)` writes.
    public var serializedByteCount: Int { _serializedByteCount() }

    /// Writes the index in `IndexFormat` version 3 (kind flat); returns the byte count.
    /// - Precondition: `buffer.count >= serializedByteCount`.
    @discardableResult
    public func serialize(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        _serialize(into: buffer)
    }

    func _writeBody(_ w: inout _ByteWriter) {
        for s in 0..<slotCount { w.floats(vectors.pointer(at: s), dimension) }
        slots._write(&w)
    }

    /// The index as bytes.
    public func serialized() -> [UInt8] {
        _serializedArray()
    }

    /// Loads a flat index from bytes written by `serialize`.
    /// - Throws: `corrupt(_)` (HNSW bytes give `.invalidHeader(.kind, …)`), `outOfMemory`.
    public convenience init(serialized bytes: UnsafeRawBufferPointer,
                            allocator: RawAllocator = .makeDefault()) throws(EdgeVecError) {
        let header = try IndexFormat.Header._read(bytes, kind: .flat, releasingOnFailure: allocator)
        try self.init(dimension: header.dimension, metric: header.metric, allocator: allocator)
        try _load(header, bytes.baseAddress! + IndexFormat.headerSize)
    }

    /// Loads a flat index from bytes; see the buffer variant.
    public convenience init(serialized bytes: [UInt8], allocator: RawAllocator = .makeDefault()) throws(EdgeVecError) {
        let header = try _withBytes(bytes) { (raw) throws(EdgeVecError) in
            try IndexFormat.Header._read(raw, kind: .flat, releasingOnFailure: allocator)
        }
        try self.init(dimension: header.dimension, metric: header.metric, allocator: allocator)
        try _withBytes(bytes) { (raw) throws(EdgeVecError) in
            try _load(header, raw.baseAddress! + IndexFormat.headerSize)
        }
    }

    func _load(_ header: IndexFormat.Header, _ body: UnsafeRawPointer) throws(EdgeVecError) {
        guard vectors.reserveExactly(header.count, using: allocator),
              slots.reserve(slots: header.count, exactly: true, using: allocator) else { throw .outOfMemory }
        var r = _ByteReader(body)
        try _Validation.readStoredVectors(&r, into: &vectors, count: header.count, metric: metric)
        try slots._load(header, &r)
        try filtering.loadSection(header, &r, slots: slots)
    }
}
