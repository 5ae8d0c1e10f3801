import EdgeVecFilter
import EdgeVecConcurrency

// Read-only summaries of an index's metadata: which fields it holds, of
// which types, in how many live vectors (`edgevec info`).

extension HNSWIndex {
    /// The metadata fields held by at least one live vector, in the order
    /// the index first saw them, each with its types and the number of
    /// vectors holding it.
    /// - Complexity: O(fields × slots).
    public var metadataFields: [MetadataField] { lock.withReadLock { filtering.store.fields } }
}

extension FlatIndex {
    /// The metadata fields held by at least one live vector; see
    /// `HNSWIndex.metadataFields`.
    /// - Complexity: O(fields × slots).
    public var metadataFields: [MetadataField] { lock.withReadLock { filtering.store.fields } }
}

extension LoadedIndex {
    /// See `HNSWIndex.metadataFields`.
    /// - Complexity: O(fields × slots).
    public var metadataFields: [MetadataField] {
        switch self {
        case .hnsw(let index): return index.metadataFields
        case .flat(let index): return index.metadataFields
        }
    }
}
