import EdgeVecFormat
import EdgeVecStorage

// What both index kinds do with their `SlotTable`: check the ids of an
// insert, and read and write the ids part of format 2.
extension SlotTable {
    /// The first of `n` ids assigned automatically: `invalidId` when they
    /// would pass 2⁵³ − 1.
    func _assignedIDs(_ n: Int) throws(EdgeVecError) -> UInt64 {
        let first = nextID
        if first > SlotTable.maxID || n > 0 && UInt64(n - 1) > SlotTable.maxID - first { throw .invalidId(first) }
        return first
    }

    /// The first id of a batch of `rows`: `ids[0]`, after checking that
    /// there is one id per row, each in range, absent and given once; or,
    /// without `ids`, the first of `rows` assigned ids.
    func _firstID(rows: Int, ids: UnsafeBufferPointer<UInt64>?) throws(EdgeVecError) -> UInt64 {
        guard let ids else { return try _assignedIDs(rows) }
        if ids.count != rows { throw .dimensionMismatch(expected: rows, actual: ids.count) }
        try _checkNew(ids)
        return ids.first ?? nextID
    }

    /// `id` in range and absent.
    func _checkNew(_ id: UInt64) throws(EdgeVecError) {
        if id > SlotTable.maxID { throw .invalidId(id) }
        if slot(for: id) != nil { throw .duplicateId(id) }
    }

    /// Every id in range, absent, and none twice (checked on a sorted copy).
    /// - Complexity: O(b log b).
    func _checkNew(_ ids: UnsafeBufferPointer<UInt64>) throws(EdgeVecError) {
        for id in ids { try _checkNew(id) }
        if ids.count < 2 { return }
        var sorted = Array(ids)
        sorted.withUnsafeMutableBufferPointer { _sortAscending($0) }
        for i in 1..<sorted.count where sorted[i] == sorted[i - 1] { throw .duplicateId(sorted[i]) }
    }

    /// Format 2's ids part: the next id, each slot's id, the free then the pending slots.
    func _write(_ w: inout _ByteWriter) {
        w.u64(nextID)
        for s in 0..<slotCount { w.u64(id(at: s)) }
        let free = freeSlots, pending = pendingSlots
        if let p = free.baseAddress { w.words(p, free.count) }
        if let p = pending.baseAddress { w.words(p, pending.count) }
    }

    /// Reads what `_write` wrote for `header.count` slots (version 2), or
    /// assigns ids 0…n−1 (version 1). Ids must be unique, at most 2⁵³ − 1 and
    /// below the next id; the free and pending lists must name exactly the
    /// removed slots, each once.
    /// - Precondition: room reserved for `header.count` slots.
    mutating func _load(_ header: IndexFormat.Header, _ r: inout _ByteReader) throws(EdgeVecError) {
        let n = header.count
        if header.version == 1 {
            nextID = UInt64(n)
            for s in 0..<n { append(UInt64(s)) }
            return
        }
        let next = r.u64()
        if next > SlotTable.maxID + 1 { throw .corrupt(.invalidHeader(.nextID, value: next)) }
        nextID = next
        for s in 0..<n where !appendLoaded(r.u64()) { throw .corrupt(.invalidID(slot: s)) }
        for i in 0..<header.removedCount where !pushLoaded(r.u32(), pending: i >= header.freeCount) {
            throw .corrupt(.invalidFreeList)
        }
        if !finishLoading() { throw .corrupt(.invalidFreeList) }
    }
}

/// The live ids of an index (`HNSWIndex.ids`, `FlatIndex.ids`), in slot
/// order, as they were when taken: a copy, so the index may change while
/// it is iterated (from any thread).
public struct LiveIDs: Sequence, Sendable {
    let ids: [UInt64]

    init(_ slots: SlotTable) {
        // At capacity 0 `unsafeUninitializedCapacity` writes into the shared empty-array
        // singleton, a data race among threads taking snapshots of an empty index.
        guard slots.liveCount > 0 else {
            ids = []
            return
        }
        ids = [UInt64](unsafeUninitializedCapacity: slots.liveCount) { buffer, initialized in
            initialized = slots.copyLiveIDs(into: buffer.baseAddress!, capacity: buffer.count) ?? 0
        }
    }

    public func makeIterator() -> IndexingIterator<[UInt64]> { ids.makeIterator() }
    public var underestimatedCount: Int { ids.count }
}

extension SlotTable {
    /// Writes the live ids, in slot order, to `out` (room for `capacity`)
    /// and returns how many, or nil (nothing written) when they are more.
    func copyLiveIDs(into out: UnsafeMutablePointer<UInt64>, capacity: Int) -> Int? {
        guard liveCount <= capacity else { return nil }
        var n = 0
        for slot in 0..<slotCount where !isRemoved(slot) {
            out[n] = id(at: slot)
            n &+= 1
        }
        return n
    }
}
