import EdgeVecAllocators
import EdgeVecStorage

/// An exact index: every search compares the query with every stored vector.
/// Same API, metrics and errors as `HNSWIndex`; the ground truth it checks against.
/// Not thread-safe: searches reuse shared scratch.
public final class FlatIndex {
    public let dimension: Int
    public let metric: Metric
    @usableFromInline let allocator: RawAllocator
    @usableFromInline var vectors: VectorStorage
    @usableFromInline var scratch = _SearchScratch()

    /// Creates an empty index. The index owns `allocator` from now on.
    /// - Throws: `invalidParameter(.dimension)` outside 1...65536.
    public init(dimension: Int, metric: Metric, allocator: RawAllocator = .makeDefault()) throws(EdgeVecError) {
        self.allocator = allocator
        self.dimension = max(dimension, 1)
        self.metric = metric
        self.vectors = VectorStorage(dimension: max(dimension, 1))
        try _Validation.checkDimension(dimension)
    }

    deinit {
        vectors.release(using: allocator)
        scratch.release(using: allocator)
        allocator.release()
    }

    /// Vectors in the index.
    public var count: Int { vectors.count }

    /// Which allocator the index draws from.
    public var allocatorKind: RawAllocator.Kind { allocator.kind }

    /// Bytes of memory the index holds.
    public var allocatedBytes: Int { vectors.allocatedBytes + scratch.results.storage.allocatedBytes }

    /// Reserves memory for exactly `capacity` vectors in all, so that adding
    /// up to that many allocates nothing; see `HNSWIndex.reserveCapacity(_:)`.
    /// - Throws: `invalidParameter(.capacity)` for a negative `capacity`,
    ///   `capacityExceeded` above 4294967294, `outOfMemory` (index unchanged).
    /// - Complexity: O(`count`) when the slab grows, O(1) otherwise.
    public func reserveCapacity(_ capacity: Int) throws(EdgeVecError) {
        try _Validation.checkCapacity(capacity)
        guard vectors.reserveExactly(capacity, using: allocator) else { throw .outOfMemory }
    }

    /// Adds one vector and returns its id.
    /// - Throws: as `HNSWIndex.add(_:)`; the index is unchanged on any throw.
    /// - Complexity: O(dimension) amortised.
    @discardableResult
    public func add(_ vector: UnsafeBufferPointer<Float>) throws(EdgeVecError) -> UInt64 {
        guard vector.count == dimension else { throw .dimensionMismatch(expected: dimension, actual: vector.count) }
        return try addBatch(vector)
    }

    @discardableResult
    public func add(_ vector: [Float]) throws(EdgeVecError) -> UInt64 {
        try vector.withUnsafeBufferPointer { (buffer) throws(EdgeVecError) -> UInt64 in try add(buffer) }
    }

    /// Adds vectors row after row, all or nothing; returns the first id.
    /// - Throws: as `HNSWIndex.addBatch(_:)`.
    @discardableResult
    public func addBatch(_ values: UnsafeBufferPointer<Float>) throws(EdgeVecError) -> UInt64 {
        guard values.count % dimension == 0 else { throw .dimensionMismatch(expected: dimension, actual: values.count) }
        let first = UInt64(count)
        let rows = values.count / dimension
        if rows == 0 { return first }
        try _Validation.checkRows(values, dimension: dimension, metric: metric)
        let (newCount, overflow) = count.addingReportingOverflow(rows)
        guard !overflow, newCount <= Limits.maxCount else { throw .capacityExceeded }
        guard vectors.reserve(newCount, using: allocator) else { throw .outOfMemory }
        for row in 0..<rows {
            let source = values.baseAddress! + row * dimension
            vectors.append(source, scale: _Validation.scale(source, dimension, metric))
        }
        return first
    }

    @discardableResult
    public func addBatch(_ values: [Float]) throws(EdgeVecError) -> UInt64 {
        try values.withUnsafeBufferPointer { (buffer) throws(EdgeVecError) -> UInt64 in try addBatch(buffer) }
    }

    /// The exact `k` nearest vectors, nearest first (ties: lower id first not guaranteed).
    /// `ef` is accepted for API symmetry, validated, and ignored.
    /// - Complexity: O(n · dimension + n · log k).
    public func search(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil) throws(EdgeVecError) -> [SearchResult] {
        let n = try _search(query, k: k, ef: ef)   // first: it may regrow the scratch
        return scratch.sortedResults(n)
    }

    public func search(_ query: [Float], k: Int, ef: Int? = nil) throws(EdgeVecError) -> [SearchResult] {
        try query.withUnsafeBufferPointer { (buffer) throws(EdgeVecError) -> [SearchResult] in
            try search(buffer, k: k, ef: ef)
        }
    }

    /// Allocation-free search into caller buffers with room for `k`; returns the count.
    public func search(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil,
                       ids: UnsafeMutablePointer<UInt64>, distances: UnsafeMutablePointer<Float>) throws(EdgeVecError) -> Int {
        let n = try _search(query, k: k, ef: ef)   // first: it may regrow the scratch
        return scratch.copySortedResults(n, ids: ids, distances: distances)
    }

    func _search(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int?) throws(EdgeVecError) -> Int {
        guard query.count == dimension else { throw .dimensionMismatch(expected: dimension, actual: query.count) }
        try _Validation.checkK(k)
        if let ef { try _Validation.checkEf(ef, .ef) }
        try _Validation.checkRows(query, dimension: dimension, metric: metric)
        if count == 0 { return 0 }
        let keep = min(k, count)
        guard scratch.reserve(nodes: 0, ef: keep, degree: 0, stride: vectors.stride, allocator: allocator)
        else { throw .outOfMemory }
        let q = scratch.query.base!
        _Validation.prepareQuery(query, into: q, metric: metric)
        switch metric {
        case .l2: _scan(_L2Kernel.self, q, keep: keep)
        case .cosine: _scan(_CosineKernel.self, q, keep: keep)
        case .dot: _scan(_DotKernel.self, q, keep: keep)
        }
        let sorted = scratch.sorted.base!
        var i = scratch.results.count
        while i > 0 {
            i -= 1
            sorted[i] = scratch.results.pop()
        }
        return keep
    }

    func _scan<K: _DistanceKernel>(_ kernel: K.Type, _ q: UnsafePointer<Float>, keep: Int) {
        scratch.results.removeAll()
        let stride = vectors.stride
        for id in 0..<count {
            let d = K.distance(q, vectors.pointer(at: id), stride)
            if scratch.results.count < keep {
                scratch.results.push(_Candidate(d, UInt32(id)))
            } else if d < scratch.results.top.distance {
                scratch.results.replaceTop(_Candidate(d, UInt32(id)))
            }
        }
    }
}
