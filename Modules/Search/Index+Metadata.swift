import EdgeVecFilter
import EdgeVecConcurrency
import EdgeVecStorage

// Metadata of both index kinds: the bodies of their `add(_:id:metadata:)`,
// `setMetadata(_:for:)` and `metadata(for:)`, and read-only summaries
// (which fields, of which types, in how many live vectors: `edgevec info`).

extension _SearchableIndex {
    /// `add(_:id:metadata:)`: the metadata checked first, then the vector
    /// added and its metadata set under one write lock.
    func _add(_ vector: UnsafeBufferPointer<Float>, id: UInt64?, metadata: Metadata) throws(EdgeVecError) -> UInt64 {
        try _FilterState.check(metadata)
        return try lock.withWriteLock { () throws(EdgeVecError) -> UInt64 in
            let key = try _add(vector, id: id)
            filtering.store.set(metadata, at: slots.slot(for: key)!)
            return key
        }
    }

    /// `setMetadata(_:for:)`.
    func _setMetadata(_ metadata: Metadata, for id: UInt64) throws(EdgeVecError) {
        try lock.withWriteLock { () throws(EdgeVecError) in
            guard let slot = slots.slot(for: id) else { throw .unknownId(id) }
            try _FilterState.check(metadata)
            filtering.store.set(metadata, at: slot)
        }
    }

    /// `metadata(for:)`.
    func _metadata(for id: UInt64) -> Metadata? {
        lock.withReadLock {
            guard let slot = slots.slot(for: id) else { return nil }
            return filtering.store.metadata(at: slot)
        }
    }
}

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
