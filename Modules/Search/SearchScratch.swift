import EdgeVecAllocators
import EdgeVecConcurrency
import EdgeVecFilter
import EdgeVecStorage

/// A candidate: a node id and its distance to the query.
@usableFromInline
struct _Candidate: BitwiseCopyable {
    @usableFromInline var distance: Float
    @usableFromInline var id: UInt32
    @inlinable init(_ distance: Float, _ id: UInt32) {
        self.distance = distance
        self.id = id
    }
}

extension _Candidate {
    /// (distance, id) packed so that comparing two keys as integers compares
    /// the distances as floats and breaks ties by id, with no branch: the
    /// float's bits are mapped to an order-preserving unsigned value (sign
    /// bit set for non-negative floats, all bits flipped for negative ones),
    /// −0 first becoming +0 so that the two still tie. Distances are never
    /// NaN (inputs are validated).
    @inlinable @inline(__always)
    var _key: UInt64 {
        let bits = (distance + 0).bitPattern
        let flip = UInt32(bitPattern: Int32(bitPattern: bits) &>> 31) | 0x8000_0000
        return UInt64(bits ^ flip) &<< 32 | UInt64(id)
    }

    @inlinable @inline(__always)
    init(_key key: UInt64) {
        let high = UInt32(truncatingIfNeeded: key &>> 32)
        let bits = high & 0x8000_0000 != 0 ? high ^ 0x8000_0000 : ~high
        self.init(Float(bitPattern: bits), UInt32(truncatingIfNeeded: key))
    }
}

/// Which end of a `_CandidateHeap` is on top, fixed at compile time so the
/// sift loops carry no order test.
@usableFromInline
protocol _HeapOrder {
    static func before(_ a: UInt64, _ b: UInt64) -> Bool
}

/// Nearest (smallest distance, then smallest id) on top.
@usableFromInline
enum _NearestFirst: _HeapOrder {
    @inlinable @inline(__always) static func before(_ a: UInt64, _ b: UInt64) -> Bool { a < b }
}

/// Farthest (largest distance, then largest id) on top.
@usableFromInline
enum _FarthestFirst: _HeapOrder {
    @inlinable @inline(__always) static func before(_ a: UInt64, _ b: UInt64) -> Bool { a > b }
}

/// A binary heap of candidates over reused memory, ordered by (distance, id)
/// so that which of several equidistant nodes is explored or kept never
/// depends on heap history. Entries are stored as `_Candidate._key`, so each
/// comparison is one integer compare. Capacity is reserved before a search
/// starts, so pushes never allocate.
@usableFromInline
struct _CandidateHeap<Order: _HeapOrder> {
    @usableFromInline var storage = _UnsafeGrowableBuffer<UInt64>()
    @usableFromInline var count = 0

    @inlinable init() {}

    @inlinable var top: _Candidate { _Candidate(_key: storage[0]) }

    @inlinable
    mutating func push(_ c: _Candidate) {
        let p = storage.base.unsafelyUnwrapped
        let key = c._key
        var i = count
        count &+= 1
        while i > 0 {
            let parent = (i &- 1) &>> 1
            if !Order.before(key, p[parent]) { break }
            p[i] = p[parent]
            i = parent
        }
        p[i] = key
    }

    @inlinable @discardableResult
    mutating func pop() -> _Candidate {
        let p = storage.base.unsafelyUnwrapped
        let result = p[0]
        count &-= 1
        if count > 0 { _siftDown(p[count], from: 0) }
        return _Candidate(_key: result)
    }

    /// Replaces the top with `c` in one sift (a push followed by a pop of the
    /// top, when `c` does not come before the top itself).
    /// - Precondition: `count > 0` and `Order.before(top, c)`.
    @inlinable
    mutating func replaceTop(_ c: _Candidate) {
        _siftDown(c._key, from: 0)
    }

    @inlinable
    mutating func _siftDown(_ key: UInt64, from start: Int) {
        let p = storage.base.unsafelyUnwrapped
        var i = start
        while true {
            var child = 2 &* i &+ 1
            if child >= count { break }
            if child &+ 1 < count && Order.before(p[child &+ 1], p[child]) { child &+= 1 }
            if !Order.before(p[child], key) { break }
            p[i] = p[child]
            i = child
        }
        p[i] = key
    }

    /// Keeps only the candidates for which `keep` holds, then restores the heap.
    @inlinable
    mutating func filter(_ keep: (_Candidate) -> Bool) {
        let p = storage.base.unsafelyUnwrapped
        var n = 0
        for i in 0..<count where keep(_Candidate(_key: p[i])) {
            p[n] = p[i]
            n &+= 1
        }
        count = n
        var i = n / 2
        while i > 0 {
            i -= 1
            _siftDown(p[i], from: i)
        }
    }

    @inlinable mutating func removeAll() { count = 0 }

    /// Becomes a heap of the `n` keys of `other` (any order), in O(n).
    /// - Precondition: room for `n` keys.
    @inlinable
    mutating func assign<O: _HeapOrder>(_ other: _CandidateHeap<O>) {
        let n = other.count
        _copyElements(n, from: other.storage.base.unsafelyUnwrapped, to: storage.base.unsafelyUnwrapped)
        count = n
        let p = storage.base.unsafelyUnwrapped
        var i = n / 2
        while i > 0 {
            i -= 1
            _siftDown(p[i], from: i)
        }
    }
}

/// What one search or insert works in: an epoch-stamped visited set, the two
/// beam-search heaps, a padded query buffer, buffers for neighbour selection
/// and a filtered search's bitmap. Sized before each operation, so the hot
/// loops never allocate. An index keeps one for its changes and a pool of
/// them for searches (`_ScratchPool`), so searches can run at once.
@usableFromInline
struct _SearchScratch {
    @usableFromInline var visited = _UnsafeGrowableBuffer<UInt32>()
    @usableFromInline var epoch: UInt32 = 0
    @usableFromInline var candidates = _CandidateHeap<_NearestFirst>()
    @usableFromInline var results = _CandidateHeap<_FarthestFirst>()
    /// Sorted layer results, then the selected subset.
    @usableFromInline var sorted = _UnsafeGrowableBuffer<_Candidate>()
    /// While an insert reads a layer's results: the first `sortedCount`
    /// entries of `sorted` are in place, the rest wait in `candidates`
    /// (see `HNSWIndex._beginAscending`).
    @usableFromInline var sortedCount = 0
    @usableFromInline var selected = _UnsafeGrowableBuffer<_Candidate>()
    @usableFromInline var ids = _UnsafeGrowableBuffer<UInt32>()
    /// The new node's chosen neighbours while links back to it are made
    /// (linking reuses `sorted`, `selected` and `ids`).
    @usableFromInline var links = _UnsafeGrowableBuffer<_Candidate>()
    @usableFromInline var query = _UnsafeGrowableBuffer<Float>()
    /// Unvisited neighbours of the node a beam search is expanding.
    @usableFromInline var pending = _UnsafeGrowableBuffer<UInt32>()
    /// Keeps the loads that fetch vectors ahead on wasm (see `_prefetchVector`).
    @usableFromInline var touched: Float = 0
    /// A filtered search's bitmap and evaluation buffers.
    var filter = FilterMatches()

    @usableFromInline init() {}

    /// Bytes held by the buffers.
    var allocatedBytes: Int {
        visited.allocatedBytes + candidates.storage.allocatedBytes + results.storage.allocatedBytes
            + sorted.allocatedBytes + selected.allocatedBytes + ids.allocatedBytes + links.allocatedBytes
            + query.allocatedBytes + pending.allocatedBytes + filter.allocatedBytes
    }

    /// Candidate-heap entries a beam of `ef` may hold before it purges the
    /// ones that can no longer improve the results (see `_searchLayer`).
    /// A function of `ef` alone, so results never depend on scratch history.
    @inlinable
    static func candidateLimit(ef: Int, degree: Int) -> Int { 4 &* Swift.max(ef, degree &+ 1) }

    /// Entries of `links` an insert at `levels` needs: its choices on every
    /// layer are kept until all its lists are set (see `HNSWIndex._link`),
    /// at most `degree + 1` per layer. Room for 4 levels at least, so that the
    /// buffer does not grow with the first few levels of a build (a level
    /// above 4 comes once in M⁵ inserts).
    @inlinable
    static func linkRoom(levels: Int, degree: Int) -> Int { (Swift.max(levels, 4) &+ 2) &* (degree &+ 1) }

    /// Makes room for `nodes` visited stamps, an `ef`-wide beam, neighbour
    /// lists of `degree`, a query of `stride` floats, and (inserts) the
    /// choices of a node on `levels + 1` layers (see `linkRoom`).
    /// - Returns: `false` when memory is exhausted (nothing else changes).
    /// Not inlined: once per search or reservation, and each of its three
    /// inlined copies cost the wasm module about 400 bytes.
    @usableFromInline @inline(never)
    mutating func reserve(nodes: Int, ef: Int, degree: Int, stride: Int, levels: Int = 0,
                          allocator: RawAllocator) -> Bool {
        let heap = _SearchScratch.candidateLimit(ef: ef, degree: degree) &+ 1
        let beam = 2 &* Swift.max(ef, degree &+ 1) &+ 2
        guard visited.reserve(nodes, preserving: visited.capacity, using: allocator),
              candidates.storage.reserve(heap, preserving: 0, using: allocator),
              results.storage.reserve(beam, preserving: 0, using: allocator),
              sorted.reserve(beam, preserving: 0, using: allocator),
              selected.reserve(beam, preserving: 0, using: allocator),
              ids.reserve(beam, preserving: 0, using: allocator),
              links.reserve(Swift.max(beam, _SearchScratch.linkRoom(levels: levels, degree: degree)), preserving: 0,
                            using: allocator),
              query.reserve(stride, preserving: 0, using: allocator),
              pending.reserve(degree &+ 1, preserving: 0, using: allocator)
        else { return false }
        return true
    }

    /// Makes the first `n` ascending layer results readable in `sorted`.
    /// - Precondition: `n` is at most the count `_beginAscending` returned.
    @inlinable @inline(__always)
    mutating func ensureSorted(_ n: Int) {
        while sortedCount < n {
            sorted[sortedCount] = candidates.pop()
            sortedCount &+= 1
        }
    }

    /// Starts a new visited generation; clears the stamps when the counter wraps.
    @inlinable
    mutating func nextEpoch() {
        epoch &+= 1
        if epoch == 0 {
            visited.base?.update(repeating: 0, count: visited.capacity)
            epoch = 1
        }
    }

    /// Empties the results heap into `sorted`, ascending; returns the count.
    mutating func drainResults() -> Int {
        let n = results.count
        let out = sorted.base.unsafelyUnwrapped
        var i = n
        while i > 0 {
            i -= 1
            out[i] = results.pop()
        }
        return n
    }

    /// The first `n` entries of `sorted` as public results, slots turned
    /// into ids through `slots` (nil: the slot is the id, a flat index).
    func sortedResults(_ n: Int, slots: SlotTable? = nil) -> [SearchResult] {
        var out: [SearchResult] = []
        out.reserveCapacity(n)
        for i in 0..<n {
            let slot = Int(sorted[i].id)
            out.append(SearchResult(id: slots?.id(at: slot) ?? UInt64(slot), distance: sorted[i].distance))
        }
        return out
    }

    /// Copies the first `n` entries of `sorted` to caller buffers; returns `n`.
    func copySortedResults(_ n: Int, slots: SlotTable? = nil, ids: UnsafeMutablePointer<UInt64>,
                           distances: UnsafeMutablePointer<Float>) -> Int {
        for i in 0..<n {
            let slot = Int(sorted[i].id)
            ids[i] = slots?.id(at: slot) ?? UInt64(slot)
            distances[i] = sorted[i].distance
        }
        return n
    }

    mutating func release(using allocator: RawAllocator) {
        visited.release(using: allocator)
        candidates.storage.release(using: allocator)
        results.storage.release(using: allocator)
        sorted.release(using: allocator)
        selected.release(using: allocator)
        ids.release(using: allocator)
        links.release(using: allocator)
        query.release(using: allocator)
        pending.release(using: allocator)
    }
}

#if hasFeature(Embedded)
/// The wasm module's `_ScratchPool`: one thread, so one scratch, lent to
/// each search in turn.
final class _ScratchPool {
    private var scratch: UnsafeMutablePointer<_SearchScratch>? = nil

    func take(_ reserve: (inout _SearchScratch) -> Bool) -> UnsafeMutablePointer<_SearchScratch>? {
        let s = scratch ?? _first()
        return reserve(&s.pointee) ? s : nil
    }

    /// The scratch, made by the first `take`. Not inlined into each search.
    @inline(never)
    private func _first() -> UnsafeMutablePointer<_SearchScratch> {
        let s = UnsafeMutablePointer<_SearchScratch>.allocate(capacity: 1)
        s.initialize(to: _SearchScratch())
        scratch = s
        return s
    }

    func give(_ s: UnsafeMutablePointer<_SearchScratch>) {}

    func prepare(_ reserve: (inout _SearchScratch) -> Bool) -> Bool { take(reserve) != nil }

    var allocatedBytes: Int { scratch?.pointee.allocatedBytes ?? 0 }

    func release(using allocator: RawAllocator) {
        guard let s = scratch else { return }
        s.pointee.release(using: allocator)
        s.deinitialize(count: 1)
        s.deallocate()
        scratch = nil
    }
}
#else
/// Scratch for searches that run at once: each search takes one, works in
/// it and gives it back. The pool grows to the most searches that ever ran
/// at once, and each scratch to the largest search it served, so searches
/// in steady state allocate nothing. (hnswlib's visited-list pool, for the
/// whole scratch.)
final class _ScratchPool {
    private let lock = Lock()
    private var free: [UnsafeMutablePointer<_SearchScratch>] = []
    private var all: [UnsafeMutablePointer<_SearchScratch>] = []

    /// A scratch for the caller's use alone, sized by `reserve` (which runs
    /// under the pool's lock, so the index allocator is never called from
    /// two searches at once), or nil when memory is exhausted.
    func take(_ reserve: (inout _SearchScratch) -> Bool) -> UnsafeMutablePointer<_SearchScratch>? {
        lock.withLock {
            let s: UnsafeMutablePointer<_SearchScratch>
            if let last = free.popLast() {
                s = last
            } else {
                s = .allocate(capacity: 1)
                s.initialize(to: _SearchScratch())
                all.append(s)
                free.reserveCapacity(all.count)     // `give` never allocates
            }
            if reserve(&s.pointee) { return s }
            free.append(s)
            return nil
        }
    }

    /// Sizes one scratch with `reserve` ahead of the searches, so that the
    /// next search (one at a time) allocates nothing; false when memory is exhausted.
    func prepare(_ reserve: (inout _SearchScratch) -> Bool) -> Bool {
        guard let s = take(reserve) else { return false }
        give(s)
        return true
    }

    /// Gives back a scratch that `take` returned.
    func give(_ s: UnsafeMutablePointer<_SearchScratch>) {
        lock.withLock { free.append(s) }
    }

    /// Bytes held by the pool's scratch buffers.
    var allocatedBytes: Int {
        lock.withLock { all.reduce(0) { $0 + $1.pointee.allocatedBytes } }
    }

    /// Frees every scratch; none may be taken.
    func release(using allocator: RawAllocator) {
        lock.withLock {
            for s in all {
                s.pointee.release(using: allocator)
                s.deinitialize(count: 1)
                s.deallocate()
            }
            all.removeAll()
            free.removeAll()
        }
    }
}
#endif

/// Sorts `a` ascending in place: heapsort, no allocation, O(n log n). The
/// standard library's `sort()` is a merge sort with a scratch buffer, and its
/// specialisations cost the wasm module 4.5 KB; the two callers (a purge of
/// the candidate heap, duplicate ids in a batch) sort distinct 64-bit keys, so
/// stability does not matter and the result is the same.
func _sortAscending(_ a: UnsafeMutableBufferPointer<UInt64>) {
    guard a.count > 1, let p = a.baseAddress else { return }
    func siftDown(_ start: Int, _ end: Int) {
        var root = start
        while true {
            var child = 2 &* root &+ 1
            if child >= end { return }
            if child &+ 1 < end && p[child] < p[child &+ 1] { child &+= 1 }
            if p[root] >= p[child] { return }
            let t = p[root]
            p[root] = p[child]
            p[child] = t
            root = child
        }
    }
    var start = a.count / 2
    while start > 0 {
        start -= 1
        siftDown(start, a.count)
    }
    var end = a.count - 1
    while end > 0 {
        let t = p[0]
        p[0] = p[end]
        p[end] = t
        siftDown(0, end)
        end -= 1
    }
}
