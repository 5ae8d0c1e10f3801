import EdgeVecAllocators
import EdgeVecConcurrency
import EdgeVecFilter
import _EdgeVecSearchKernels
import EdgeVecGraph
import EdgeVecStorage

// Metadata and filtered search.
//
// A filtered search first evaluates the filter over the metadata columns
// into a bitmap of matching live slots (one pass over the columns the filter
// names; docs/FILTERS.md), which also gives the exact number of matches.
// Then:
// - at most `filterScanLimit(ef:)` matches: an exact scan of them (at low
//   selectivity a graph walk would visit many times more vectors than match);
// - more: the HNSW walk on layers above 0 as usual, and on layer 0 a walk
//   of the matching nodes only: a non-matching neighbour is not measured but
//   passes on its own neighbours (ACORN-1's two-hop expansion), so the beam
//   holds matches only and stops as an unfiltered search does.
// Either way a search returns min(k, matches) results: if the walk comes
// back short, the exact scan completes it.

extension HNSWIndex {
    /// Adds a vector with metadata; see `add(_:id:)`.
    /// - Throws: `invalidMetadata` besides the errors of `add(_:id:)`; the
    ///   index is unchanged on any throw.
    @discardableResult
    public func add(_ vector: UnsafeBufferPointer<Float>, id: UInt64? = nil,
                    metadata: Metadata) throws(EdgeVecError) -> UInt64 {
        try _add(vector, id: id, metadata: metadata)
    }

    /// Adds a vector with metadata; see `add(_:id:metadata:)` taking a buffer.
    @discardableResult
    public func add(_ vector: [Float], id: UInt64? = nil, metadata: Metadata) throws(EdgeVecError) -> UInt64 {
        try vector.withUnsafeBufferPointer { (buffer) throws(EdgeVecError) -> UInt64 in
            try add(buffer, id: id, metadata: metadata)
        }
    }

    /// Replaces the metadata of `id` (an empty `Metadata` removes it).
    /// - Throws: `unknownId`, `invalidMetadata`; the index is unchanged on any throw.
    /// - Complexity: O(fields of the index + fields given).
    public func setMetadata(_ metadata: Metadata, for id: UInt64) throws(EdgeVecError) {
        try _setMetadata(metadata, for: id)
    }

    /// The metadata of `id` (empty when it has none), or nil when no vector
    /// has `id`. Fields come in the order the index first saw them.
    public func metadata(for id: UInt64) -> Metadata? { _metadata(for: id) }

    // MARK: Metadata as bytes (the C ABI: no `String` is built)

    /// Adds a vector with metadata in binary form; see `add(_:id:metadata:)`.
    /// - Precondition: `MetadataBytes.check` accepted `form`, all of it.
    package func add(_ vector: UnsafeBufferPointer<Float>, id: UInt64?,
                     checkedMetadata form: UnsafeRawBufferPointer) throws(EdgeVecError) -> UInt64 {
        try lock.withWriteLock { () throws(EdgeVecError) -> UInt64 in
            let key = try _add(vector, id: id)
            filtering.store.set(encoded: form, at: slots.slot(for: key)!)
            return key
        }
    }

    /// Adds a batch with metadata in binary form, one form per row back to
    /// back, under one lock (no search sees the rows without their
    /// metadata); see `addBatch(_:ids:)`.
    /// - Precondition: `MetadataBytes.check` accepted each form, and they fill `forms`.
    package func addBatch(_ vectors: UnsafeBufferPointer<Float>, ids: UnsafeBufferPointer<UInt64>?,
                          checkedMetadata forms: UnsafeRawBufferPointer) throws(EdgeVecError) -> UInt64 {
        try lock.withWriteLock { () throws(EdgeVecError) -> UInt64 in
            let first = try _addBatch(vectors, ids: ids)
            var offset = 0
            for row in 0 ..< vectors.count / dimension {
                let rest = UnsafeRawBufferPointer(rebasing: forms[offset...])
                let used = (try? MetadataBytes.check(rest)) ?? 1       // checked by the caller
                if rest[0] != 0 {
                    let slot = slots.slot(for: ids?[row] ?? first &+ UInt64(row))!
                    filtering.store.set(encoded: UnsafeRawBufferPointer(rebasing: rest[..<used]), at: slot)
                }
                offset += used
            }
            return first
        }
    }

    /// Replaces the metadata of `id` with a binary form; see `setMetadata(_:for:)`.
    /// - Precondition: `MetadataBytes.check` accepted `form`, all of it.
    package func setMetadata(checked form: UnsafeRawBufferPointer, for id: UInt64) throws(EdgeVecError) {
        try lock.withWriteLock { () throws(EdgeVecError) in
            guard let slot = slots.slot(for: id) else { throw .unknownId(id) }
            filtering.store.set(encoded: form, at: slot)
        }
    }

    /// Writes the metadata of `id` in binary form (the empty form when it
    /// has none) and returns true, or returns false when no vector has `id`.
    package func encodeMetadata(for id: UInt64, into w: inout MetadataRecordWriter) -> Bool {
        lock.withReadLock {
            guard let slot = slots.slot(for: id) else { return false }
            if slot < filtering.store.slotCount { filtering.store.encode(slot: slot, into: &w) } else { w.fieldCount(0) }
            return true
        }
    }

    // MARK: Filtered search

    /// The `k` nearest vectors whose metadata satisfies `filter`, nearest
    /// first: exactly min(k, matching vectors) of them.
    ///
    /// - Throws: as `search(_:k:ef:)`.
    /// - Complexity: O(n) to evaluate the filter, then an exact scan of the
    ///   matches when they are few, else a graph walk over matching nodes.
    public func search(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil,
                       filter: Filter) throws(EdgeVecError) -> [SearchResult] {
        try _searching(query, k: k, ef: ef, filter: filter) { s, n in s.sortedResults(n, slots: slots) }
    }

    /// Filtered search; see the buffer variant.
    public func search(_ query: [Float], k: Int, ef: Int? = nil, filter: Filter) throws(EdgeVecError) -> [SearchResult] {
        try query.withUnsafeBufferPointer { (buffer) throws(EdgeVecError) -> [SearchResult] in
            try search(buffer, k: k, ef: ef, filter: filter)
        }
    }

    /// Filtered search into the caller's buffers (room for `k` each); returns how many.
    public func search(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil, filter: Filter,
                       ids: UnsafeMutablePointer<UInt64>, distances: UnsafeMutablePointer<Float>) throws(EdgeVecError) -> Int {
        try _searching(query, k: k, ef: ef, filter: filter) { s, n in
            s.copySortedResults(n, slots: slots, ids: ids, distances: distances)
        }
    }

    /// Starts fetching node `id`'s layer-0 list (its first three cache lines).
    @inline(__always)
    func _prefetchList(_ id: UInt32) {
        #if !arch(wasm32)
        let block = UnsafeRawPointer(graph.block(of: Int(id), layer: 0))
        _ev_prefetch(block)
        _ev_prefetch(block + 64)
        _ev_prefetch(block + 128)
        #endif
    }

    /// Matches one expansion of the filtered walk measures at most: a full
    /// layer-0 list (also the room `scratch.pending` has).
    var _twoHopBudget: Int { graph.maxDegree0 }

    /// Matches up to which a filtered search scans them exactly instead of
    /// walking the graph: about what an unfiltered walk at `ef` measures.
    func filterScanLimit(ef: Int) -> Int { ef * graph.maxDegree0 }

    /// The filtered part of `_search`: the query is in `s.query`.
    func _searchFiltered(k: Int, ef: Int, filter: Filter, in s: inout _SearchScratch) -> Int {
        let matches = _matching(filter, in: &s)
        if matches == 0 { return 0 }
        let q = UnsafePointer(s.query.base!)
        let walk = matches > filterScanLimit(ef: ef)
        switch metric {
        #if hasFeature(Embedded)
        default:
            _MetricKernel.metric = metric
            _searchFiltered(_MetricKernel.self, q, k: k, ef: ef, walk: walk, matches: matches, in: &s)
        #else
        case .l2: _searchFiltered(_L2Kernel.self, q, k: k, ef: ef, walk: walk, matches: matches, in: &s)
        case .cosine: _searchFiltered(_CosineKernel.self, q, k: k, ef: ef, walk: walk, matches: matches, in: &s)
        case .dot: _searchFiltered(_DotKernel.self, q, k: k, ef: ef, walk: walk, matches: matches, in: &s)
        #endif
        }
        return s.drainResults()
    }

    func _searchFiltered<K: _DistanceKernel>(_ kernel: K.Type, _ q: UnsafePointer<Float>, k: Int, ef: Int,
                                             walk: Bool, matches: Int, in s: inout _SearchScratch) {
        let bits = s.filter.bits
        bits.withUnsafeBufferPointer { bits in
            if walk {
                _searchMatching(K.self, q, from: _descend(K.self, q, to: 0), ef: ef, bits: bits.baseAddress!, in: &s)
                while s.results.count > k { s.results.pop() }
                if s.results.count >= Swift.min(k, matches) { return }
            }
            _scanMatching(K.self, q, k: k, bits: bits, vectors: vectors, results: &s.results)
        }
    }

    /// Beam search on layer 0 over matching nodes only (ACORN-1): a matching
    /// neighbour is measured; a non-matching one is marked visited and its
    /// own matching neighbours are measured instead, until the expansion
    /// has measured `_twoHopBudget` nodes (ACORN's truncation: without it, at
    /// 26 % selectivity an expansion measured 3 × what an unfiltered one
    /// does). Candidates and results are then all matches (but the start),
    /// so the beam bound and the stop rule of `_searchLayer` hold unchanged.
    @_optimize(speed)
    func _searchMatching<K: _DistanceKernel>(_ kernel: K.Type, _ q: UnsafePointer<Float>, from start: _Candidate,
                                             ef: Int, bits: UnsafePointer<UInt64>, in s: inout _SearchScratch) {
        @inline(__always) func matches(_ e: UInt32) -> Bool { (bits[Int(e &>> 6)] &>> UInt64(e & 63)) & 1 != 0 }
        s.nextEpoch()
        let epoch = s.epoch
        let visited = s.visited.base.unsafelyUnwrapped
        let stride = vectors.stride
        let limit = _SearchScratch.candidateLimit(ef: ef, degree: graph.maxDegree0)
        s.candidates.removeAll()
        s.results.removeAll()
        visited[Int(start.id)] = epoch
        s.candidates.push(start)
        if matches(start.id) { s.results.push(start) }
        let pending = s.pending.base.unsafelyUnwrapped
        let lines = Swift.min(stride &>> 4, _maxPrefetchLines)
        var touched: Float = 0
        defer { s.touched = touched }
        let budget = _twoHopBudget
        while let current = _nextCandidate(K.self, ef: ef, in: &s) {
            // Gather the matches to measure, prefetching their vectors as
            // `_searchLayer` does: the matching neighbours, then those
            // through non-matching neighbours, nearest first, until the
            // expansion has `budget` (ACORN's truncation).
            let list = graph.neighbors(of: Int(current.id), layer: 0)
            var fresh = 0
            @inline(__always) func take(_ e: UInt32) {
                visited[Int(e)] = epoch
                pending[fresh] = e
                fresh &+= 1
                touched += _prefetchVector(vectors.pointer(at: Int(e)), lines: lines)
            }
            for e in list where visited[Int(e)] != epoch {
                if matches(e) { take(e) } else { _prefetchList(e) }
            }
            for e in list where fresh < budget && visited[Int(e)] != epoch {
                visited[Int(e)] = epoch
                // The bitmap (n/8 bytes) is likelier in cache than the visited stamps.
                for f in graph.neighbors(of: Int(e), layer: 0) where matches(f) && visited[Int(f)] != epoch {
                    take(f)
                    if fresh >= budget { break }
                }
            }
            // Matches are live (the bitmap holds no removed slot).
            _measurePending(K.self, q, count: fresh, ef: ef, limit: limit, skippingRemoved: false, in: &s)
        }
    }
}

