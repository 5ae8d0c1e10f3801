import EdgeVecAllocators
import EdgeVecConcurrency
import EdgeVecFilter
import EdgeVecFormat
import EdgeVecGraph
import EdgeVecStorage

extension HNSWIndex {
    /// Adds one vector under `id`, or under the next free id when `id` is
    /// nil (one above every id the index has held, so 0, 1, 2, … for a
    /// caller who never gives one), and returns the id.
    ///
    /// - Precondition: none; bad input throws.
    /// - Throws: `dimensionMismatch`, `nonFiniteValue`, `zeroVector` (cosine),
    ///   `vectorTooLarge`, `duplicateId`, `invalidId` (above 2⁵³ − 1),
    ///   `capacityExceeded`, `outOfMemory`. The index is unchanged on any throw.
    /// - Complexity: O(efConstruction · M · log n) distance computations expected.
    @discardableResult
    public func add(_ vector: UnsafeBufferPointer<Float>, id: UInt64? = nil) throws(EdgeVecError) -> UInt64 {
        try lock.withWriteLock { () throws(EdgeVecError) -> UInt64 in try _add(vector, id: id) }
    }

    func _add(_ vector: UnsafeBufferPointer<Float>, id: UInt64?) throws(EdgeVecError) -> UInt64 {
        guard vector.count == dimension else {
            throw .dimensionMismatch(expected: dimension, actual: vector.count)
        }
        let key: UInt64
        if let id { key = id } else { key = try slots._assignedIDs(1) }
        try slots._checkNew(key)
        try _Validation.checkRows(vector, dimension: dimension, metric: metric)
        try _reserve(adding: 1)
        _insertValidated(vector.baseAddress!, id: key)
        return key
    }

    /// Adds one vector; see `add(_:id:)` taking a buffer.
    @discardableResult
    public func add(_ vector: [Float], id: UInt64? = nil) throws(EdgeVecError) -> UInt64 {
        try vector.withUnsafeBufferPointer { (buffer) throws(EdgeVecError) -> UInt64 in try add(buffer, id: id) }
    }

    /// Adds `vectors.count / dimension` vectors stored row after row, all or
    /// nothing. Row `i` gets `ids[i]`, or, without `ids`, consecutive ids from
    /// the next free one; returns the first row's id.
    ///
    /// - Parameter threads: threads that insert at once, 1...1024, or nil for
    ///   every core. With 1 (the default) the graph is a function of the
    ///   seed and the rows alone, bit for bit; with more it depends on how
    ///   the threads interleave (same quality, not the same bytes).
    /// - Throws: `dimensionMismatch` when the length is not a multiple of the
    ///   dimension (`actual` is the length given) or `ids` has another count
    ///   of rows (`actual`: the ids given), `nonFiniteValue` (position
    ///   across the whole batch), `zeroVector` (cosine, with the row),
    ///   `duplicateId` (an id present, or twice in `ids`), `invalidId`,
    ///   `capacityExceeded`, `outOfMemory`, `invalidParameter(.threads)`.
    ///   Nothing is added on any throw.
    /// - Complexity: as `add(_:id:)` per vector, plus O(b log b) to check b
    ///   ids; the inserts shared among the threads.
    @discardableResult
    public func addBatch(_ vectors: UnsafeBufferPointer<Float>, ids: UnsafeBufferPointer<UInt64>? = nil,
                         threads: Int? = 1) throws(EdgeVecError) -> UInt64 {
        try lock.withWriteLock { () throws(EdgeVecError) -> UInt64 in try _addBatch(vectors, ids: ids, threads: threads) }
    }

    func _addBatch(_ vectors: UnsafeBufferPointer<Float>, ids: UnsafeBufferPointer<UInt64>?,
                   threads: Int? = 1) throws(EdgeVecError) -> UInt64 {
        guard vectors.count % dimension == 0 else {
            throw .dimensionMismatch(expected: dimension, actual: vectors.count)
        }
        let rows = vectors.count / dimension
        let workers = try _Validation.threads(threads, work: rows)
        let first = try slots._firstID(rows: rows, ids: ids)
        if rows == 0 { return first }
        try _Validation.checkRows(vectors, dimension: dimension, metric: metric)
        try _reserve(adding: rows)
        let base = vectors.baseAddress!
        #if !hasFeature(Embedded)
        if workers > 1 {
            try _insertInParallel(base, rows: rows, ids: ids, first: first, threads: workers)
            return first
        }
        #endif
        for row in 0..<rows {
            _insertValidated(base + row * dimension, id: ids?[row] ?? first &+ UInt64(row))
        }
        return first
    }

    /// Adds a batch; see `addBatch(_:ids:threads:)` taking buffers.
    @discardableResult
    public func addBatch(_ vectors: [Float], ids: [UInt64]? = nil, threads: Int? = 1) throws(EdgeVecError) -> UInt64 {
        try vectors.withUnsafeBufferPointer { (buffer) throws(EdgeVecError) -> UInt64 in
            guard let ids else { return try addBatch(buffer, threads: threads) }
            return try ids.withUnsafeBufferPointer { (keys) throws(EdgeVecError) -> UInt64 in
                try addBatch(buffer, ids: keys, threads: threads)
            }
        }
    }

    /// Reserves memory for `capacity` vectors in all, so that adding up to
    /// that many allocates nothing (what hnswlib's `max_elements` and
    /// usearch's `reserve` do). Sizes are exact, not rounded up: the coming
    /// vectors' levels are drawn ahead on a copy of the generator, so the
    /// graph built afterwards is the same as without the reservation.
    /// Searches with `ef` up to `efConstruction`, one at a time, need no more
    /// memory either (the buffer-filling `search`; the array-returning one
    /// makes its array); each further search running at once sizes its own
    /// scratch the first time.
    /// Slots of removed vectors count as room. Adding beyond `capacity` grows
    /// geometrically again.
    ///
    /// - Precondition: none; bad input throws.
    /// - Throws: `invalidParameter(.capacity)` for a negative `capacity`,
    ///   `capacityExceeded` above 4294967294, `outOfMemory`. The index's
    ///   contents are unchanged on any throw (buffers grown before the
    ///   failure stay grown).
    /// - Complexity: O(`capacity − count`) to draw the levels, plus copying
    ///   what the buffers that grow already hold. O(1) when `capacity` ≤ `count`.
    public func reserveCapacity(_ capacity: Int) throws(EdgeVecError) {
        try _Validation.checkCapacity(capacity)
        try lock.withWriteLock { () throws(EdgeVecError) in
            let count = slots.liveCount
            if capacity <= count { return }
            try _reserveAll(adding: Swift.max(capacity - count - slots.freeCount, 0), exactly: true)
            // And one search scratch, so a search after the adds allocates nothing either.
            let (nodes, ef, degree, stride) = (_roomNodes, configuration.efConstruction, graph.maxDegree0, vectors.stride)
            guard searchScratch.prepare({
                $0.reserve(nodes: nodes, ef: ef, degree: degree, stride: stride, allocator: allocator)
            }) else { throw .outOfMemory }
        }
    }

    /// Reserves everything `rows` more inserts need, so that the inserts
    /// themselves cannot fail. Inserts take free slots first; for the rest,
    /// draws the coming levels on a copy of the generator to size the
    /// upper-layer slab exactly. When the new slots would not fit, pending
    /// removals are consolidated first if they are many enough to pay for the
    /// pass; otherwise the buffers grow by the removal batch (n/64 slots).
    /// `removing`: slots the caller will make pending before inserting (`update`).
    func _reserve(adding rows: Int, removing: Int = 0) throws(EdgeVecError) {
        var fresh = rows - Swift.min(rows, slots.freeCount)
        let pending = slots.pendingCount + removing
        if fresh > 0 && pending > 0 && slotCount + fresh > vectors.capacity {
            if slots.pendingCount > 0 && slots.pendingCount >= slotCount >> 8 {
                // Unlink the pending removals rather than grow: their slots make room.
                _consolidatePending()
                fresh = rows - Swift.min(rows, slots.freeCount)
            } else {
                // A pass over the whole graph to free a handful of slots made each insert
                // cost ten when single removals and inserts alternated at an exact
                // reservation (bench/churn/interleaved.py). Grow by one removal batch
                // instead: by the time it is used up, the batch is consolidated and its
                // slots are free, so the index settles ≤ n/64 slots above its live set.
                try _reserveAll(adding: fresh + (slotCount >> 6), exactly: true)
            }
        }
        if rows == 1 {          // the single insert's path: two compares when there is room
            if fresh == 0 {
                if slotCount <= _roomNodes { return }
            } else {
                var preview = rng
                let level = _drawLevel(&preview, m: configuration.m, cap: LayeredGraph.maxLevel)
                let words = graph.upperWords &+ graph.upperWords(forLevel: level)
                if slotCount < _roomNodes && words <= _roomUpperWords && level <= _roomLevels { return }
            }
        }
        try _reserveAll(adding: fresh)
    }

    /// Makes room for `rows` new slots (and sizes the scratch for all).
    /// `exactly`: buffers that must grow get exactly the room asked for
    /// (`reserveCapacity`) instead of doubling (inserts).
    @inline(never)
    func _reserveAll(adding rows: Int, exactly: Bool = false) throws(EdgeVecError) {
        let count = slotCount
        let (newCount, overflow) = count.addingReportingOverflow(rows)
        guard !overflow, newCount <= Limits.maxCount else { throw .capacityExceeded }
        // The vector slab first: an impossible reservation fails here, before
        // drawing a level for each of its rows.
        guard exactly ? vectors.reserveExactly(newCount, using: allocator) : vectors.reserve(newCount, using: allocator)
        else { throw .outOfMemory }
        var preview = rng
        var words = graph.upperWords
        var levels = _maxLevel
        for _ in 0..<rows {
            let level = _drawLevel(&preview, m: configuration.m, cap: LayeredGraph.maxLevel)
            let (sum, tooMany) = words.addingReportingOverflow(graph.upperWords(forLevel: level))
            guard !tooMany else { throw .outOfMemory }
            words = sum
            levels = Swift.max(levels, level)
        }
        let reserved = exactly
            ? graph.reserveExactly(nodes: newCount, upperWords: words, using: allocator)
                && parents.reserveExactly(newCount, preserving: count, using: allocator)
                && children.reserveExactly(newCount, preserving: count, using: allocator)
            : graph.reserve(nodes: newCount, upperWords: words, using: allocator)
                && parents.reserve(newCount, preserving: count, using: allocator)
                && children.reserve(newCount, preserving: count, using: allocator)
        guard reserved, slots.reserve(slots: newCount, exactly: exactly, using: allocator),
              scratch.reserve(nodes: newCount, ef: configuration.efConstruction, degree: graph.maxDegree0,
                              stride: vectors.stride, levels: levels, allocator: allocator)
        else { throw .outOfMemory }
        _roomNodes = Swift.min(vectors.capacity, graph.nodeCapacity, parents.capacity, children.capacity,
                               scratch.visited.capacity, slots.capacity, Limits.maxCount)
        _roomUpperWords = graph.upperCapacity
        _roomLevels = scratch.links.capacity / (graph.maxDegree0 + 1) - 2
    }

    /// Inserts a validated vector under a new, checked id into reserved
    /// space: into the most recently freed slot if there is one, else a new
    /// slot. Cannot fail.
    func _insertValidated(_ source: UnsafePointer<Float>, id: UInt64) {
        let scale = _Validation.scale(source, dimension, metric)
        if let slot = slots.takeFreeSlot(for: id) {
            vectors.replace(at: slot, source, scale: scale)
            _relink(slot)
            slots.restore(slot)
        } else {
            _appendNode(source, scale: scale, id: id)
        }
    }

    /// A new slot and graph node at a freshly drawn level.
    func _appendNode(_ source: UnsafePointer<Float>, scale: Double, id: UInt64) {
        let node = vectors.append(source, scale: scale)
        filtering.store.extend(to: node + 1)
        let level = _drawLevel(&rng, m: configuration.m, cap: LayeredGraph.maxLevel)
        graph.addNode(level: level)
        slots.append(id)
        parents[node] = _noParent
        children[node] = 0
        switch metric {
        #if hasFeature(Embedded)
        default:
            _MetricKernel.metric = metric
            _link(_MetricKernel.self, id: node, level: level, reused: false, in: &scratch)
        #else
        case .l2: _link(_L2Kernel.self, id: node, level: level, reused: false, in: &scratch)
        case .cosine: _link(_CosineKernel.self, id: node, level: level, reused: false, in: &scratch)
        case .dot: _link(_DotKernel.self, id: node, level: level, reused: false, in: &scratch)
        #endif
        }
    }

    /// Links node `node`, which already holds its new vector, again at its
    /// level; it keeps its place in the layer-0 tree.
    /// - Precondition: `node` is marked removed, so its own search skips it.
    func _relink(_ node: Int) {
        let level = graph.level(of: node)
        switch metric {
        #if hasFeature(Embedded)
        default:
            _MetricKernel.metric = metric
            _link(_MetricKernel.self, id: node, level: level, reused: true, in: &scratch)
        #else
        case .l2: _link(_L2Kernel.self, id: node, level: level, reused: true, in: &scratch)
        case .cosine: _link(_CosineKernel.self, id: node, level: level, reused: true, in: &scratch)
        case .dot: _link(_DotKernel.self, id: node, level: level, reused: true, in: &scratch)
        #endif
        }
    }

    /// Connects node `id` (already in storage and graph) to the graph.
    ///
    /// Besides the usual HNSW links, every node but the first gets a *parent*
    /// on layer 0, an earlier node it links to and that links back; pruning
    /// never removes these tree edges (see `_connect`). The tree spans all
    /// nodes in both directions, so every node stays reachable on layer 0
    /// from any other, the entry point included, whatever the metric, M or
    /// data (duplicates, hubs under dot). A parent takes at most 2 tree
    /// children while a nearer candidate has room (hard limit 2M − 1), so
    /// pinned edges never exceed a list's 2M slots.
    ///
    /// `reused`: the node is a slot taken again (or updated) and marked
    /// removed meanwhile. It keeps its level and the edges to its remaining
    /// tree children (consolidation moves the ones it can), and chooses its
    /// own parent again among its results, as a new node does: pinned edges
    /// cost list slots, and joining unrelated vectors they would buy only
    /// reachability. Other nodes may still list it, so links back are not doubled.
    @_optimize(speed)
    func _link<K: _DistanceKernel>(_ kernel: K.Type, id: Int, level: Int, reused: Bool, in s: inout _SearchScratch) {
        if _entryPoint < 0 {
            _entryPoint = id
            _maxLevel = level
            return
        }
        _link(K.self, id: id, level: level, reused: reused, from: _entryPoint, top: _maxLevel, access: _Exclusive(),
              in: &s)
        if level > _maxLevel {
            _maxLevel = level
            _entryPoint = id
        }
    }

    /// `_link` from `entry`, a node of level `top`, reaching the lists of
    /// other nodes through `access` (directly, or under their locks in a
    /// parallel build). The caller updates the entry point. Not inlined into
    /// the serial `_link`: that copy cost the wasm module a kilobyte.
    ///
    /// One writer (`_Exclusive`) makes each layer's links back right after
    /// setting the newcomer's list there, top layer first. A parallel build
    /// keeps each layer's choices in `links` (layer l's at `ranges[l]`) until
    /// every list of the newcomer is set, and only then makes the links back:
    /// so other threads never reach the node (through a link back) before its
    /// lists are set, and never see a list of it that it then overwrites. The
    /// two orders build the same graph: a layer's search reads only that
    /// layer's lists, and links back above layer 0 read no tree edges. The
    /// serial order needs no ranges, which keeps the wasm module (one thread,
    /// no parallel build) from carrying them.
    @inline(never) @_optimize(speed)
    func _link<K: _DistanceKernel, A: _GraphAccess>(_ kernel: K.Type, id: Int, level: Int, reused: Bool,
                                                    from entry: Int, top: Int, access: A, in s: inout _SearchScratch) {
        let q = UnsafePointer(vectors.pointer(at: id))
        var ep = _descend(K.self, q, to: level, from: entry, top: top, excluding: reused ? UInt32(id) : .max,
                          access: access)
        let layers = Swift.min(level, top) + 1
        if !A.isConcurrent {
            for layer in (0..<layers).reversed() {
                let chosen = _chooseLinks(K.self, q, id: id, layer: layer, reused: reused, at: 0, ep: &ep,
                                          access: access, in: &s)
                _linkBack(K.self, chosen, newcomer: id, layer: layer, reused: reused, access: access, in: &s)
            }
            return
        }
        withUnsafeTemporaryAllocation(of: (pinned: Int, end: Int).self, capacity: layers) { ranges in
            var used = 0
            for layer in (0..<layers).reversed() {
                ranges[layer] = _chooseLinks(K.self, q, id: id, layer: layer, reused: reused, at: used, ep: &ep,
                                             access: access, in: &s)
                used = ranges[layer].end
            }
            for layer in 0..<layers {
                _linkBack(K.self, ranges[layer], newcomer: id, layer: layer, reused: reused, access: access, in: &s)
            }
        }
    }

    /// One layer of `_link`: searches `layer` from `ep` (then the nearest
    /// found), chooses the newcomer's neighbours there into `s.links` from
    /// `start` on (tree edges of a reused node first, its tree parent on
    /// layer 0) and sets its list. Returns where in `s.links` the links back
    /// to make begin (after the pinned tree edges) and end.
    @inline(__always)
    func _chooseLinks<K: _DistanceKernel, A: _GraphAccess>(_ kernel: K.Type, _ q: UnsafePointer<Float>, id: Int,
                                                           layer: Int, reused: Bool, at start: Int,
                                                           ep: inout _Candidate, access: A,
                                                           in s: inout _SearchScratch) -> (pinned: Int, end: Int) {
        let stride = vectors.stride
        let links = s.links.base!
        _searchLayer(K.self, q, from: ep, ef: configuration.efConstruction, layer: layer, access: access, in: &s)
        let found = _beginAscending(in: &s)
        if found > 0 {
            s.ensureSorted(1)
            ep = s.sorted[0]
        }
        var used = start
        // A reused slot chooses its tree parent again, near its new vector (below).
        let reparent = reused && layer == 0 && parents[id] != _noParent
        if reused && layer == 0 {
            // Its tree children's edges stay, first; the heuristic fills what is left
            // (consolidation moved the children it could: see `_reparent`).
            for e in graph.neighbors(of: id, layer: 0) where _isTreeEdge(e, of: id) && e != parents[id] {
                links[used] = _Candidate(K.distance(q, vectors.pointer(at: Int(e)), stride), e)
                used += 1
            }
        }
        let pinned = used
        // A reused slot's parent comes after the picks: its slot is kept free.
        let room = graph.capacity(layer: layer) - (pinned - start) - (reparent ? 1 : 0)
        let picked = found == 0 ? 0
            : _selectHeuristic(K.self, base: q, count: found, limit: Swift.min(configuration.m, room),
                               owner: -1, in: &s)
        for i in 0..<picked where pinned == start || !_isTreeEdge(s.selected[i].id, of: id) {
            links[used] = s.selected[i]
            used += 1
        }
        var parent = _noParent
        if reparent {
            // The nearest earlier result with room, as for a new node (its edge to the
            // old parent joined the slot's old vector); without one the old parent stays.
            let old = parents[id]
            var link = _Candidate(K.distance(q, vectors.pointer(at: Int(old)), stride), old)
            if let chosen = _claimNearestParent(newcomer: id, access: access, in: &s) {
                children[Int(old)] &-= 1
                if chosen.id != old {
                    parent = chosen.id
                    link = chosen
                    _unlink(UInt32(id), from: Int(old), in: &s)
                }
            }
            // Listed here, unpinned; the link back is made below (or exists: the old parent).
            if !_contains(links + start, used - start, link.id) {
                links[used] = link
                used += 1
            }
        }
        if layer == 0 && !reused {
            let chosen = _claimParent(newcomer: id, access: access, in: &s)
            parent = chosen.id
            if !_contains(links + start, used - start, parent) {    // room: the newcomer keeps ≤ M of 2M slots
                links[used] = chosen
                used += 1
            }
        }
        let ids = s.ids.base!
        for i in start..<used { ids[i - start] = links[i].id }
        access.withLock(UInt32(id)) {
            graph.setNeighbors(of: id, layer: layer, UnsafeBufferPointer(start: ids, count: used - start))
            if parent != _noParent { parents[id] = parent }
        }
        return (pinned, used)
    }

    /// The links back to newcomer `id` on `layer` from the nodes at
    /// `range` of `s.links` (a reused node's: those that do not list it still).
    @inline(__always)
    func _linkBack<K: _DistanceKernel, A: _GraphAccess>(_ kernel: K.Type, _ range: (pinned: Int, end: Int),
                                                        newcomer id: Int, layer: Int, reused: Bool, access: A,
                                                        in s: inout _SearchScratch) {
        let links = s.links.base!
        let newcomer = UInt32(id)
        for i in range.pinned..<range.end {
            let node = Int(links[i].id)
            if reused && graph.neighbors(of: node, layer: layer).contains(newcomer) { continue }
            _connect(K.self, from: node, to: links[i], newcomer: newcomer, layer: layer, access: access, in: &s)
        }
    }

    /// The newcomer's tree parent, claimed (its tree-child count raised):
    /// the nearest layer-0 result (see `_beginAscending`) with fewer than 2
    /// tree children, else the nearest under the hard limit 2M − 1, else the
    /// previous node (which has none yet). The soft limit spreads the pinned
    /// edges, which hold slots the heuristic would give to other neighbours:
    /// with M − 1, a few hubs held up to 16 pinned slots (see
    /// docs/ARCHITECTURE.md for the recall it cost). Only nodes before the
    /// newcomer qualify (files list parents first; in a parallel build a
    /// later node may already be linked).
    func _claimParent<A: _GraphAccess>(newcomer: Int, access: A, in s: inout _SearchScratch) -> _Candidate {
        if let parent = _claimNearestParent(newcomer: newcomer, access: access, in: &s) { return parent }
        // Serially the previous node, just linked, has no tree child yet. In a
        // parallel build it may still be unlinked: the nearest earlier node
        // that is linked and has room.
        var previous = newcomer - 1
        while A.isConcurrent && !(access.isLinked(previous) && _claim(UInt32(previous), below: _hardChildLimit,
                                                                       newcomer: newcomer, access: access)) {
            previous -= 1
        }
        if !A.isConcurrent { children[previous] &+= 1 }
        let stride = vectors.stride
        let distance: Float
        switch metric {
        case .l2: distance = _L2Kernel.distance(vectors.pointer(at: newcomer), vectors.pointer(at: previous), stride)
        case .cosine: distance = _CosineKernel.distance(vectors.pointer(at: newcomer), vectors.pointer(at: previous), stride)
        case .dot: distance = _DotKernel.distance(vectors.pointer(at: newcomer), vectors.pointer(at: previous), stride)
        }
        return _Candidate(distance, UInt32(previous))
    }

    /// Claims the nearest layer result before `newcomer` with fewer than
    /// `_softChildLimit` tree children, else the nearest under
    /// `_hardChildLimit` (see `_claimParent`); nil when none has room.
    func _claimNearestParent<A: _GraphAccess>(newcomer: Int, access: A, in s: inout _SearchScratch) -> _Candidate? {
        _preferringFewChildren { _claimNearest(below: $0, newcomer: newcomer, access: access, in: &s) }
    }

    /// The tree's parent policy, for inserts and repairs alike: `pick` under
    /// the soft child limit, else under the hard one.
    @inline(__always)
    func _preferringFewChildren(_ pick: (UInt32) -> _Candidate?) -> _Candidate? {
        pick(_softChildLimit) ?? pick(_hardChildLimit)
    }

    /// Claims the nearest layer result before `newcomer` with fewer than
    /// `limit` tree children: the first such in the sorted prefix, else the
    /// smallest key among those still in the heap (all farther than the
    /// prefix). A scan, not pops: on duplicate-heavy data the parent often
    /// sits deep in the results. In a parallel build another thread may
    /// claim the last room first: then the next key is tried.
    func _claimNearest<A: _GraphAccess>(below limit: UInt32, newcomer: Int, access: A,
                                        in s: inout _SearchScratch) -> _Candidate? {
        let sorted = s.sorted.base!
        for i in 0..<s.sortedCount where _claim(sorted[i].id, below: limit, newcomer: newcomer, access: access) {
            return sorted[i]
        }
        let keys = s.candidates.storage.base!
        var floor: UInt64 = 0
        while true {
            var best = UInt64.max           // no key is: ids stop below UInt32.max
            for i in 0..<s.candidates.count {
                let key = keys[i]
                let c = UInt32(truncatingIfNeeded: key)
                if key >= floor && key < best && Int(c) < newcomer && access.withLock(c, { children[Int(c)] < limit }) {
                    best = key
                }
            }
            if best == .max { return nil }
            if _claim(UInt32(truncatingIfNeeded: best), below: limit, newcomer: newcomer, access: access) {
                return _Candidate(_key: best)
            }
            floor = best &+ 1
        }
    }

    /// Tree children a parent takes while a nearer candidate has room (see `_claimParent`).
    var _softChildLimit: UInt32 { UInt32(min(2, max(configuration.m - 1, 1))) }

    /// Tree children a node may have at most: its list's 2M slots less the edge to its own parent.
    var _hardChildLimit: UInt32 { UInt32(graph.maxDegree0 - 1) }

    /// Drops `neighbor` from `node`'s layer-0 list (a tree edge that no longer is one).
    func _unlink(_ neighbor: UInt32, from node: Int, in s: inout _SearchScratch) {
        let ids = s.ids.base!
        var n = 0
        for e in graph.neighbors(of: node, layer: 0) where e != neighbor {
            ids[n] = e
            n += 1
        }
        graph.setNeighbors(of: node, layer: 0, UnsafeBufferPointer(start: ids, count: n))
    }

    /// Raises `c`'s tree-child count if it is below `limit` and `c` comes
    /// before `newcomer`; whether it did.
    @inline(__always)
    func _claim<A: _GraphAccess>(_ c: UInt32, below limit: UInt32, newcomer: Int, access: A) -> Bool {
        guard Int(c) < newcomer else { return false }
        return access.withLock(c) {
            if children[Int(c)] >= limit { return false }
            children[Int(c)] &+= 1
            return true
        }
    }

    /// Adds the link `node → newcomer` on `layer` (`link.distance` is their
    /// distance), pruning `node`'s list with the selection heuristic when it
    /// overflows. Tree edges of `node` (to its parent and its tree children)
    /// are pinned on layer 0: kept first, whatever the heuristic says.
    @_optimize(speed)
    func _connect<K: _DistanceKernel, A: _GraphAccess>(_ kernel: K.Type, from node: Int, to link: _Candidate,
                                                       newcomer: UInt32, layer: Int, access: A,
                                                       in s: inout _SearchScratch) {
        access.lock(UInt32(node))
        defer { access.unlock(UInt32(node)) }
        if graph.appendNeighbor(newcomer, to: node, layer: layer) { return }
        let stride = vectors.stride
        let base = UnsafePointer(vectors.pointer(at: node))
        let list = graph.neighbors(of: node, layer: layer)
        let capacity = list.count
        // Candidates: the current list plus the newcomer, sorted by distance to `node`.
        let sorted = s.sorted.base!
        var n = 0
        for e in list {
            _insertSorted(_Candidate(K.distance(base, vectors.pointer(at: Int(e)), stride), e), into: sorted, count: &n)
        }
        _insertSorted(_Candidate(link.distance, newcomer), into: sorted, count: &n)
        s.sortedCount = n
        let kept = _selectHeuristic(K.self, base: base, count: n, limit: capacity, owner: layer == 0 ? node : -1, in: &s)
        let ids = s.ids.base!
        for i in 0..<kept { ids[i] = s.selected[i].id }
        graph.setNeighbors(of: node, layer: layer, UnsafeBufferPointer(start: ids, count: kept))
    }

    /// Whether the stored vector of `c` is a bit-for-bit copy of `base`. Where
    /// the metric has a floor (l2: 0), a copy's distance sits at it, so only
    /// such candidates are compared.
    @inline(__always)
    func _isCopy<K: _DistanceKernel>(_ kernel: K.Type, _ c: _Candidate, of base: UnsafePointer<Float>) -> Bool {
        (K.floor == -.infinity || c.distance <= K.floor)
            && _sameBits(base, vectors.pointer(at: Int(c.id)), vectors.stride)
    }

    /// Whether `candidate` is a tree edge of `owner` (its parent or a tree child).
    @inline(__always)
    func _isTreeEdge(_ candidate: UInt32, of owner: Int) -> Bool {
        parents[owner] == candidate || parents[Int(candidate)] == UInt32(truncatingIfNeeded: owner)
    }

    @inline(__always)
    func _insertSorted(_ c: _Candidate, into buffer: UnsafeMutablePointer<_Candidate>, count: inout Int) {
        var i = count
        while i > 0 && buffer[i - 1].distance > c.distance {
            buffer[i] = buffer[i - 1]
            i -= 1
        }
        buffer[i] = c
        count += 1
    }

    /// Algorithm 4 of the paper (no extension, no pruned fill): walks the
    /// `count` candidates of `s.sorted` (read through `ensureSorted`;
    /// all in place when `owner ≥ 0`) in ascending distance to `base` and
    /// keeps one only if it is strictly closer to the base than to every
    /// neighbour kept so far. With `owner ≥ 0`, the owner's tree edges among
    /// the candidates are kept first (and count as kept for the comparison).
    /// Writes the kept ones to `s.selected` and returns how many.
    ///
    /// Once a kept neighbour is a bit-for-bit copy of the base, every later
    /// candidate is rejected (its distance to the copy is the very float
    /// computed to the base: the kernels are symmetric), so the walk stops
    /// there without computing those distances. Same choice, fewer distances:
    /// with many duplicates (all-identical data) this was half of them.
    ///
    /// Always inlined into its two callers, as it was before the copy check
    /// grew it: as a call it cost 0.5% more instructions per insert.
    @inline(__always)
    func _selectHeuristic<K: _DistanceKernel>(_ kernel: K.Type, base: UnsafePointer<Float>,
                                              count: Int, limit: Int, owner: Int, in s: inout _SearchScratch) -> Int {
        let candidates = s.sorted.base!
        let selected = s.selected.base!
        let stride = vectors.stride
        var kept = 0
        var keptCopy = false
        if owner >= 0 {
            for i in 0..<count where _isTreeEdge(candidates[i].id, of: owner) {
                selected[kept] = candidates[i]
                kept += 1
                if !keptCopy { keptCopy = _isCopy(K.self, candidates[i], of: base) }
            }
        }
        if keptCopy { return kept }
        let pinned = kept
        for i in 0..<count {
            if kept >= limit { break }
            s.ensureSorted(i &+ 1)
            let c = candidates[i]
            if pinned > 0 && _isTreeEdge(c.id, of: owner) { continue }
            let cv = UnsafePointer(vectors.pointer(at: Int(c.id)))
            var good = true
            // `<=`: a candidate no closer to the base than to a kept neighbour
            // adds no direction. Only ties differ from the paper's `<`; they
            // matter for duplicates, where `<` keeps every copy, fills every
            // list and re-prunes it on each new link.
            for j in 0..<kept where K.distance(cv, vectors.pointer(at: Int(selected[j].id)), stride) <= c.distance {
                good = false
                break
            }
            if good {
                selected[kept] = c
                kept += 1
                if _isCopy(K.self, c, of: base) { break }
            }
        }
        return kept
    }
}

/// Whether two stored vectors are the same bits (`count` floats, a multiple
/// of 16). Two different vectors almost always differ in their first word.
@inline(__always)
func _sameBits(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Bool {
    let x = UnsafeRawPointer(a), y = UnsafeRawPointer(b)
    var offset = 0
    let bytes = count &* 4
    while offset < bytes {
        if x.load(fromByteOffset: offset, as: UInt64.self) != y.load(fromByteOffset: offset, as: UInt64.self) {
            return false
        }
        offset &+= 8
    }
    return true
}

/// Whether the first `count` of `ids` hold `id`.
@inline(__always)
func _contains(_ ids: UnsafeMutablePointer<UInt32>, _ count: Int, _ id: UInt32) -> Bool {
    for i in 0..<count where ids[i] == id { return true }
    return false
}

/// Whether the first `count` of `links` name `id`.
@inline(__always)
func _contains(_ links: UnsafeMutablePointer<_Candidate>, _ count: Int, _ id: UInt32) -> Bool {
    for i in 0..<count where links[i].id == id { return true }
    return false
}

/// Parent of the first node.
let _noParent = UInt32.max
