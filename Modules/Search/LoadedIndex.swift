import EdgeVecFilter
import EdgeVecAllocators
import EdgeVecFormat

/// An index of either kind, as read from bytes or a file whose kind is not
/// known in advance (the CLI's `search` and `info`).
public enum LoadedIndex {
    case hnsw(HNSWIndex)
    case flat(FlatIndex)

    /// Reads serialized bytes of either kind.
    /// - Throws: `corrupt(_)`, `outOfMemory`.
    public static func load(serialized bytes: UnsafeRawBufferPointer,
                            allocator: RawAllocator = .makeDefault()) throws(EdgeVecError) -> LoadedIndex {
        // The kind sits at offset 12; `Header.read` validates everything else.
        if bytes.count >= 16, bytes.load(fromByteOffset: 12, as: UInt8.self) == UInt8(IndexFormat.Kind.flat.rawValue) {
            return .flat(try FlatIndex(serialized: bytes, allocator: allocator))
        }
        return .hnsw(try HNSWIndex(serialized: bytes, allocator: allocator))
    }

    public var dimension: Int {
        switch self {
        case .hnsw(let index): return index.dimension
        case .flat(let index): return index.dimension
        }
    }

    public var metric: Metric {
        switch self {
        case .hnsw(let index): return index.metric
        case .flat(let index): return index.metric
        }
    }

    public var count: Int {
        switch self {
        case .hnsw(let index): return index.count
        case .flat(let index): return index.count
        }
    }

    /// Removed slots (see `HNSWIndex.removedCount`).
    public var removedCount: Int {
        switch self {
        case .hnsw(let index): return index.removedCount
        case .flat(let index): return index.removedCount
        }
    }

    /// See `HNSWIndex.contains(_:)`.
    public func contains(_ id: UInt64) -> Bool {
        switch self {
        case .hnsw(let index): return index.contains(id)
        case .flat(let index): return index.contains(id)
        }
    }

    /// See `HNSWIndex.remove(_:)`.
    @discardableResult
    public func remove(_ id: UInt64) -> Bool {
        switch self {
        case .hnsw(let index): return index.remove(id)
        case .flat(let index): return index.remove(id)
        }
    }

    /// Bytes of the serialized form.
    public var serializedByteCount: Int {
        switch self {
        case .hnsw(let index): return index.serializedByteCount
        case .flat(let index): return index.serializedByteCount
        }
    }

    /// See `HNSWIndex.search(_:k:ef:)`.
    public func search(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil) throws(EdgeVecError) -> [SearchResult] {
        switch self {
        case .hnsw(let index): return try index.search(query, k: k, ef: ef)
        case .flat(let index): return try index.search(query, k: k, ef: ef)
        }
    }

    /// See `HNSWIndex.search(_:k:ef:ids:distances:)`.
    public func search(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil,
                       ids: UnsafeMutablePointer<UInt64>, distances: UnsafeMutablePointer<Float>) throws(EdgeVecError) -> Int {
        switch self {
        case .hnsw(let index): return try index.search(query, k: k, ef: ef, ids: ids, distances: distances)
        case .flat(let index): return try index.search(query, k: k, ef: ef, ids: ids, distances: distances)
        }
    }

    /// See `HNSWIndex.search(_:k:ef:filter:)`.
    public func search(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil,
                       filter: Filter) throws(EdgeVecError) -> [SearchResult] {
        switch self {
        case .hnsw(let index): return try index.search(query, k: k, ef: ef, filter: filter)
        case .flat(let index): return try index.search(query, k: k, ef: ef, filter: filter)
        }
    }

    /// See `HNSWIndex.search(_:k:ef:filter:)`.
    public func search(_ query: [Float], k: Int, ef: Int? = nil, filter: Filter) throws(EdgeVecError) -> [SearchResult] {
        switch self {
        case .hnsw(let index): return try index.search(query, k: k, ef: ef, filter: filter)
        case .flat(let index): return try index.search(query, k: k, ef: ef, filter: filter)
        }
    }

    /// See `HNSWIndex.search(_:k:ef:filter:ids:distances:)`.
    public func search(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil, filter: Filter,
                       ids: UnsafeMutablePointer<UInt64>, distances: UnsafeMutablePointer<Float>) throws(EdgeVecError) -> Int {
        switch self {
        case .hnsw(let index): return try index.search(query, k: k, ef: ef, filter: filter, ids: ids, distances: distances)
        case .flat(let index): return try index.search(query, k: k, ef: ef, filter: filter, ids: ids, distances: distances)
        }
    }

    /// See `HNSWIndex.metadata(for:)`.
    public func metadata(for id: UInt64) -> Metadata? {
        switch self {
        case .hnsw(let index): return index.metadata(for: id)
        case .flat(let index): return index.metadata(for: id)
        }
    }

    /// The index as bytes (`IndexFormat`).
    public func serialized() -> [UInt8] {
        switch self {
        case .hnsw(let index): return index.serialized()
        case .flat(let index): return index.serialized()
        }
    }
}
