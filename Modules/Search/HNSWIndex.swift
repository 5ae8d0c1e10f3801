import EdgeVecAllocators
import EdgeVecConcurrency
import EdgeVecFilter
import EdgeVecFormat
import EdgeVecGraph
import EdgeVecStorage

/// An HNSW approximate-nearest-neighbour index (Malkov & Yashunin, 2016)
/// over float32 vectors.
///
/// Vectors live in one contiguous slab, neighbour lists in fixed-size blocks,
/// and inserts and searches reuse scratch buffers, so they do not allocate
/// once capacity is reached.
///
/// Thread safety: an index may be shared by any number of threads and tasks
/// (it is `Sendable`). Searches and other reads run at once, each search in
/// its own scratch from a pool; a change (add, remove, update, compact, …)
/// waits for the searches under way and runs alone (a reader–writer lock,
/// writers first). In the wasm module, which has one thread, there is no lock.
///
/// Vectors carry ids of the caller's choosing (0...2⁵³ − 1, or assigned
/// 0, 1, 2, …). Inside, each vector and its graph node sit in a *slot*; a
/// removed vector's node stays in the graph as a waypoint that searches walk
/// through but never return until its batch is unlinked, and a later insert
/// reuses the slot (see `HNSWIndex+Remove.swift`).
public final class HNSWIndex: @unchecked Sendable {
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
    /// The scratch of changes (inserts, removals), which hold the write lock.
    @usableFromInline var scratch = _SearchScratch()
    /// Scratch for searches, which may run at once.
    let searchScratch = _ScratchPool()
    /// Searches hold it to read, changes to write.
    let lock = ReadWriteLock()
    /// Slot ↔ id, removed slots, free slots.
    @usableFromInline var slots = SlotTable()
    @usableFromInline var rng: _SplitMix64
    /// Metadata per slot, and what filtered searches reuse.
    var filtering = _FilterState()
    /// What the last full reservation left room for (capacities only grow):
    /// nodes in every per-node buffer and the scratch, and upper-layer words.
    /// Lets a single insert skip re-checking each buffer.
    @usableFromInline var _roomNodes = 0
    @usableFromInline var _roomUpperWords = 0
    /// The highest level the scratch's `links` has room for (see `_SearchScratch.linkRoom`).
    var _roomLevels = -1
    /// Past this fraction of removed slots, `remove` compacts the index (see
    /// `compact()`). 0.25 by default: searches then walk through at most one
    /// removed node in four, and memory is at most 4/3 of the live set's.
    /// A value of 1 or more turns automatic compaction off.
    public var compactionThreshold: Double {
        get { lock.withReadLock { _compactionThreshold } }
        set { lock.withWriteLock { _compactionThreshold = newValue } }
    }
    var _compactionThreshold = 0.25
    /// The node searches start from, or -1 when empty.
    var _entryPoint = -1
    /// The highest layer in the graph (0 when empty).
    var _maxLevel = 0

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
        // Every property is set before the checks, so that a refused init still
        // releases `allocator` (in deinit); the dimension clamped to its range until
        // checked (the padded stride of one near 2³¹ overflows a 32-bit `Int`).
        self.allocator = allocator
        self.dimension = _Validation.clampedDimension(dimension)
        self.metric = metric
        self.configuration = configuration
        self.vectors = VectorStorage(dimension: self.dimension)
        self.graph = LayeredGraph(maxDegree: Limits.mRange.clamped(configuration.m))
        self.rng = _SplitMix64(seed: configuration.seed)
        try _Validation.checkDimension(dimension)
        try configuration.validate()
    }

    deinit {
        _releaseStorage()
        scratch.release(using: allocator)
        searchScratch.release(using: allocator)
        allocator.release()
    }

    /// Vectors in the index (live: removed ones are not counted).
    public var count: Int { lock.withReadLock { slots.liveCount } }

    /// Slots of removed vectors: waiting to be unlinked (`consolidate()`),
    /// then to be reused by inserts, or dropped by `compact()`.
    public var removedCount: Int { lock.withReadLock { slots.removedSlotCount } }

    /// The node searches start from, or -1 when empty.
    public var entryPoint: Int { lock.withReadLock { _entryPoint } }

    /// The highest layer in the graph (0 when empty).
    public var maxLevel: Int { lock.withReadLock { _maxLevel } }

    /// Slots in use: graph nodes, live or removed.
    @usableFromInline var slotCount: Int { vectors.count }

    /// Which allocator the index draws from.
    public var allocatorKind: RawAllocator.Kind { allocator.kind }

    /// Bytes of memory the index holds (vectors, graph, scratch, metadata).
    public var allocatedBytes: Int {
        lock.withReadLock { _allocatedBytes }
    }

    var _allocatedBytes: Int {
        vectors.allocatedBytes + graph.allocatedBytes + parents.allocatedBytes + children.allocatedBytes
            + scratch.allocatedBytes + searchScratch.allocatedBytes + slots.allocatedBytes + filtering.allocatedBytes
    }

    /// The level of graph node `node` (a slot: 0-based, in insertion order
    /// until a vector is removed; tests and tools).
    /// - Precondition: `0 <= node < slotCount`.
    public func level(of node: Int) -> Int {
        lock.withReadLock {
            precondition(node >= 0 && node < slotCount, "node out of range")
            return graph.level(of: node)
        }
    }

    /// The neighbours (nodes) of graph node `node` on `layer`.
    /// - Precondition: `0 <= node < slotCount`, `0 <= layer <= level(of: node)`.
    /// - Complexity: O(M).
    public func neighbors(of node: Int, layer: Int) -> [Int] {
        lock.withReadLock {
            precondition(node >= 0 && node < slotCount && layer >= 0 && layer <= graph.level(of: node),
                         "no such node or layer")
            return graph.neighbors(of: node, layer: layer).map { Int($0) }
        }
    }

    /// Checks degree bounds, self-loops, duplicate neighbours, dangling ids and
    /// that every node is reachable on layer 0 from the entry point.
    /// - Returns: the first violation, or `nil` for a sound graph.
    /// - Complexity: O(n · M²).
    public func checkInvariants() -> GraphInvariantViolation? {
        lock.withReadLock {
            if slotCount > 0 && graph.level(of: _entryPoint) != _maxLevel { return .badEntryPoint }
            return graph.checkInvariants(entryPoint: _entryPoint)
        }
    }
}

extension ClosedRange where Bound == Int {
    @usableFromInline
    func clamped(_ value: Int) -> Int { Swift.min(Swift.max(value, lowerBound), upperBound) }
}
