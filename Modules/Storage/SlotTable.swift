import EdgeVecAllocators

/// Which caller id each storage slot holds, and which slots are free.
///
/// Slots are the dense positions of vectors and graph nodes (0..<slotCount);
/// ids are the caller's (0...maxID). The table keeps
///
/// - `keys`: slot → id (`removedKey` for a free slot);
/// - a bitset of removed slots, read by searches (a 50k-slot index's bitset
///   is 6 KiB and stays in L1);
/// - the removed slots not yet consolidated (*pending*: other nodes may still
///   link to them), and a stack of *free* slots, consolidated, which later
///   inserts reuse last-freed first;
/// - an open-addressing hash index id → slot (linear probing, load ≤ ½,
///   backward-shift deletion, so no tombstones in the hash).
///
/// Like `VectorStorage`, a value that does not own itself: the owner calls
/// `release(using:)` with the allocator it reserved with.
public struct SlotTable {
    /// The largest id: every id is an exact JavaScript number (2⁵³ − 1).
    public static let maxID: UInt64 = (1 << 53) - 1
    /// What `keys` holds for a free slot (above every id).
    public static let removedKey: UInt64 = .max

    /// Slots in use, live or free.
    public private(set) var slotCount = 0
    /// Slots whose removed bit is set: pending and free ones, plus one being
    /// linked again after `takeFreeSlot`.
    public private(set) var removedCount = 0
    /// Ids assigned when the caller gives none start here: one above every id held so far.
    public var nextID: UInt64 = 0

    @usableFromInline var _keys = _UnsafeGrowableBuffer<UInt64>()
    @usableFromInline var _removed = _UnsafeGrowableBuffer<UInt64>()
    @usableFromInline var _free = _UnsafeGrowableBuffer<UInt32>()
    @usableFromInline var _freeCount = 0
    @usableFromInline var _pending = _UnsafeGrowableBuffer<UInt32>()
    @usableFromInline var _pendingCount = 0
    /// slot + 1 per entry, 0 for empty; capacity a power of two.
    @usableFromInline var _index = _UnsafeGrowableBuffer<UInt32>()

    public init() {}

    /// Consolidated slots waiting to be reused.
    @inlinable public var freeCount: Int { _freeCount }
    /// Removed slots not consolidated yet.
    @inlinable public var pendingCount: Int { _pendingCount }
    /// Slots of removed vectors: pending and free.
    @inlinable public var removedSlotCount: Int { _freeCount &+ _pendingCount }
    /// Slots holding a live vector.
    @inlinable public var liveCount: Int { slotCount &- _freeCount &- _pendingCount }

    /// Whether slot `s` is free (or being updated): searches skip it.
    /// - Precondition: `s < slotCount`.
    @inlinable @inline(__always)
    public func isRemoved(_ s: Int) -> Bool {
        (_removed.base.unsafelyUnwrapped[s &>> 6] &>> UInt64(s & 63)) & 1 != 0
    }

    /// The id slot `s` holds (`removedKey` when free).
    @inlinable @inline(__always)
    public func id(at s: Int) -> UInt64 { _keys.base.unsafelyUnwrapped[s] }

    /// One bit per slot, set for removed ones (`(slotCount + 63) / 64`
    /// words), or nil when none is: what filtered searches leave out.
    public var removedBits: UnsafeBufferPointer<UInt64>? {
        guard removedCount > 0, let removed = _removed.base else { return nil }
        return UnsafeBufferPointer(start: removed, count: (slotCount &+ 63) &>> 6)
    }

    /// The slot holding `id`, or nil.
    /// - Complexity: O(1) expected.
    @inlinable
    public func slot(for id: UInt64) -> Int? {
        guard let index = _index.base else { return nil }
        let mask = _index.capacity &- 1
        var i = Int(truncatingIfNeeded: SlotTable._hash(id)) & mask
        while true {
            let entry = index[i]
            if entry == 0 { return nil }
            let s = Int(entry &- 1)
            if _keys.base.unsafelyUnwrapped[s] == id { return s }
            i = (i &+ 1) & mask
        }
    }

    /// Slots that fit without growing (the hash index kept at most half full).
    public var capacity: Int {
        Swift.min(_keys.capacity, _free.capacity, _pending.capacity, _index.capacity / 2, _removed.capacity &* 64)
    }

    /// Makes room for `slots` slots in all, so that the mutations below
    /// cannot fail.
    /// - Returns: `false` (table unchanged in content) when memory is exhausted.
    public mutating func reserve(slots: Int, exactly: Bool = false, using allocator: RawAllocator) -> Bool {
        let words = (slots &+ 63) &>> 6
        let grown = exactly
            ? _keys.reserveExactly(slots, preserving: slotCount, using: allocator)
                && _removed.reserveExactly(words, preserving: (slotCount &+ 63) &>> 6, using: allocator)
                && _free.reserveExactly(slots, preserving: _freeCount, using: allocator)
                && _pending.reserveExactly(slots, preserving: _pendingCount, using: allocator)
            : _keys.reserve(slots, preserving: slotCount, using: allocator)
                && _removed.reserve(words, preserving: (slotCount &+ 63) &>> 6, using: allocator)
                && _free.reserve(slots, preserving: _freeCount, using: allocator)
                && _pending.reserve(slots, preserving: _pendingCount, using: allocator)
        return grown && _reserveIndex(slots, using: allocator)
    }

    /// Grows the hash index to keep the load at most ½, rehashing live ids.
    mutating func _reserveIndex(_ slots: Int, using allocator: RawAllocator) -> Bool {
        var size = 16
        while size < slots &* 2 { size &<<= 1 }
        if size <= _index.capacity { return true }
        var fresh = _UnsafeGrowableBuffer<UInt32>()
        guard fresh.reserveExactly(size, preserving: 0, using: allocator) else { return false }
        _index.release(using: allocator)
        _index = fresh
        for s in 0..<slotCount where !isRemoved(s) { _indexInsert(id(at: s), slot: s) }
        return true
    }

    /// Appends a slot holding `id`; returns it.
    /// - Precondition: room reserved, `id` absent and ≤ `maxID`.
    @discardableResult
    public mutating func append(_ id: UInt64) -> Int {
        let s = slotCount
        precondition(s < _keys.capacity, "reserve before append")
        slotCount &+= 1
        _keys[s] = id
        _setRemoved(s, false)
        _indexInsert(id, slot: s)
        _noteID(id)
        return s
    }

    /// Takes the most recently freed slot for `id`; returns it, or nil when none is free.
    /// The slot stays marked removed until `restore(_:)`, so that linking it
    /// cannot find it.
    /// - Precondition: `id` absent and ≤ `maxID`.
    public mutating func takeFreeSlot(for id: UInt64) -> Int? {
        guard _freeCount > 0 else { return nil }
        _freeCount &-= 1
        let s = Int(_free[_freeCount])
        _keys[s] = id
        _indexInsert(id, slot: s)
        _noteID(id)
        return s
    }

    /// Forgets `id` and marks its slot removed, pending; returns the slot.
    public mutating func remove(_ id: UInt64) -> Int? {
        guard let s = slot(for: id) else { return nil }
        _indexDelete(s)
        _keys[s] = SlotTable.removedKey
        _setRemoved(s, true)
        _pending[_pendingCount] = UInt32(truncatingIfNeeded: s)
        _pendingCount &+= 1
        return s
    }

    /// Moves every pending slot onto the free stack, in removal order: the
    /// owner has unlinked them.
    public mutating func freePending() {
        for i in 0..<_pendingCount {
            _free[_freeCount] = _pending[i]
            _freeCount &+= 1
        }
        _pendingCount = 0
    }

    /// Clears the removed mark of a slot taken above.
    public mutating func restore(_ s: Int) { _setRemoved(s, false) }

    /// The free slots, last-freed at the end (serialisation).
    public var freeSlots: UnsafeBufferPointer<UInt32> {
        UnsafeBufferPointer(start: _free.base, count: _freeCount)
    }

    /// The pending slots, in removal order (serialisation).
    public var pendingSlots: UnsafeBufferPointer<UInt32> {
        UnsafeBufferPointer(start: _pending.base, count: _pendingCount)
    }

    /// Bytes held.
    public var allocatedBytes: Int {
        _keys.allocatedBytes + _removed.allocatedBytes + _free.allocatedBytes + _pending.allocatedBytes
            + _index.allocatedBytes
    }

    /// Returns the memory to `allocator` and empties the table (`nextID` stays).
    public mutating func release(using allocator: RawAllocator) {
        _keys.release(using: allocator)
        _removed.release(using: allocator)
        _free.release(using: allocator)
        _pending.release(using: allocator)
        _index.release(using: allocator)
        slotCount = 0
        removedCount = 0
        _freeCount = 0
        _pendingCount = 0
    }

    // MARK: Loading

    /// Appends a slot read from a file: `id` is an id or `removedKey`.
    /// - Returns: false when `id` is above `maxID` (but not `removedKey`),
    ///   already held, or not below `nextID`: the file is corrupt.
    /// - Precondition: room reserved.
    public mutating func appendLoaded(_ id: UInt64) -> Bool {
        if id == SlotTable.removedKey {
            let s = slotCount
            slotCount &+= 1
            _keys[s] = id
            _setRemoved(s, true)
            return true
        }
        guard id <= SlotTable.maxID, id < nextID, slot(for: id) == nil else { return false }
        let keep = nextID
        append(id)
        nextID = keep
        return true
    }

    /// Pushes a removed slot read from a file onto the free stack, or
    /// (`pending`) the pending list.
    /// - Returns: false unless `s` is a removed slot not pushed yet (each
    ///   removed slot must be pushed exactly once; `finishLoading` checks the count).
    public mutating func pushLoaded(_ s: UInt32, pending: Bool) -> Bool {
        // Compared before it becomes an `Int`: in wasm32 `Int(s)` traps from 2³¹ on.
        guard s < UInt32(truncatingIfNeeded: slotCount) else { return false }
        let slot = Int(s)
        guard _keys[slot] == SlotTable.removedKey else { return false }
        // Mark pushed slots by a distinct key so a second push is caught.
        _keys[slot] = SlotTable.removedKey &- 1
        if pending {
            _pending[_pendingCount] = s
            _pendingCount &+= 1
        } else {
            _free[_freeCount] = s
            _freeCount &+= 1
        }
        return true
    }

    /// After `pushLoaded`: every removed slot was pushed (else false);
    /// restores their keys.
    public mutating func finishLoading() -> Bool {
        if removedSlotCount != removedCount { return false }
        for i in 0..<_freeCount { _keys[Int(_free[i])] = SlotTable.removedKey }
        for i in 0..<_pendingCount { _keys[Int(_pending[i])] = SlotTable.removedKey }
        return true
    }

    // MARK: Private

    @inlinable @inline(__always)
    static func _hash(_ id: UInt64) -> UInt64 {
        var z = id &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z &>> 31)
    }

    mutating func _noteID(_ id: UInt64) {
        if id >= nextID { nextID = id &+ 1 }
    }

    mutating func _setRemoved(_ s: Int, _ removed: Bool) {
        let bit = UInt64(1) &<< UInt64(s & 63)
        let word = _removed[s &>> 6]
        let was = word & bit != 0
        if was == removed { return }
        _removed[s &>> 6] = removed ? word | bit : word & ~bit
        removedCount &+= removed ? 1 : -1
    }

    mutating func _indexInsert(_ id: UInt64, slot s: Int) {
        let index = _index.base.unsafelyUnwrapped
        let mask = _index.capacity &- 1
        var i = Int(truncatingIfNeeded: SlotTable._hash(id)) & mask
        while index[i] != 0 { i = (i &+ 1) & mask }
        index[i] = UInt32(truncatingIfNeeded: s &+ 1)
    }

    /// Removes slot `s`'s entry and shifts later entries of its probe run
    /// back, so that lookups never need tombstones.
    mutating func _indexDelete(_ s: Int) {
        let index = _index.base.unsafelyUnwrapped
        let mask = _index.capacity &- 1
        var i = Int(truncatingIfNeeded: SlotTable._hash(id(at: s))) & mask
        while Int(index[i]) != s &+ 1 { i = (i &+ 1) & mask }
        var hole = i
        var j = (i &+ 1) & mask
        while index[j] != 0 {
            let home = Int(truncatingIfNeeded: SlotTable._hash(id(at: Int(index[j] &- 1)))) & mask
            // Move j into the hole unless its home lies cyclically in (hole, j].
            let stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j)
            if !stays {
                index[hole] = index[j]
                hole = j
            }
            j = (j &+ 1) & mask
        }
        index[hole] = 0
    }
}
