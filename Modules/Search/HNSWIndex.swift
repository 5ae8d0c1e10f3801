import EdgeVecAllocators
import EdgeVecGraph
import EdgeVecStorage

/// An HNSW approximate-nearest-neighbour index (Malkov & Yashunin, 2016)
/// over float32 vectors.
///
/// Vectors live in one contiguous slab, neighbour lists in fixed-size blocks,
/// and every search reuses the index's scratch, so inserts and searches do
/// not allocate once capacity is reached. Not thread-safe: one writer or
/// searcher at a time (searches reuse shared scratch).
public final class HNSWIndex {
    /// Floats per vector.
    public let dimension: Int
    public let metric: Metric
    public let configuration: HNSWConfiguration

    @usableFromInline let allocator: RawAllocator
    @usableFromInline var vectors: VectorStorage
    @usableFromInline var graph: LayeredGraph
    /// Layer-0 spanning tree: each node's parent (`_noParent` for node 0) and
    /// its number of tree children. Tree edges are never pruned.
    @usableFromInline var parents = _UnsafeGrowableBuffer<UInt32>()
    @usableFromInline var children = _UnsafeGrowableBuffer<UInt32>()
    @usableFromInline var scratch = _SearchScratch()
    @usableFromInline var rng: _SplitMix64
    /// What the last full reservation left room for (capacities only grow):
    /// nodes in every per-node buffer and the scratch, and upper-layer words.
    /// Lets a single insert skip re-checking each buffer.
    @usableFromInline var _roomNodes = 0
    @usableFromInline var _roomUpperWords = 0
    /// The node searches start from, or -1 when empty.
    public internal(set) var entryPoint: Int = -1
    /// The highest layer in the graph (0 when empty).
    public internal(set) var maxLevel: Int = 0

    /// Creates an empty index.
    ///
    /// - Parameters:
    ///   - dimension: floats per vector, 1...65536.
    ///   - metric: `.l2` (squared), `.cosine` (1 − cos) or `.dot` (−inner product).
    ///   - configuration: M, efConstruction, efSearch, seed.
    ///   - allocator: where memory comes from; the index owns it from now on
    ///     and releases it when the index dies. Defaults to the allocator the
    ///     build's trait selects.
    /// - Throws: `invalidParameter` for an out-of-range dimension or setting.
    public init(dimension: Int, metric: Metric, configuration: HNSWConfiguration = HNSWConfiguration(),
                allocator: RawAllocator = .makeDefault()) throws(EdgeVecError) {
        self.allocator = allocator
        self.dimension = max(dimension, 1)
        self.metric = metric
        self.configuration = configuration
        self.vectors = VectorStorage(dimension: max(dimension, 1))
        self.graph = LayeredGraph(maxDegree: Limits.mRange.clamped(configuration.m))
        self.rng = _SplitMix64(seed: configuration.seed)
        try _Validation.checkDimension(dimension)
        try configuration.validate()
    }

    deinit {
        vectors.release(using: allocator)
        graph.release(using: allocator)
        parents.release(using: allocator)
        children.release(using: allocator)
        scratch.release(using: allocator)
        allocator.release()
    }

    /// Vectors in the index.
    public var count: Int { vectors.count }

    /// Which allocator the index draws from.
    public var allocatorKind: RawAllocator.Kind { allocator.kind }

    /// Bytes of memory the index holds (vectors, graph, scratch).
    public var allocatedBytes: Int {
        vectors.allocatedBytes + graph.allocatedBytes + parents.allocatedBytes + children.allocatedBytes
            + scratch.visited.allocatedBytes + scratch.candidates.storage.allocatedBytes
            + scratch.results.storage.allocatedBytes + scratch.sorted.allocatedBytes
            + scratch.selected.allocatedBytes + scratch.ids.allocatedBytes + scratch.links.allocatedBytes
            + scratch.query.allocatedBytes
    }

    /// The level of node `id` (0-based, tests and tools).
    /// - Precondition: `0 <= id < count`.
    public func level(of id: Int) -> Int {
        precondition(id >= 0 && id < count, "id out of range")
        return graph.level(of: id)
    }

    /// The neighbours of `id` on `layer`.
    /// - Precondition: `0 <= id < count`, `0 <= layer <= level(of: id)`.
    /// - Complexity: O(M).
    public func neighbors(of id: Int, layer: Int) -> [Int] {
        precondition(id >= 0 && id < count && layer >= 0 && layer <= graph.level(of: id), "no such node or layer")
        return graph.neighbors(of: id, layer: layer).map { Int($0) }
    }

    /// Checks degree bounds, self-loops, duplicate neighbours, dangling ids and
    /// that every node is reachable on layer 0 from the entry point.
    /// - Returns: the first violation, or `nil` for a sound graph.
    /// - Complexity: O(n · M²).
    public func checkInvariants() -> GraphInvariantViolation? {
        if count > 0 && graph.level(of: entryPoint) != maxLevel { return .badEntryPoint }
        return graph.checkInvariants(entryPoint: entryPoint)
    }
}

extension ClosedRange where Bound == Int {
    @usableFromInline
    func clamped(_ value: Int) -> Int { Swift.min(Swift.max(value, lowerBound), upperBound) }
}
