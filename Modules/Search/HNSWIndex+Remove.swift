import EdgeVecAllocators
import EdgeVecConcurrency
import EdgeVecFilter
import EdgeVecGraph
import EdgeVecStorage

// Removal, update and compaction.
//
// A removed vector's node stays in the graph as a waypoint: searches walk
// through it (so no path is cut) but never return it. Removed nodes are
// unlinked in batches, FreshDiskANN-style (delete consolidation): once
// 1/64 of the slots are pending, one pass over the graph repairs every list
// that names one: the node chooses again, with the selection heuristic,
// among its live neighbours and the removed neighbours' neighbours. A node
// whose tree parent is removed moves to a near live one if it can; other
// tree edges stay (they keep every node reachable; a removed node passes the
// walk on). The unlinked slots go on a free stack; inserts take them (hnswlib's
// `replace_deleted`, but automatic), overwrite the vector and link the node
// again from its new position, keeping its level and choosing its tree
// parent again. So remove-then-add does not grow memory beyond the pending
// 1/64, and `compact()` (automatic past `compactionThreshold`) rebuilds the
// live set into dense slots when removals outrun inserts.

extension HNSWIndex {
    /// Removes the vector with `id`. It is never returned by a search again,
    /// and its slot is reused by a later insert.
    ///
    /// - Returns: `false` when no vector has `id` (the index is unchanged).
    /// - Complexity: O(1), plus, amortised over the n/64 removals of a batch,
    ///   a pass over the graph and a selection for each list that named a
    ///   removed node; plus a rebuild of the live set when the removed
    ///   fraction passes `compactionThreshold`.
    @discardableResult
    public func remove(_ id: UInt64) -> Bool {
        lock.withWriteLock { _remove(id) }
    }

    func _remove(_ id: UInt64) -> Bool {
        guard slots.slot(for: id) != nil else { return false }
        if slots.liveCount == 1 {
            _removeAll()
            return true
        }
        _detach(id)
        _compactIfNeeded()
        return true
    }

    /// Replaces the vector of `id`, which keeps its id; the old vector is
    /// never found again (it is removed, and the new one inserted).
    ///
    /// - Throws: `unknownId` when no vector has `id`, `dimensionMismatch`,
    ///   `nonFiniteValue`, `zeroVector` (cosine), `vectorTooLarge`,
    ///   `outOfMemory`. The index is unchanged on any throw.
    /// - Complexity: a removal plus an insert.
    public func update(_ id: UInt64, _ vector: UnsafeBufferPointer<Float>) throws(EdgeVecError) {
        try lock.withWriteLock { () throws(EdgeVecError) in try _update(id, vector) }
    }

    func _update(_ id: UInt64, _ vector: UnsafeBufferPointer<Float>) throws(EdgeVecError) {
        guard vector.count == dimension else { throw .dimensionMismatch(expected: dimension, actual: vector.count) }
        guard slots.slot(for: id) != nil else { throw .unknownId(id) }
        try _Validation.checkRows(vector, dimension: dimension, metric: metric)
        try _reserve(adding: 1, removing: 1)
        // The metadata moves with the id, as bytes (no `String`s in the wasm module).
        let form = filtering.store.isEmpty ? nil : filtering.store.encoded(slot: slots.slot(for: id)!)
        _detach(id)
        _insertValidated(vector.baseAddress!, id: id)
        if let form { form.withUnsafeBytes { filtering.store.set(encoded: $0, at: slots.slot(for: id)!) } }
        _compactIfNeeded()
    }

    /// Replaces the vector of `id`; see the buffer variant.
    public func update(_ id: UInt64, _ vector: [Float]) throws(EdgeVecError) {
        try vector.withUnsafeBufferPointer { (buffer) throws(EdgeVecError) in try update(id, buffer) }
    }

    /// Unlinks every removed node that lists may still name and makes its
    /// slot free for reuse; `remove` does this by itself every n/64 removals.
    /// - Complexity: O(n · M) to scan the lists, plus a selection among
    ///   ≤ 2M + 2M·(removed neighbours) candidates for each list that named one.
    public func consolidate() {
        lock.withWriteLock { _consolidatePending() }
    }

    func _consolidatePending() {
        if slots.pendingCount == 0 { return }
        // The repair needs the scratch (not yet sized after a load). Without
        // memory for it the slots stay pending: waypoints, every search still correct.
        guard (try? _reserve(adding: 0)) != nil else { return }
        switch metric {
        #if hasFeature(Embedded)
        default:
            _MetricKernel.metric = metric
            _consolidate(_MetricKernel.self, in: &scratch)
        #else
        case .l2: _consolidate(_L2Kernel.self, in: &scratch)
        case .cosine: _consolidate(_CosineKernel.self, in: &scratch)
        case .dot: _consolidate(_DotKernel.self, in: &scratch)
        #endif
        }
        slots.freePending()
    }

    /// Forgets `id`; its node becomes a pending waypoint, unlinked with the
    /// rest of its batch.
    func _detach(_ id: UInt64) {
        if let slot = slots.remove(id), slot < filtering.store.slotCount { filtering.store.clear(slot) }
        if slots.pendingCount >= Swift.max(1, slotCount >> 6) { _consolidatePending() }
    }

    func _compactIfNeeded() {
        if Double(slots.removedSlotCount) > _compactionThreshold * Double(slotCount) {
            try? _compact()     // out of memory: stay as is, still correct
        }
    }

    /// One pass over every live node's lists: a list naming a removed node
    /// (not by a tree edge) is chosen again among its live members and the
    /// live neighbours of its removed members, by the selection heuristic
    /// (tree edges pinned), then filled with the nearest of the rest to the
    /// length it had.
    func _consolidate<K: _DistanceKernel>(_ kernel: K.Type, in s: inout _SearchScratch) {
        let stride = vectors.stride
        let sorted = s.sorted.base!
        let room = s.sorted.capacity
        // The relaxation of the fill below, on the kernel's distance (l2: squared). Dot
        // products are no distance (they go negative), so there the plain heuristic's.
        let alpha: Float = metric == .dot ? 1 : 1.2
        for p in 0..<slotCount where !slots.isRemoved(p) {
            _reparent(K.self, p, in: &s)
            for layer in 0...graph.level(of: p) {
                let own = graph.neighbors(of: p, layer: layer)
                var stale = false
                for e in own where slots.isRemoved(Int(e)) && !(layer == 0 && _isTreeEdge(e, of: p)) { stale = true }
                if !stale { continue }
                let base = UnsafePointer(vectors.pointer(at: p))
                var count = 0
                func consider(_ e: UInt32) {
                    if Int(e) == p || count >= room { return }
                    if slots.isRemoved(Int(e)) && !(layer == 0 && _isTreeEdge(e, of: p)) { return }
                    for j in 0..<count where sorted[j].id == e { return }
                    _insertSorted(_Candidate(K.distance(base, vectors.pointer(at: Int(e)), stride), e),
                                  into: sorted, count: &count)
                }
                for e in own { consider(e) }
                for e in own where slots.isRemoved(Int(e)) {
                    for f in graph.neighbors(of: Int(e), layer: layer) { consider(f) }
                }
                s.sortedCount = count
                let before = own.count
                var kept = _selectHeuristic(K.self, base: base, count: count, limit: graph.capacity(layer: layer),
                                            owner: layer == 0 ? p : -1, in: &s)
                let ids = s.ids.base!
                for j in 0..<kept { ids[j] = s.selected[j].id }
                // Keep the list as long as it was (hnswlib's keepPrunedConnections): with only
                // the heuristic's choice lists shrank at every repair, and on MiniLM, 10 rounds
                // of 10% churn cost 0.025 of recall@10 at ef 16 against a fresh build. First
                // with the leftovers that pass the heuristic relaxed by α (DiskANN's RobustPrune:
                // not much nearer to a kept neighbour than to `p`, so they still add a
                // direction), only then with the nearest of the rest. There (bench/churn/run.py,
                // churn seed 7), against the fresh build's 0.9512 at ef 16: nearest fill 0.9400,
                // with re-parenting (`_reparent`) 0.9419; α 1.2 first 0.9444, with re-parenting
                // 0.9504 (churn seed 8: 0.9415 → 0.9482); α 1.4 0.9399; filled to 2M 0.9302.
                if alpha > 1 {
                    for i in 0..<count where kept < before {
                        let c = sorted[i]
                        if _contains(ids, kept, c.id) { continue }
                        let cv = UnsafePointer(vectors.pointer(at: Int(c.id)))
                        var good = true
                        for t in 0..<kept where alpha * K.distance(cv, vectors.pointer(at: Int(ids[t])), stride) <= c.distance {
                            good = false
                            break
                        }
                        if good {
                            ids[kept] = c.id
                            kept += 1
                        }
                    }
                }
                var j = 0
                while kept < before && j < count {
                    let c = sorted[j].id
                    if !_contains(ids, kept, c) {
                        ids[kept] = c
                        kept += 1
                    }
                    j += 1
                }
                graph.setNeighbors(of: p, layer: layer, UnsafeBufferPointer(start: ids, count: kept))
            }
        }
    }

    /// Moves live node `p`, whose tree parent is removed, to the nearest
    /// earlier live node of its layer-0 list that may take a tree child
    /// (fewer than 2, else under the hard limit, as an insert's parent);
    /// without one the removed parent stays (a waypoint, still reachable).
    ///
    /// A tree edge is pinned in both lists, and a reused slot keeps its place
    /// in the tree: without this, after 10 rounds of 10 % churn on MiniLM most
    /// tree edges joined unrelated vectors (median distance 0.82 against 0.31
    /// in a fresh build), two pinned slots per list spent on them.
    func _reparent<K: _DistanceKernel>(_ kernel: K.Type, _ p: Int, in s: inout _SearchScratch) {
        let old = parents[p]
        guard old != _noParent, slots.isRemoved(Int(old)) else { return }
        let base = UnsafePointer(vectors.pointer(at: p))
        let stride = vectors.stride
        func nearest(below limit: UInt32) -> _Candidate? {
            var best = _Candidate(.infinity, _noParent)
            for e in graph.neighbors(of: p, layer: 0)
            where Int(e) < p && !slots.isRemoved(Int(e)) && children[Int(e)] < limit {
                let d = K.distance(base, vectors.pointer(at: Int(e)), stride)
                if d < best.distance { best = _Candidate(d, e) }
            }
            return best.id == _noParent ? nil : best
        }
        guard let parent = _preferringFewChildren(nearest) else { return }
        children[Int(old)] &-= 1
        children[Int(parent.id)] &+= 1
        parents[p] = parent.id
        // `p` lists the parent already; the parent takes `p` back, pinned (pruned if full).
        if !graph.neighbors(of: Int(parent.id), layer: 0).contains(UInt32(p)) {
            _connect(K.self, from: Int(parent.id), to: _Candidate(parent.distance, UInt32(p)), newcomer: UInt32(p),
                     layer: 0, access: _Exclusive(), in: &s)
        }
    }

    /// Rebuilds the index from its live vectors into dense slots, giving the
    /// memory of removed ones back. Ids do not change. Costs what building
    /// the live set from scratch costs, and needs that much memory besides
    /// the current index while it runs.
    ///
    /// - Throws: `outOfMemory` (the index is unchanged).
    /// - Complexity: an insert per live vector.
    public func compact() throws(EdgeVecError) {
        try lock.withWriteLock { () throws(EdgeVecError) in try _compact() }
    }

    func _compact() throws(EdgeVecError) {
        if slots.removedSlotCount == 0 { return }
        var oldVectors = VectorStorage(dimension: dimension)
        var oldGraph = LayeredGraph(maxDegree: graph.maxDegree)
        var oldParents = _UnsafeGrowableBuffer<UInt32>()
        var oldChildren = _UnsafeGrowableBuffer<UInt32>()
        var oldSlots = SlotTable()
        swap(&oldVectors, &vectors)
        swap(&oldGraph, &graph)
        swap(&oldParents, &parents)
        swap(&oldChildren, &children)
        swap(&oldSlots, &slots)
        let oldMetadata = filtering.store
        filtering.store = MetadataStore()
        let (oldEntry, oldMaxLevel, oldRng) = (_entryPoint, _maxLevel, rng)
        _entryPoint = -1
        _maxLevel = 0
        _roomNodes = 0
        _roomUpperWords = 0
        slots.nextID = oldSlots.nextID
        do throws(EdgeVecError) {
            try _reserveAll(adding: oldSlots.liveCount, exactly: true)
        } catch {
            _releaseStorage()
            swap(&oldVectors, &vectors)
            swap(&oldGraph, &graph)
            swap(&oldParents, &parents)
            swap(&oldChildren, &children)
            swap(&oldSlots, &slots)
            filtering.store = oldMetadata
            (_entryPoint, _maxLevel, rng) = (oldEntry, oldMaxLevel, oldRng)
            _roomNodes = 0
            throw error
        }
        // Stored vectors are final (cosine: already unit length): scale 1.
        var live: [Int] = []
        for s in 0..<oldVectors.count where !oldSlots.isRemoved(s) {
            _appendNode(oldVectors.pointer(at: s), scale: 1, id: oldSlots.id(at: s))
            if !oldMetadata.isEmpty { live.append(s) }
        }
        if !oldMetadata.isEmpty { filtering.store = oldMetadata.compacted(keeping: live) }
        oldVectors.release(using: allocator)
        oldGraph.release(using: allocator)
        oldParents.release(using: allocator)
        oldChildren.release(using: allocator)
        oldSlots.release(using: allocator)
    }

    /// The last vector went: give every slot's memory back (the next id stays).
    func _removeAll() {
        let next = slots.nextID
        _releaseStorage()
        filtering.store = MetadataStore()
        slots.nextID = next
        _entryPoint = -1
        _maxLevel = 0
        _roomNodes = 0
        _roomUpperWords = 0
    }

    /// Releases the per-slot buffers (not the scratch).
    func _releaseStorage() {
        vectors.release(using: allocator)
        graph.release(using: allocator)
        parents.release(using: allocator)
        children.release(using: allocator)
        slots.release(using: allocator)
    }

    // MARK: Reading back

    /// Whether a vector has `id`.
    /// - Complexity: O(1) expected.
    public func contains(_ id: UInt64) -> Bool { lock.withReadLock { slots.slot(for: id) != nil } }

    /// A copy of the vector stored under `id`, or nil. Cosine indexes store
    /// vectors normalised to unit length, and return them so.
    /// - Complexity: O(dimension).
    public func vector(for id: UInt64) -> [Float]? {
        lock.withReadLock {
            guard let s = slots.slot(for: id) else { return nil }
            return Array(UnsafeBufferPointer(start: vectors.pointer(at: s), count: dimension))
        }
    }

    /// Copies the stored vector of `id` (see `vector(for:)`) to `destination`,
    /// which has room for `dimension` floats; false (nothing written) when
    /// no vector has `id`.
    public func copyVector(for id: UInt64, into destination: UnsafeMutablePointer<Float>) -> Bool {
        lock.withReadLock {
            guard let s = slots.slot(for: id) else { return false }
            _copyElements(dimension, from: vectors.pointer(at: s), to: destination)
            return true
        }
    }

    /// The id the next `add` without one assigns: one above every id the index has held.
    public var nextID: UInt64 { lock.withReadLock { slots.nextID } }

    /// The ids of the live vectors, in slot order (insertion order until
    /// slots are reused): a copy, which later changes do not affect.
    /// - Complexity: O(n).
    public var ids: LiveIDs { lock.withReadLock { LiveIDs(slots) } }

    /// Writes the live ids, in slot order, to `out` (room for `capacity`)
    /// and returns how many, or nil (nothing written) when they are more.
    package func copyIDs(into out: UnsafeMutablePointer<UInt64>, capacity: Int) -> Int? {
        lock.withReadLock { slots.copyLiveIDs(into: out, capacity: capacity) }
    }
}
