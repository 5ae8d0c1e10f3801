import EdgeVecConcurrency
import EdgeVecFilter
import EdgeVecFormat
import EdgeVecStorage

/// What both index kinds give the code they share (search entry points,
/// metadata): their storage, lock and filter state, validation, scratch
/// sizing, and the add and the search themselves, each run under `lock`.
protocol _SearchableIndex: AnyObject {
    var dimension: Int { get }
    var metric: Metric { get }
    var slots: SlotTable { get }
    var lock: ReadWriteLock { get }
    var filtering: _FilterState { get set }
    var searchScratch: _ScratchPool { get }
    /// `add(_:id:)` under the write lock, which the caller holds: checks the
    /// vector and the id, adds it, returns its id; unchanged on a throw.
    func _add(_ vector: UnsafeBufferPointer<Float>, id: UInt64?) throws(EdgeVecError) -> UInt64
    /// Validates `k` and `ef`; returns the beam width a search uses.
    func _checkSearch(k: Int, ef: Int?) throws(EdgeVecError) -> Int
    /// Sizes `s` for a search with a beam of `beam`; false when memory is exhausted.
    func _reserve(_ s: inout _SearchScratch, beam: Int) -> Bool
    /// Searches a validated query in `s`, through `filter` if any; leaves
    /// the results in `s.sorted` and returns how many: min(k, live vectors
    /// that match).
    func _search(_ query: UnsafeBufferPointer<Float>, k: Int, beam: Int, filter: Filter?,
                 in s: inout _SearchScratch) -> Int
}

extension _SearchableIndex {
    /// Sets `s.filter.bits` to the live slots whose metadata satisfies
    /// `filter`; returns how many. Under the read lock: the bitmap of the
    /// last search in `s` is kept when it was for this filter and the index
    /// has not been written since (the lock counts write sections).
    func _matching(_ filter: Filter, in s: inout _SearchScratch) -> Int {
        assert(filtering.store.slotCount == slots.slotCount, "metadata not extended to every slot")
        return s.filter.update(filter, over: filtering.store, excluding: slots.removedBits, writes: lock.writes)
    }

    /// One search under the read lock, in a pooled scratch: validates,
    /// searches, and hands `finish` the scratch with the `n` results in `sorted`.
    func _searching<R>(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int?, filter: Filter?,
                       _ finish: (inout _SearchScratch, Int) -> R) throws(EdgeVecError) -> R {
        try lock.withReadLock { () throws(EdgeVecError) -> R in
            guard query.count == dimension else { throw .dimensionMismatch(expected: dimension, actual: query.count) }
            let beam = try _checkSearch(k: k, ef: ef)
            try _Validation.checkRows(query, dimension: dimension, metric: metric)
            guard let s = searchScratch.take({ _reserve(&$0, beam: beam) }) else { throw .outOfMemory }
            defer { searchScratch.give(s) }
            return finish(&s.pointee, _search(query, k: k, beam: beam, filter: filter, in: &s.pointee))
        }
    }
}
