import EdgeVecAllocators
import EdgeVecConcurrency
import EdgeVecFilter
import EdgeVecFormat
import EdgeVecStorage

/// An exact index: every search compares the query with every stored vector.
/// Same API, metrics, ids and errors as `HNSWIndex`; the ground truth it
/// checks against. A removed vector's slot is skipped by searches and reused
/// by the next insert. Thread-safe like `HNSWIndex`: searches and reads run
/// at once, changes alone.
public final class FlatIndex: _SearchableIndex, @unchecked Sendable {
    public let dimension: Int
    public let metric: Metric
    @usableFromInline let allocator: RawAllocator
    @usableFromInline var vectors: VectorStorage
    /// Scratch for searches, which may run at once.
    let searchScratch = _ScratchPool()
    /// Searches hold it to read, changes to write.
    let lock = ReadWriteLock()
    /// Slot ↔ id, removed and free slots.
    @usableFromInline var slots = SlotTable()
    /// Past this fraction of removed slots, `remove` compacts the index
    /// (¼ by default: a search then scans at most one removed slot in four).
    /// A value of 1 or more turns automatic compaction off.
    public var compactionThreshold: Double {
        get { lock.withReadLock { _compactionThreshold } }
        set { lock.withWriteLock { _compactionThreshold = newValue } }
    }
    var _compactionThreshold = 0.25
    /// Metadata per slot, and what filtered searches reuse.
    var filtering = _FilterState()

    /// Creates an empty index. The index owns `allocator` from now on.
    /// - Throws: `invalidParameter(.dimension)` outside 1...65536.
    public init(dimension: Int, metric: Metric, allocator: RawAllocator = .makeDefault()) throws(EdgeVecError) {
        self.allocator = allocator
        self.dimension = _Validation.clampedDimension(dimension)   // as in `HNSWIndex.init`
        self.metric = metric
        self.vectors = VectorStorage(dimension: self.dimension)
        try _Validation.checkDimension(dimension)
    }

    deinit {
        vectors.release(using: allocator)
        searchScratch.release(using: allocator)
        slots.release(using: allocator)
        allocator.release()
    }

    /// Vectors in the index (removed ones not counted).
    public var count: Int { lock.withReadLock { slots.liveCount } }

    /// Slots of removed vectors waiting to be reused (or dropped by `compact()`).
    public var removedCount: Int { lock.withReadLock { slots.removedSlotCount } }

    /// Slots in use, live or removed.
    var slotCount: Int { vectors.count }

    /// Which allocator the index draws from.
    public var allocatorKind: RawAllocator.Kind { allocator.kind }

    /// Bytes of memory the index holds.
    public var allocatedBytes: Int {
        lock.withReadLock {
            vectors.allocatedBytes + searchScratch.allocatedBytes + slots.allocatedBytes + filtering.allocatedBytes
        }
    }

    /// Reserves memory for exactly `capacity` vectors in all (slots of
    /// removed vectors count as room), so that adding up to that many
    /// allocates nothing; see `HNSWIndex.reserveCapacity(_:)`.
    /// - Throws: `invalidParameter(.capacity)` for a negative `capacity`,
    ///   `capacityExceeded` above 4294967294, `outOfMemory` (index unchanged).
    /// - Complexity: O(`count`) when the slab grows, O(1) otherwise.
    public func reserveCapacity(_ capacity: Int) throws(EdgeVecError) {
        try _Validation.checkCapacity(capacity)
        try lock.withWriteLock { () throws(EdgeVecError) in
            let total = slotCount + Swift.max(capacity - slots.liveCount - slots.freeCount, 0)
            guard vectors.reserveExactly(total, using: allocator),
                  slots.reserve(slots: total, exactly: true, using: allocator) else { throw .outOfMemory }
        }
    }

    /// Adds one vector under `id`, or the next id; returns the id.
    /// - Throws: as `HNSWIndex.add(_:id:)`; the index is unchanged on any throw.
    /// - Complexity: O(dimension) amortised.
    @discardableResult
    public func add(_ vector: UnsafeBufferPointer<Float>, id: UInt64? = nil) throws(EdgeVecError) -> UInt64 {
        try lock.withWriteLock { () throws(EdgeVecError) -> UInt64 in try _add(vector, id: id) }
    }

    func _add(_ vector: UnsafeBufferPointer<Float>, id: UInt64?) throws(EdgeVecError) -> UInt64 {
        guard vector.count == dimension else { throw .dimensionMismatch(expected: dimension, actual: vector.count) }
        guard let id else { return try _addBatch(vector, ids: nil) }
        return try withUnsafePointer(to: id) { (key) throws(EdgeVecError) -> UInt64 in
            try _addBatch(vector, ids: UnsafeBufferPointer(start: key, count: 1))
        }
    }

    @discardableResult
    public func add(_ vector: [Float], id: UInt64? = nil) throws(EdgeVecError) -> UInt64 {
        try vector.withUnsafeBufferPointer { (buffer) throws(EdgeVecError) -> UInt64 in try add(buffer, id: id) }
    }

    /// Adds vectors row after row, all or nothing, under `ids` or the next
    /// ids; returns the first id.
    /// - Throws: as `HNSWIndex.addBatch(_:ids:)`.
    @discardableResult
    public func addBatch(_ values: UnsafeBufferPointer<Float>,
                         ids: UnsafeBufferPointer<UInt64>? = nil) throws(EdgeVecError) -> UInt64 {
        try lock.withWriteLock { () throws(EdgeVecError) -> UInt64 in try _addBatch(values, ids: ids) }
    }

    func _addBatch(_ values: UnsafeBufferPointer<Float>, ids: UnsafeBufferPointer<UInt64>?) throws(EdgeVecError) -> UInt64 {
        guard values.count % dimension == 0 else { throw .dimensionMismatch(expected: dimension, actual: values.count) }
        let rows = values.count / dimension
        let first = try slots._firstID(rows: rows, ids: ids)
        if rows == 0 { return first }
        try _Validation.checkRows(values, dimension: dimension, metric: metric)
        let fresh = rows - Swift.min(rows, slots.freeCount)
        let (total, overflow) = slotCount.addingReportingOverflow(fresh)
        guard !overflow, total <= Limits.maxCount else { throw .capacityExceeded }
        guard vectors.reserve(total, using: allocator), slots.reserve(slots: total, using: allocator)
        else { throw .outOfMemory }
        for row in 0..<rows {
            let source = values.baseAddress! + row * dimension
            let scale = _Validation.scale(source, dimension, metric)
            let id = ids?[row] ?? first &+ UInt64(row)
            if let slot = slots.takeFreeSlot(for: id) {
                vectors.replace(at: slot, source, scale: scale)
                slots.restore(slot)
            } else {
                vectors.append(source, scale: scale)
                slots.append(id)
            }
        }
        filtering.store.extend(to: slotCount)
        return first
    }

    @discardableResult
    public func addBatch(_ values: [Float], ids: [UInt64]? = nil) throws(EdgeVecError) -> UInt64 {
        try values.withUnsafeBufferPointer { (buffer) throws(EdgeVecError) -> UInt64 in
            guard let ids else { return try addBatch(buffer) }
            return try ids.withUnsafeBufferPointer { (keys) throws(EdgeVecError) -> UInt64 in
                try addBatch(buffer, ids: keys)
            }
        }
    }

    /// Removes the vector with `id`; false when none has it. Its slot is
    /// skipped by searches and reused by the next insert.
    /// - Complexity: O(1), plus a compaction past `compactionThreshold`.
    @discardableResult
    public func remove(_ id: UInt64) -> Bool {
        lock.withWriteLock { _remove(id) }
    }

    func _remove(_ id: UInt64) -> Bool {
        guard let slot = slots.remove(id) else { return false }
        slots.freePending()         // nothing links to a slot: free at once
        if slot < filtering.store.slotCount { filtering.store.clear(slot) }
        if slots.liveCount == 0 {
            let next = slots.nextID
            vectors.release(using: allocator)
            slots.release(using: allocator)
            filtering.store = MetadataStore()
            slots.nextID = next
        } else if Double(slots.removedSlotCount) > _compactionThreshold * Double(slotCount) {
            try? _compact()
        }
        return true
    }

    /// Replaces the vector of `id` in place.
    /// - Throws: `unknownId`, or as `add`; the index is unchanged on any throw.
    public func update(_ id: UInt64, _ vector: UnsafeBufferPointer<Float>) throws(EdgeVecError) {
        try lock.withWriteLock { () throws(EdgeVecError) in
            guard vector.count == dimension else { throw .dimensionMismatch(expected: dimension, actual: vector.count) }
            guard let slot = slots.slot(for: id) else { throw .unknownId(id) }
            try _Validation.checkRows(vector, dimension: dimension, metric: metric)
            vectors.replace(at: slot, vector.baseAddress!, scale: _Validation.scale(vector.baseAddress!, dimension, metric))
        }
    }

    public func update(_ id: UInt64, _ vector: [Float]) throws(EdgeVecError) {
        try vector.withUnsafeBufferPointer { (buffer) throws(EdgeVecError) in try update(id, buffer) }
    }

    /// Copies the live vectors into dense slots; ids do not change.
    /// - Throws: `outOfMemory` (the index is unchanged).
    public func compact() throws(EdgeVecError) {
        try lock.withWriteLock { () throws(EdgeVecError) in try _compact() }
    }

    func _compact() throws(EdgeVecError) {
        if slots.removedSlotCount == 0 { return }
        let count = slots.liveCount
        var dense = VectorStorage(dimension: dimension)
        var table = SlotTable()
        guard dense.reserveExactly(count, using: allocator), table.reserve(slots: count, exactly: true, using: allocator)
        else {
            dense.release(using: allocator)
            table.release(using: allocator)
            throw .outOfMemory
        }
        var live: [Int] = []
        for s in 0..<slotCount where !slots.isRemoved(s) {
            dense.append(vectors.pointer(at: s))     // stored vectors are final: scale 1
            table.append(slots.id(at: s))
            if !filtering.store.isEmpty { live.append(s) }
        }
        filtering.store = filtering.store.isEmpty ? MetadataStore() : filtering.store.compacted(keeping: live)
        table.nextID = slots.nextID
        vectors.release(using: allocator)
        slots.release(using: allocator)
        vectors = dense
        slots = table
    }

    /// Whether a vector has `id`.
    public func contains(_ id: UInt64) -> Bool { lock.withReadLock { slots.slot(for: id) != nil } }

    /// A copy of the vector of `id` (cosine: normalised, as stored), or nil.
    public func vector(for id: UInt64) -> [Float]? {
        lock.withReadLock {
            guard let s = slots.slot(for: id) else { return nil }
            return Array(UnsafeBufferPointer(start: vectors.pointer(at: s), count: dimension))
        }
    }

    /// The live ids, in slot order; see `HNSWIndex.ids`.
    public var ids: LiveIDs { lock.withReadLock { LiveIDs(slots) } }

    /// The id the next `add` without one assigns.
    public var nextID: UInt64 { lock.withReadLock { slots.nextID } }

    /// The exact `k` nearest vectors, nearest first (ties: lower id first not guaranteed).
    /// `ef` is accepted for API symmetry, validated, and ignored. Searches
    /// run at once, like `HNSWIndex`'s.
    /// - Complexity: O(n · dimension + n · log k).
    public func search(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil) throws(EdgeVecError) -> [SearchResult] {
        try _searching(query, k: k, ef: ef, filter: nil) { s, n in s.sortedResults(n, slots: slots) }
    }

    public func search(_ query: [Float], k: Int, ef: Int? = nil) throws(EdgeVecError) -> [SearchResult] {
        try query.withUnsafeBufferPointer { (buffer) throws(EdgeVecError) -> [SearchResult] in
            try search(buffer, k: k, ef: ef)
        }
    }

    /// Allocation-free search into caller buffers with room for `k`; returns the count.
    public func search(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil,
                       ids: UnsafeMutablePointer<UInt64>, distances: UnsafeMutablePointer<Float>) throws(EdgeVecError) -> Int {
        try _searching(query, k: k, ef: ef, filter: nil) { s, n in
            s.copySortedResults(n, slots: slots, ids: ids, distances: distances)
        }
    }

    /// Validates `k` and `ef` (which a flat search ignores); returns `k`.
    func _checkSearch(k: Int, ef: Int?) throws(EdgeVecError) -> Int {
        try _Validation.checkK(k)
        if let ef { try _Validation.checkEf(ef, .ef) }
        return k
    }

    /// Sizes `s` for min(`beam`, count) results.
    func _reserve(_ s: inout _SearchScratch, beam: Int) -> Bool {
        s.reserve(nodes: 0, ef: min(beam, slots.liveCount), degree: 0, stride: vectors.stride, allocator: allocator)
    }

    /// Searches a validated query, through `filter` if any, in `s`; leaves
    /// the results in `s.sorted` and returns how many.
    func _search(_ query: UnsafeBufferPointer<Float>, k: Int, beam: Int, filter: Filter?,
                 in s: inout _SearchScratch) -> Int {
        if slots.liveCount == 0 { return 0 }
        let q = UnsafePointer(s.query.base!)
        _Validation.prepareQuery(query, into: s.query.base!, metric: metric)
        if let filter {
            if _matching(filter, in: &s) == 0 { return 0 }
            let bits = s.filter.bits
            bits.withUnsafeBufferPointer { bits in
                switch metric {
                case .l2: _scanMatching(_L2Kernel.self, q, k: k, bits: bits, vectors: vectors, results: &s.results)
                case .cosine: _scanMatching(_CosineKernel.self, q, k: k, bits: bits, vectors: vectors, results: &s.results)
                case .dot: _scanMatching(_DotKernel.self, q, k: k, bits: bits, vectors: vectors, results: &s.results)
                }
            }
            return s.drainResults()
        }
        let keep = min(k, slots.liveCount)
        switch metric {
        case .l2: _scan(_L2Kernel.self, q, keep: keep, in: &s)
        case .cosine: _scan(_CosineKernel.self, q, keep: keep, in: &s)
        case .dot: _scan(_DotKernel.self, q, keep: keep, in: &s)
        }
        return s.drainResults()
    }

    func _scan<K: _DistanceKernel>(_ kernel: K.Type, _ q: UnsafePointer<Float>, keep: Int, in s: inout _SearchScratch) {
        s.results.removeAll()
        let stride = vectors.stride
        let skipping = slots.removedCount > 0
        for id in 0..<slotCount {
            if skipping && slots.isRemoved(id) { continue }
            let d = K.distance(q, vectors.pointer(at: id), stride)
            if s.results.count < keep {
                s.results.push(_Candidate(d, UInt32(id)))
            } else if d < s.results.top.distance {
                s.results.replaceTop(_Candidate(d, UInt32(id)))
            }
        }
    }
}
