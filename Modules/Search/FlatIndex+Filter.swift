import EdgeVecAllocators
import EdgeVecFilter
import EdgeVecStorage

// Metadata and filtered search for the exact index: the same API as
// `HNSWIndex+Filter.swift`; a filtered search is always an exact scan of
// the matching live slots.

extension FlatIndex {
    /// Adds a vector with metadata; see `HNSWIndex.add(_:id:metadata:)`.
    @discardableResult
    public func add(_ vector: UnsafeBufferPointer<Float>, id: UInt64? = nil,
                    metadata: Metadata) throws(EdgeVecError) -> UInt64 {
        try _FilterState.check(metadata)
        let key = try add(vector, id: id)
        filtering.store.extend(to: slotCount)
        filtering.store.set(metadata, at: slots.slot(for: key)!)
        return key
    }

    @discardableResult
    public func add(_ vector: [Float], id: UInt64? = nil, metadata: Metadata) throws(EdgeVecError) -> UInt64 {
        try vector.withUnsafeBufferPointer { (buffer) throws(EdgeVecError) -> UInt64 in
            try add(buffer, id: id, metadata: metadata)
        }
    }

    /// Replaces the metadata of `id`; see `HNSWIndex.setMetadata(_:for:)`.
    public func setMetadata(_ metadata: Metadata, for id: UInt64) throws(EdgeVecError) {
        guard let slot = slots.slot(for: id) else { throw .unknownId(id) }
        try _FilterState.check(metadata)
        filtering.store.extend(to: slotCount)
        filtering.store.set(metadata, at: slot)
    }

    /// The metadata of `id` (empty when it has none), or nil when no vector has `id`.
    public func metadata(for id: UInt64) -> Metadata? {
        guard let slot = slots.slot(for: id) else { return nil }
        return slot < filtering.store.slotCount ? filtering.store.metadata(at: slot) : Metadata()
    }

    /// The exact `k` nearest vectors whose metadata satisfies `filter`:
    /// min(k, matches) of them, nearest first.
    /// - Complexity: O(n) to evaluate the filter, plus O(matches · dimension).
    public func search(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil,
                       filter: Filter) throws(EdgeVecError) -> [SearchResult] {
        let n = try _search(query, k: k, ef: ef, filter: filter)
        return scratch.sortedResults(n, slots: slots)
    }

    public func search(_ query: [Float], k: Int, ef: Int? = nil, filter: Filter) throws(EdgeVecError) -> [SearchResult] {
        try query.withUnsafeBufferPointer { (buffer) throws(EdgeVecError) -> [SearchResult] in
            try search(buffer, k: k, ef: ef, filter: filter)
        }
    }

    public func search(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil, filter: Filter,
                       ids: UnsafeMutablePointer<UInt64>, distances: UnsafeMutablePointer<Float>) throws(EdgeVecError) -> Int {
        let n = try _search(query, k: k, ef: ef, filter: filter)
        return scratch.copySortedResults(n, slots: slots, ids: ids, distances: distances)
    }

    func _search(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int?, filter: Filter) throws(EdgeVecError) -> Int {
        guard let q = try _prepareSearch(query, k: k, ef: ef) else { return 0 }
        if filtering.evaluate(filter, slots: slots, slotCount: slotCount) == 0 { return 0 }
        filtering.bits.withUnsafeBufferPointer { bits in
            switch metric {
            case .l2: _scanMatching(_L2Kernel.self, q, k: k, bits: bits, vectors: vectors, results: &scratch.results)
            case .cosine: _scanMatching(_CosineKernel.self, q, k: k, bits: bits, vectors: vectors, results: &scratch.results)
            case .dot: _scanMatching(_DotKernel.self, q, k: k, bits: bits, vectors: vectors, results: &scratch.results)
            }
        }
        return scratch.drainResults()
    }
}
