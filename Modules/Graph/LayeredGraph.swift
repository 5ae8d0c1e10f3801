import EdgeVecAllocators

/// HNSW neighbour lists in fixed-capacity blocks of `UInt32`, with no Swift
/// array per node.
///
/// - Layer 0: one contiguous slab; node `i` owns the block at
///   `i * (1 + maxDegree0)`, whose first word is the neighbour count.
/// - Upper layers: a second slab; a node of level `L > 0` owns `L` consecutive
///   blocks of `1 + maxDegree` words starting at `upperOffset[i]`, layer `l`
///   at `upperOffset[i] + (l - 1) * (1 + maxDegree)`.
///
/// Both slabs grow geometrically. Like `VectorStorage`, the owner releases the
/// memory with `release(using:)`.
public struct LayeredGraph {
    /// Capacity of an upper-layer list (M).
    public let maxDegree: Int
    /// Capacity of a layer-0 list (2·M).
    public let maxDegree0: Int
    /// Nodes in the graph.
    public private(set) var count: Int
    /// Words in use in the upper-layer slab.
    public private(set) var upperWords: Int

    @usableFromInline var _layer0: _UnsafeGrowableBuffer<UInt32>
    @usableFromInline var _upper: _UnsafeGrowableBuffer<UInt32>
    @usableFromInline var _levels: _UnsafeGrowableBuffer<UInt8>
    @usableFromInline var _upperOffsets: _UnsafeGrowableBuffer<UInt32>

    /// The highest level a node may have (levels are stored in a byte).
    public static var maxLevel: Int { 255 }

    /// - Precondition: `maxDegree >= 2`.
    public init(maxDegree: Int) {
        precondition(maxDegree >= 2, "maxDegree must be at least 2")
        self.maxDegree = maxDegree
        self.maxDegree0 = maxDegree * 2
        self.count = 0
        self.upperWords = 0
        _layer0 = _UnsafeGrowableBuffer()
        _upper = _UnsafeGrowableBuffer()
        _levels = _UnsafeGrowableBuffer()
        _upperOffsets = _UnsafeGrowableBuffer()
    }

    @inlinable var _block0: Int { 1 &+ maxDegree0 }
    @inlinable var _block: Int { 1 &+ maxDegree }

    /// Words of upper-layer blocks a node of `level` needs.
    @inlinable
    public func upperWords(forLevel level: Int) -> Int { level * (1 + maxDegree) }

    /// Nodes that fit without growing.
    @inlinable
    public var nodeCapacity: Int {
        Swift.min(_layer0.capacity / _block0, _levels.capacity, _upperOffsets.capacity)
    }

    /// Upper-layer words that fit without growing.
    @inlinable
    public var upperCapacity: Int { _upper.capacity }

    /// Makes room for `nodeCount` nodes and `upperWordCount` upper-layer words.
    /// - Returns: `false` when memory is exhausted; what was reserved before the
    ///   failure stays reserved, and the graph's contents are unchanged.
    public mutating func reserve(nodes nodeCount: Int, upperWords upperWordCount: Int,
                                 using allocator: RawAllocator) -> Bool {
        let (words0, overflow) = nodeCount.multipliedReportingOverflow(by: _block0)
        if overflow { return false }
        return _layer0.reserve(words0, preserving: count * _block0, using: allocator)
            && _levels.reserve(nodeCount, preserving: count, using: allocator)
            && _upperOffsets.reserve(nodeCount, preserving: count, using: allocator)
            && _upper.reserve(upperWordCount, preserving: upperWords, using: allocator)
    }

    /// Exact-size reservation, for loading.
    public mutating func reserveExactly(nodes nodeCount: Int, upperWords upperWordCount: Int,
                                        using allocator: RawAllocator) -> Bool {
        let (words0, overflow) = nodeCount.multipliedReportingOverflow(by: _block0)
        if overflow { return false }
        return _layer0.reserveExactly(words0, preserving: count * _block0, using: allocator)
            && _levels.reserveExactly(nodeCount, preserving: count, using: allocator)
            && _upperOffsets.reserveExactly(nodeCount, preserving: count, using: allocator)
            && _upper.reserveExactly(upperWordCount, preserving: upperWords, using: allocator)
    }

    /// Adds a node with empty lists on layers `0...level` and returns its id.
    /// - Precondition: room was reserved for it.
    @discardableResult
    public mutating func addNode(level: Int) -> Int {
        precondition(level >= 0 && level <= LayeredGraph.maxLevel)
        let id = count
        let words = upperWords(forLevel: level)
        precondition(id < _levels.capacity && upperWords + words <= _upper.capacity, "reserve before addNode")
        _levels[id] = UInt8(level)
        _upperOffsets[id] = UInt32(truncatingIfNeeded: upperWords)
        _layer0[id * _block0] = 0
        for l in 0..<level { _upper[upperWords + l * _block] = 0 }
        upperWords += words
        count += 1
        return id
    }

    /// The level of node `id`.
    @inlinable
    public func level(of id: Int) -> Int { Int(_levels[id]) }

    /// The block of node `id` on `layer`: word 0 is the count, then up to
    /// `capacity(layer)` neighbour ids.
    /// - Precondition: `layer <= level(of: id)`.
    @inlinable
    public func block(of id: Int, layer: Int) -> UnsafeMutablePointer<UInt32> {
        if layer == 0 {
            return _layer0.base.unsafelyUnwrapped + id &* _block0
        }
        return _upper.base.unsafelyUnwrapped + (Int(_upperOffsets[id]) &+ (layer &- 1) &* _block)
    }

    /// List capacity on `layer`.
    @inlinable
    public func capacity(layer: Int) -> Int { layer == 0 ? maxDegree0 : maxDegree }

    /// Neighbours of `id` on `layer`, valid until the graph changes.
    @inlinable
    public func neighbors(of id: Int, layer: Int) -> UnsafeMutableBufferPointer<UInt32> {
        let b = block(of: id, layer: layer)
        return UnsafeMutableBufferPointer(start: b + 1, count: Int(b[0]))
    }

    /// Replaces the list of `id` on `layer`.
    /// - Precondition: `ids.count <= capacity(layer:)`.
    @inlinable
    public func setNeighbors(of id: Int, layer: Int, _ ids: UnsafeBufferPointer<UInt32>) {
        precondition(ids.count <= capacity(layer: layer))
        let b = block(of: id, layer: layer)
        b[0] = UInt32(truncatingIfNeeded: ids.count)
        if let source = ids.baseAddress { _copyElements(ids.count, from: source, to: b + 1) }
    }

    /// Appends `neighbor` to the list of `id` on `layer` if there is room.
    /// - Returns: `false` when the list is full.
    @inlinable
    public func appendNeighbor(_ neighbor: UInt32, to id: Int, layer: Int) -> Bool {
        let b = block(of: id, layer: layer)
        let n = Int(b[0])
        if n >= capacity(layer: layer) { return false }
        b[1 &+ n] = neighbor
        b[0] = UInt32(truncatingIfNeeded: n &+ 1)
        return true
    }

    /// The layer-0 slab, `count * (1 + maxDegree0)` words (serialisation).
    public var layer0Words: UnsafeMutableBufferPointer<UInt32> {
        UnsafeMutableBufferPointer(start: _layer0.base, count: count * _block0)
    }

    /// The upper-layer slab, `upperWords` words in node order (serialisation).
    public var upperLayerWords: UnsafeMutableBufferPointer<UInt32> {
        UnsafeMutableBufferPointer(start: _upper.base, count: upperWords)
    }

    /// Bytes held by the graph's slabs.
    public var allocatedBytes: Int {
        _layer0.allocatedBytes + _upper.allocatedBytes + _levels.allocatedBytes + _upperOffsets.allocatedBytes
    }

    /// Returns the memory to `allocator`.
    public mutating func release(using allocator: RawAllocator) {
        _layer0.release(using: allocator)
        _upper.release(using: allocator)
        _levels.release(using: allocator)
        _upperOffsets.release(using: allocator)
        count = 0
        upperWords = 0
    }
}
