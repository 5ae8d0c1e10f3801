import _EdgeVecSearchKernels
import EdgeVecConcurrency
import EdgeVecFilter
import EdgeVecAllocators
import EdgeVecGraph
import EdgeVecStorage
import EdgeVecFormat

extension HNSWIndex: _SearchableIndex {
    /// The `k` nearest stored vectors to `query`, nearest first.
    ///
    /// Any number of threads may search at once (each in its own pooled
    /// scratch); a search waits while a change to the index runs.
    ///
    /// - Parameters:
    ///   - k: results wanted, ≥ 1; fewer come back when the index holds fewer.
    ///   - ef: beam width, 1...65536; defaults to `configuration.efSearch` and
    ///     is raised to `k` when smaller.
    /// - Returns: up to `k` results sorted by ascending distance; empty for an
    ///   empty index.
    /// - Throws: `dimensionMismatch`, `nonFiniteValue`, `zeroVector` (cosine),
    ///   `invalidK`, `invalidParameter(.ef)`, `outOfMemory`.
    /// - Complexity: O(ef · M · log n) distance computations expected.
    public func search(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil) throws(EdgeVecError) -> [SearchResult] {
        try _searching(query, k: k, ef: ef, filter: nil) { s, n in s.sortedResults(n, slots: slots) }
    }

    /// Searches; see the buffer variant.
    public func search(_ query: [Float], k: Int, ef: Int? = nil) throws(EdgeVecError) -> [SearchResult] {
        try query.withUnsafeBufferPointer { (buffer) throws(EdgeVecError) -> [SearchResult] in
            try search(buffer, k: k, ef: ef)
        }
    }

    /// Searches without allocating: writes up to `k` ids and distances to the
    /// given buffers (each with room for `k`) and returns how many.
    public func search(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil,
                       ids: UnsafeMutablePointer<UInt64>, distances: UnsafeMutablePointer<Float>) throws(EdgeVecError) -> Int {
        try _searching(query, k: k, ef: ef, filter: nil) { s, n in
            s.copySortedResults(n, slots: slots, ids: ids, distances: distances)
        }
    }

    /// Validates `k` and `ef` (default `efSearch`); returns the beam width.
    func _checkSearch(k: Int, ef: Int?) throws(EdgeVecError) -> Int {
        try _Validation.checkK(k)
        let ef = ef ?? configuration.efSearch
        try _Validation.checkEf(ef, .ef)
        return max(ef, min(k, Limits.maxEf))
    }

    /// Sizes `s` for a search with a beam of `beam` over every slot.
    func _reserve(_ s: inout _SearchScratch, beam: Int) -> Bool {
        s.reserve(nodes: slotCount, ef: beam, degree: graph.maxDegree0, stride: vectors.stride, allocator: allocator)
    }

    /// Searches a validated query with a beam of `beam`, through `filter`
    /// if any, in `s`; leaves the results in `s.sorted` and returns how many.
    func _search(_ query: UnsafeBufferPointer<Float>, k: Int, beam: Int, filter: Filter?,
                 in s: inout _SearchScratch) -> Int {
        let live = slots.liveCount
        if live == 0 { return 0 }
        _Validation.prepareQuery(query, into: s.query.base!, metric: metric)
        if let filter { return _searchFiltered(k: k, ef: beam, filter: filter, in: &s) }
        let q = UnsafePointer(s.query.base!)
        switch metric {
        #if hasFeature(Embedded)
        default:
            _MetricKernel.metric = metric
            _searchGraph(_MetricKernel.self, q, ef: beam, in: &s)
        #else
        case .l2: _searchGraph(_L2Kernel.self, q, ef: beam, in: &s)
        case .cosine: _searchGraph(_CosineKernel.self, q, ef: beam, in: &s)
        case .dot: _searchGraph(_DotKernel.self, q, ef: beam, in: &s)
        #endif
        }
        while s.results.count > k { s.results.pop() }
        if s.results.count < min(k, live) {
            // Removed nodes hid live ones from the beam (see `_trimCandidates`):
            // a search still returns min(k, live vectors) results.
            switch metric {
            #if hasFeature(Embedded)
            default:
                _MetricKernel.metric = metric
                _scanLive(_MetricKernel.self, q, k: k, in: &s)
            #else
            case .l2: _scanLive(_L2Kernel.self, q, k: k, in: &s)
            case .cosine: _scanLive(_CosineKernel.self, q, k: k, in: &s)
            case .dot: _scanLive(_DotKernel.self, q, k: k, in: &s)
            #endif
            }
        }
        return s.drainResults()
    }

    /// Exact search over the live slots into `s.results` (at most `k`).
    @inline(never)
    @_optimize(speed)
    func _scanLive<K: _DistanceKernel>(_ kernel: K.Type, _ q: UnsafePointer<Float>, k: Int, in s: inout _SearchScratch) {
        s.results.removeAll()
        for slot in 0..<slotCount where !slots.isRemoved(slot) {
            let c = _Candidate(K.distance(q, vectors.pointer(at: slot), vectors.stride), UInt32(truncatingIfNeeded: slot))
            if s.results.count < k { s.results.push(c) } else if c._key < s.results.top._key {
                s.results.replaceTop(c)
            }
        }
    }

    @_optimize(speed)
    func _searchGraph<K: _DistanceKernel>(_ kernel: K.Type, _ q: UnsafePointer<Float>, ef: Int, in s: inout _SearchScratch) {
        _searchLayer(K.self, q, from: _descend(K.self, q, to: 0), ef: ef, layer: 0, access: _Exclusive(), in: &s)
    }

    /// From the entry point down to `layer` (exclusive of it), greedily on
    /// each layer above: where a search of `layer` starts.
    func _descend<K: _DistanceKernel>(_ kernel: K.Type, _ q: UnsafePointer<Float>, to layer: Int) -> _Candidate {
        _descend(K.self, q, to: layer, from: _entryPoint, top: _maxLevel, access: _Exclusive())
    }

    /// `_descend` from `entry`, a node of level `top`; `excluding`: see `_greedy`.
    /// Not inlined: once per search or insert, and each inlined copy (searches,
    /// inserts) cost the wasm module about 500 bytes.
    @inline(never)
    func _descend<K: _DistanceKernel, A: _GraphAccess>(_ kernel: K.Type, _ q: UnsafePointer<Float>, to layer: Int,
                                                       from entry: Int, top: Int, excluding: UInt32 = .max,
                                                       access: A) -> _Candidate {
        var ep = _Candidate(K.distance(q, vectors.pointer(at: entry), vectors.stride), UInt32(entry))
        var current = top
        while current > layer {
            ep = _greedy(K.self, q, from: ep, layer: current, excluding: excluding, access: access)
            current -= 1
        }
        return ep
    }

    /// Greedy walk on one layer: move to the closest neighbour until none is
    /// closer. `excluding`: a node relinked at its new vector, which other
    /// nodes may still list; stepping onto it (distance 0) would end the walk
    /// among its old neighbours.
    @_optimize(speed)
    func _greedy<K: _DistanceKernel, A: _GraphAccess>(_ kernel: K.Type, _ q: UnsafePointer<Float>,
                                                      from start: _Candidate, layer: Int, excluding: UInt32 = .max,
                                                      access: A) -> _Candidate {
        var best = start
        let stride = vectors.stride
        var changed = true
        while changed {
            changed = false
            let node = best.id
            access.lock(node)
            for e in graph.neighbors(of: Int(node), layer: layer) {
                let d = K.distance(q, vectors.pointer(at: Int(e)), stride)
                if d < best.distance && e != excluding {
                    best = _Candidate(d, e)
                    changed = true
                }
            }
            access.unlock(node)
        }
        return best
    }

    /// Beam search on one layer (Algorithm 2). Leaves up to `ef` nearest
    /// found in the `s.results` max-heap.
    ///
    /// The candidate heap is bounded: when full, candidates no closer than the
    /// current worst result are purged. Such candidates would be skipped
    /// anyway, and at most `ef` others can exist (each is still in the results),
    /// so the purge changes nothing but the memory bound.
    ///
    /// Removed nodes (free slots, or a node being relinked) are walked
    /// through like the others, so the graph stays navigable around them,
    /// but never enter the results. They break the bound above: see
    /// `_trimCandidates`.
    @_optimize(speed)
    func _searchLayer<K: _DistanceKernel, A: _GraphAccess>(_ kernel: K.Type, _ q: UnsafePointer<Float>,
                                                           from start: _Candidate, ef: Int, layer: Int, access: A,
                                                           in s: inout _SearchScratch) {
        s.nextEpoch()
        let epoch = s.epoch
        let visited = s.visited.base.unsafelyUnwrapped
        let stride = vectors.stride
        let limit = _SearchScratch.candidateLimit(ef: ef, degree: graph.maxDegree0)
        let pending = s.pending.base.unsafelyUnwrapped
        let lines = Swift.min(stride &>> 4, _maxPrefetchLines)
        var touched: Float = 0
        defer { s.touched = touched }
        let filtering = slots.removedCount > 0
        s.candidates.removeAll()
        s.results.removeAll()
        visited[Int(start.id)] = epoch
        s.candidates.push(start)
        if !filtering || !slots.isRemoved(Int(start.id)) { s.results.push(start) }
        while let current = _nextCandidate(K.self, ef: ef, in: &s) {
            // Two passes over the neighbour list: first mark the unvisited
            // ones and prefetch their vectors, so that their cache misses
            // overlap; then compute the distances.
            access.lock(current.id)
            let block = graph.block(of: Int(current.id), layer: layer)
            let n = Int(block[0])
            var fresh = 0
            for i in 1 ..< n &+ 1 {
                let e = block[i]
                if visited[Int(e)] == epoch { continue }
                visited[Int(e)] = epoch
                pending[fresh] = e
                fresh &+= 1
                touched += _prefetchVector(vectors.pointer(at: Int(e)), lines: lines)
            }
            access.unlock(current.id)
            _measurePending(K.self, q, count: fresh, ef: ef, limit: limit, skippingRemoved: filtering, in: &s)
        }
    }

    /// Measures the `count` nodes gathered in `s.pending` (their
    /// vectors prefetched): each nearer than the worst result becomes a
    /// candidate, and a result unless it is a removed node.
    @inline(__always)
    func _measurePending<K: _DistanceKernel>(_ kernel: K.Type, _ q: UnsafePointer<Float>, count: Int, ef: Int,
                                             limit: Int, skippingRemoved: Bool, in s: inout _SearchScratch) {
        let pending = s.pending.base.unsafelyUnwrapped
        let stride = vectors.stride
        for j in 0 ..< count {
            let e = pending[j]
            let d = K.distance(q, vectors.pointer(at: Int(e)), stride)
            if s.results.count < ef || d < s.results.top.distance {
                if s.candidates.count >= limit { _purgeCandidates(limit: limit, ef: ef, in: &s) }
                let c = _Candidate(d, e)
                s.candidates.push(c)
                if skippingRemoved && slots.isRemoved(Int(e)) { continue }
                // Full: `d` is below the worst result, which leaves.
                if s.results.count < ef { s.results.push(c) } else { s.results.replaceTop(c) }
            }
        }
    }

    /// The nearest candidate, taken off the heap, or nil when the beam is done.
    /// Nothing can enter full results once the nearest candidate is farther
    /// than the worst result, nor once the worst result is at the metric's
    /// floor (≥ ef exact duplicates under l2): only a strictly smaller
    /// distance enters. Stopping there changes no result, only skips
    /// expansions that cannot improve them.
    @inline(__always)
    func _nextCandidate<K: _DistanceKernel>(_ kernel: K.Type, ef: Int, in s: inout _SearchScratch) -> _Candidate? {
        guard s.candidates.count > 0 else { return nil }
        let current = s.candidates.top
        if s.results.count >= ef {
            let worst = s.results.top.distance
            if current.distance > worst || worst <= K.floor { return nil }
        }
        s.candidates.pop()
        return current
    }

    /// Drops candidates the beam can no longer use. First those farther than
    /// the worst result, which the loop would skip anyway, so nothing changes
    /// but memory. Ties at the worst distance are still explored by the loop,
    /// so they stay; only if they alone overflow (many equidistant vectors) do
    /// the ones after the worst result in (distance, id) order go too.
    /// Depends only on the search's own state, so results stay deterministic.
    @inline(never)
    func _purgeCandidates(limit: Int, ef: Int, in s: inout _SearchScratch) {
        if s.results.count >= ef {
            let worst = s.results.top
            s.candidates.filter { $0.distance <= worst.distance }
            if s.candidates.count >= limit {
                s.candidates.filter { $0.distance < worst.distance || $0.id <= worst.id }
            }
        }
        if s.candidates.count >= limit { _trimCandidates(to: limit / 2, in: &s) }
    }

    /// Keeps the `n` nearest candidates. Only removed nodes, which take a
    /// candidate's place without taking a result's, can leave the heap full
    /// after the purge; dropping the farthest of them may cost a search some
    /// live results, which `_search` then completes by an exact scan.
    func _trimCandidates(to n: Int, in s: inout _SearchScratch) {
        // Ascending keys: a valid nearest-first heap.
        _sortAscending(UnsafeMutableBufferPointer(start: s.candidates.storage.base, count: s.candidates.count))
        s.candidates.count = n
    }

    /// Hands the layer results to `s.ensureSorted`, which takes them
    /// out in ascending order only as far as they are read; returns the count.
    /// An insert reads a few (the selection stops after M kept, or at a copy
    /// of the new vector), and popping all `ef` of them first cost a fifth of
    /// the instructions of an insert of duplicate-heavy data. The candidate
    /// heap, done with, holds them meanwhile.
    func _beginAscending(in s: inout _SearchScratch) -> Int {
        s.candidates.assign(s.results)
        s.results.removeAll()
        s.sortedCount = 0
        return s.candidates.count
    }
}

/// Cache lines of a vector fetched ahead of its distance (16 floats per
/// line); the hardware streams the rest once the first lines are touched.
@usableFromInline let _maxPrefetchLines = 8

/// Starts fetching the first `lines` cache lines of a vector. x86 has
/// prefetch instructions; wasm has none, so there one float per line is
/// loaded instead and their sum returned, which the caller must keep alive:
/// a plain load starts the miss too, and the independent loads of one
/// neighbour list overlap instead of being taken one distance at a time.
@inlinable @inline(__always)
func _prefetchVector(_ p: UnsafePointer<Float>, lines: Int) -> Float {
    var line = 0
    #if arch(wasm32)
    var sum: Float = 0
    while line < lines {
        sum += p[line &* 16]
        line &+= 1
    }
    return sum
    #else
    while line < lines {
        _ev_prefetch(p + line &* 16)
        line &+= 1
    }
    return 0
    #endif
}
