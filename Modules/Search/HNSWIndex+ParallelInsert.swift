import EdgeVecAllocators
import EdgeVecConcurrency
import EdgeVecFilter
import EdgeVecGraph
import EdgeVecStorage

// A batch inserted by several threads at once (hnswlib's parallel
// `add_items`). The batch's nodes are all appended first (vectors, ids,
// levels drawn in row order from the index's generator, metadata rows), so
// during the linking the storage is read-only and only neighbour lists,
// tree parents and tree-child counts change: each list under its node's
// spin lock (`NodeLocks`), held while one thread reads it in a search or
// rewrites it in a link; the entry point under one lock. Rows are handed
// out in order, one at a time, so the graph grows roughly as a serial
// build would; which node links first varies with the threads' timing, so
// the bytes do, but not the quality (docs/ARCHITECTURE.md, "Concurrency").

/// How the insert path reaches neighbour lists and tree-child counts:
/// directly (one writer, `_Exclusive`) or under per-node locks (`_Locked`).
/// A type parameter, so the serial path compiles to what it was.
protocol _GraphAccess {
    static var isConcurrent: Bool { get }
    func lock(_ node: UInt32)
    func unlock(_ node: UInt32)
    /// Whether `node` is linked into layer 0 (serially, every earlier node is).
    func isLinked(_ node: Int) -> Bool
}

extension _GraphAccess {
    @inline(__always)
    func withLock<R>(_ node: UInt32, _ body: () -> R) -> R {
        lock(node)
        defer { unlock(node) }
        return body()
    }
}

/// The one writer's access: no locks.
struct _Exclusive: _GraphAccess {
    static var isConcurrent: Bool { false }
    @inline(__always) func lock(_ node: UInt32) {}
    @inline(__always) func unlock(_ node: UInt32) {}
    @inline(__always) func isLinked(_ node: Int) -> Bool { true }
}

#if !hasFeature(Embedded)   // the wasm module has one thread: batches insert serially
/// A parallel build's access: a spin lock per node.
struct _Locked: _GraphAccess {
    let locks: NodeLocks
    /// The first node of the batch: the ones before were linked before it.
    let firstNew: Int
    let parents: UnsafeMutablePointer<UInt32>

    static var isConcurrent: Bool { true }
    @inline(__always) func lock(_ node: UInt32) { locks.lock(Int(node)) }
    @inline(__always) func unlock(_ node: UInt32) { locks.unlock(Int(node)) }

    /// A batch node is linked once it has its tree parent (set under its lock).
    func isLinked(_ node: Int) -> Bool {
        node < firstNew || withLock(UInt32(node)) { parents[node] != _noParent }
    }
}

extension HNSWIndex {
    /// Inserts validated rows into reserved space on `threads` threads; see
    /// the comment at the top of this file. Rows that reuse free slots, and
    /// the first node of an empty index, go in serially first.
    /// - Throws: `outOfMemory` (a thread's scratch), before anything changes.
    func _insertInParallel(_ base: UnsafePointer<Float>, rows: Int, ids: UnsafeBufferPointer<UInt64>?, first: UInt64,
                           threads: Int) throws(EdgeVecError) {
        // Each thread's scratch, sized for the grown index before any change.
        let total = slotCount + Swift.max(rows - slots.freeCount, 0)
        let (ef, degree, stride) = (configuration.efConstruction, graph.maxDegree0, vectors.stride)
        // The batch's levels, drawn ahead on a copy of the generator as `_reserveAll` does.
        var preview = rng
        var levels = _maxLevel
        for _ in 0..<rows { levels = Swift.max(levels, _drawLevel(&preview, m: configuration.m, cap: LayeredGraph.maxLevel)) }
        try withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<_SearchScratch>.self, capacity: threads) {
            (scratch) throws(EdgeVecError) in
            var taken = 0
            defer { for w in 0..<taken { searchScratch.give(scratch[w]) } }
            while taken < threads {
                guard let s = searchScratch.take({
                    $0.reserve(nodes: total, ef: ef, degree: degree, stride: stride, levels: levels, allocator: allocator)
                }) else { throw .outOfMemory }
                scratch[taken] = s
                taken += 1
            }
            var row = 0
            func id(_ row: Int) -> UInt64 { ids?[row] ?? first &+ UInt64(row) }
            while row < rows && (slots.freeCount > 0 || _entryPoint < 0) {
                _insertValidated(base + row * dimension, id: id(row))
                row += 1
            }
            if row == rows { return }
            let firstNew = slotCount
            var nodeLevels = [Int]()
            nodeLevels.reserveCapacity(rows - row)
            for r in row..<rows {
                let source = base + r * dimension
                let node = vectors.append(source, scale: _Validation.scale(source, dimension, metric))
                let level = _drawLevel(&rng, m: configuration.m, cap: LayeredGraph.maxLevel)
                graph.addNode(level: level)
                slots.append(id(r))
                parents[node] = _noParent
                children[node] = 0
                nodeLevels.append(level)
            }
            filtering.store.extend(to: slotCount)
            let access = _Locked(locks: NodeLocks(count: slotCount), firstNew: firstNew, parents: parents.base!)
            defer { access.locks.release() }
            let top = Lock()
            let queue = WorkQueue(count: nodeLevels.count, chunk: 1)
            let metric = metric
            runInParallel(threads: threads) { worker in
                let s = scratch[worker]
                while let next = queue.next() {
                    let node = firstNew + next.lowerBound
                    switch metric {
                    #if hasFeature(Embedded)
                    default:
                        _MetricKernel.metric = metric
                        _linkConcurrently(_MetricKernel.self, node, level: nodeLevels[next.lowerBound], top: top,
                                          access: access, in: &s.pointee)
                    #else
                    case .l2: _linkConcurrently(_L2Kernel.self, node, level: nodeLevels[next.lowerBound], top: top,
                                                access: access, in: &s.pointee)
                    case .cosine: _linkConcurrently(_CosineKernel.self, node, level: nodeLevels[next.lowerBound], top: top,
                                                    access: access, in: &s.pointee)
                    case .dot: _linkConcurrently(_DotKernel.self, node, level: nodeLevels[next.lowerBound], top: top,
                                                 access: access, in: &s.pointee)
                    #endif
                    }
                }
            }
        }
    }

    /// Links one node of a parallel batch. The entry point and top level are
    /// read under `top`; a node that will rise above the top level holds
    /// `top` through its whole link (as hnswlib does), so two such nodes
    /// never race to become the entry point, and threads that start
    /// meanwhile wait for the new one.
    func _linkConcurrently<K: _DistanceKernel>(_ kernel: K.Type, _ node: Int, level: Int, top: Lock, access: _Locked,
                                               in s: inout _SearchScratch) {
        let (entry, topLevel) = top.withLock { (_entryPoint, _maxLevel) }
        if level <= topLevel {
            _link(K.self, id: node, level: level, reused: false, from: entry, top: topLevel, access: access, in: &s)
            return
        }
        top.withLock {
            _link(K.self, id: node, level: level, reused: false, from: _entryPoint, top: _maxLevel, access: access,
                  in: &s)
            if level > _maxLevel {
                _maxLevel = level
                _entryPoint = node
            }
        }
    }
}
#endif
