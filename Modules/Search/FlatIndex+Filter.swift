import EdgeVecAllocators
import EdgeVecConcurrency
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
        try _add(vector, id: id, metadata: metadata)
    }

    @discardableResult
    public func add(_ vector: [Float], id: UInt64? = nil, metadata: Metadata) throws(EdgeVecError) -> UInt64 {
        try vector.withUnsafeBufferPointer { (buffer) throws(EdgeVecError) -> UInt64 in
            try add(buffer, id: id, metadata: metadata)
        }
    }

    /// Replaces the metadata of `id`; see `HNSWIndex.setMetadata(_:for:)`.
    public func setMetadata(_ metadata: Metadata, for id: UInt64) throws(EdgeVecError) {
        try _setMetadata(metadata, for: id)
    }

    /// The metadata of `id` (empty when it has none), or nil when no vector has `id`.
    public func metadata(for id: UInt64) -> Metadata? { _metadata(for: id) }

    /// The exact `k` nearest vectors whose metadata satisfies `filter`:
    /// min(k, matches) of them, nearest first.
    /// - Complexity: O(n) to evaluate the filter, plus O(matches · dimension).
    public func search(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil,
                       filter: Filter) throws(EdgeVecError) -> [SearchResult] {
        try _searching(query, k: k, ef: ef, filter: filter) { s, n in s.sortedResults(n, slots: slots) }
    }

    public func search(_ query: [Float], k: Int, ef: Int? = nil, filter: Filter) throws(EdgeVecError) -> [SearchResult] {
        try query.withUnsafeBufferPointer { (buffer) throws(EdgeVecError) -> [SearchResult] in
            try search(buffer, k: k, ef: ef, filter: filter)
        }
    }

    public func search(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil, filter: Filter,
                       ids: UnsafeMutablePointer<UInt64>, distances: UnsafeMutablePointer<Float>) throws(EdgeVecError) -> Int {
        try _searching(query, k: k, ef: ef, filter: filter) { s, n in
            s.copySortedResults(n, slots: slots, ids: ids, distances: distances)
        }
    }
}
