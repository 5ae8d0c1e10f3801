import EdgeVecAllocators
import EdgeVecFormat
import EdgeVecConcurrency
import EdgeVecGraph
import EdgeVecStorage

extension HNSWIndex: _Serializable {
    var _header: IndexFormat.Header {
        IndexFormat.Header(version: IndexFormat.version, kind: .hnsw, metric: metric, dimension: dimension,
                           count: slotCount, m: configuration.m,
                           efConstruction: configuration.efConstruction, efSearch: configuration.efSearch,
                           maxLevel: _maxLevel, seed: configuration.seed, rngState: rng.state,
                           entryPoint: _entryPoint < 0 ? IndexFormat.noEntry : UInt32(_entryPoint),
                           upperWords: graph.upperWords, removedCount: slots.removedSlotCount,
                           freeCount: slots.freeCount, metadataBytes: filtering.sectionByteCount)
    }

    /// Bytes `serialize(into:)` writes.
    public var serializedByteCount: Int { _serializedByteCount() }

    /// Bytes of the metadata section within `serializedByteCount` (the C ABI
    /// bounds the total in 64-bit arithmetic before asking for it).
    package var metadataSectionByteCount: Int { lock.withReadLock { filtering.sectionByteCount } }

    /// Writes the index in `IndexFormat` version 3 and returns the byte count.
    /// - Precondition: `buffer.count >= serializedByteCount`.
    /// - Complexity: O(size of the index).
    @discardableResult
    public func serialize(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        _serialize(into: buffer)
    }

    func _writeBody(_ w: inout _ByteWriter) {
        let count = slotCount
        for id in 0..<count { w.floats(vectors.pointer(at: id), dimension) }
        for id in 0..<count { w.u8(UInt8(graph.level(of: id))) }
        for _ in count ..< ((count + 3) & ~3) { w.u8(0) }
        if let p = parents.base { w.words(p, count) }
        let l0 = graph.layer0Words
        if let p = l0.baseAddress { w.words(p, l0.count) }
        let up = graph.upperLayerWords
        if let p = up.baseAddress { w.words(p, up.count) }
        slots._write(&w)
    }

    /// The index as bytes in `IndexFormat` version 3.
    public func serialized() -> [UInt8] {
        _serializedArray()
    }

    /// Loads an index from bytes written by `serialize`.
    /// - Parameter allocator: owned by the new index (released on failure too).
    /// - Throws: `corrupt(_)` for bad bytes (magic, version, checksum, size,
    ///   fields, vectors, graph; flat-index bytes give `.invalidHeader(.kind, …)`), `outOfMemory`.
    /// - Complexity: O(size of the index).
    public convenience init(serialized bytes: UnsafeRawBufferPointer,
                            allocator: RawAllocator = .makeDefault()) throws(EdgeVecError) {
        let header = try IndexFormat.Header._read(bytes, kind: .hnsw, releasingOnFailure: allocator)
        try self.init(dimension: header.dimension, metric: header.metric,
                      configuration: HNSWConfiguration(m: header.m, efConstruction: header.efConstruction,
                                                       efSearch: header.efSearch, seed: header.seed),
                      allocator: allocator)
        try _load(header, bytes.baseAddress! + IndexFormat.headerSize)
    }

    /// Loads an index from bytes; see the buffer variant.
    public convenience init(serialized bytes: [UInt8], allocator: RawAllocator = .makeDefault()) throws(EdgeVecError) {
        let header = try _withBytes(bytes) { (raw) throws(EdgeVecError) in
            try IndexFormat.Header._read(raw, kind: .hnsw, releasingOnFailure: allocator)
        }
        try self.init(dimension: header.dimension, metric: header.metric,
                      configuration: HNSWConfiguration(m: header.m, efConstruction: header.efConstruction,
                                                       efSearch: header.efSearch, seed: header.seed),
                      allocator: allocator)
        try _withBytes(bytes) { (raw) throws(EdgeVecError) in
            try _load(header, raw.baseAddress! + IndexFormat.headerSize)
        }
    }

    func _load(_ header: IndexFormat.Header, _ body: UnsafeRawPointer) throws(EdgeVecError) {
        let n = header.count
        guard vectors.reserveExactly(n, using: allocator),
              graph.reserveExactly(nodes: n, upperWords: header.upperWords, using: allocator),
              parents.reserveExactly(n, preserving: 0, using: allocator),
              children.reserveExactly(n, preserving: 0, using: allocator),
              slots.reserve(slots: n, exactly: true, using: allocator) else { throw .outOfMemory }
        var r = _ByteReader(body)
        try _Validation.readStoredVectors(&r, into: &vectors, count: n, metric: metric)
        // Levels first: they fix each node's block offsets.
        var words = 0
        for id in 0..<n {
            let level = Int(r.pointer.load(fromByteOffset: id, as: UInt8.self))
            if level > header.maxLevel { throw .corrupt(.invalidLevel(node: id)) }
            words += graph.upperWords(forLevel: level)
            if words > header.upperWords { throw .corrupt(.upperWordsMismatch) }
            graph.addNode(level: level)
        }
        if words != header.upperWords { throw .corrupt(.upperWordsMismatch) }
        for pad in n ..< ((n + 3) & ~3) where r.pointer.load(fromByteOffset: pad, as: UInt8.self) != 0 {
            throw .corrupt(.invalidLevel(node: pad))
        }
        r.skip((n + 3) & ~3)
        if let p = parents.base { r.words(into: p, n) }
        let l0 = graph.layer0Words
        if let p = l0.baseAddress { r.words(into: p, l0.count) }
        let up = graph.upperLayerWords
        if let p = up.baseAddress { r.words(into: p, up.count) }
        try slots._load(header, &r)
        try filtering.loadSection(header, &r, slots: slots)
        rng = _SplitMix64(seed: header.rngState)
        if n > 0 {
            _entryPoint = Int(header.entryPoint)
            _maxLevel = header.maxLevel
            if graph.level(of: _entryPoint) != _maxLevel { throw .corrupt(.entryPointNotOnTopLayer) }
            if let violation = graph.checkInvariants(entryPoint: _entryPoint, checkReachability: false) {
                throw .corrupt(.invalidGraph(violation))
            }
        }
        try _checkTree()
    }

    /// The layer-0 spanning tree read from bytes must be one: node 0 the
    /// root, every other parent earlier, each edge present in both lists,
    /// child counts within the limit that keeps pinned edges inside a list.
    func _checkTree() throws(EdgeVecError) {
        let hard = _hardChildLimit
        for id in 0..<slotCount {
            let parent = parents[id]
            if id == 0 {
                if parent != _noParent { throw .corrupt(.invalidTree(node: 0)) }
                continue
            }
            guard parent < UInt32(id) else { throw .corrupt(.invalidTree(node: id)) }
            children[Int(parent)] &+= 1
            if children[Int(parent)] > hard
                || !graph.neighbors(of: id, layer: 0).contains(parent)
                || !graph.neighbors(of: Int(parent), layer: 0).contains(UInt32(id)) {
                throw .corrupt(.invalidTree(node: id))
            }
        }
    }
}
