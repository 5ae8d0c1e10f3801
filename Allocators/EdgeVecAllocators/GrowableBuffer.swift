import _EdgeVecCShims

/// A growable run of trivial elements in allocator memory, for the index's
/// storage, neighbour blocks and scratch. It does not own itself: the owner
/// calls `release(using:)` with the same allocator, once.
///
/// Growth is geometric (×2) and all-or-nothing: when the allocator fails, the
/// buffer is left exactly as it was and `reserve` returns `false`.
public struct _UnsafeGrowableBuffer<Element: BitwiseCopyable> {
    @usableFromInline var _base: UnsafeMutablePointer<Element>?
    @usableFromInline var _capacity: Int

    /// Start of the memory, `nil` before the first reservation.
    @inlinable public var base: UnsafeMutablePointer<Element>? { _base }
    /// Elements that fit.
    @inlinable public var capacity: Int { _capacity }

    /// Alignment of every block: a cache line, so vector slabs start aligned
    /// for any SIMD width (2 MiB natively for blocks that get huge pages).
    public static var alignment: Int { 64 }

    @inlinable
    public init() {
        _base = nil
        _capacity = 0
    }

    /// Makes room for at least `minimumCapacity` elements, keeping the first
    /// `preserving` ones. New memory is zeroed.
    /// - Returns: `false` (buffer unchanged) when memory is exhausted.
    /// - Complexity: O(`preserving`) when it grows, O(1) otherwise.
    @inlinable
    public mutating func reserve(_ minimumCapacity: Int, preserving count: Int,
                                 using allocator: RawAllocator) -> Bool {
        if minimumCapacity <= capacity { return true }
        return _grow(minimumCapacity, preserving: count, using: allocator)
    }

    /// Like `reserve`, but to exactly `capacity` elements when it must grow
    /// (for loading, where the final size is known).
    public mutating func reserveExactly(_ newCapacity: Int, preserving count: Int,
                                        using allocator: RawAllocator) -> Bool {
        if newCapacity <= capacity { return true }
        return _reallocate(newCapacity, preserving: count, using: allocator)
    }

    /// Grows geometrically: ×2, or, when that much cannot be had (near the
    /// end of wasm32's 4 GiB, where the old and the new block must coexist),
    /// ×1.5, ×1.25, ×1.125 and finally exactly `minimumCapacity`, so that a
    /// buffer can fill what memory is left instead of failing at the first
    /// doubling that does not fit (a 16,384-d index stopped at 1 GiB of
    /// vectors).
    @inline(never) @usableFromInline
    mutating func _grow(_ minimumCapacity: Int, preserving count: Int, using allocator: RawAllocator) -> Bool {
        var shift = 0   // growth factor 1 + 1/2^shift
        while shift <= 3 {
            var newCapacity = Swift.max(capacity &+ Swift.max(capacity &>> shift, 1), 16)
            while newCapacity < minimumCapacity {
                let (grown, overflow) = newCapacity.addingReportingOverflow(newCapacity &>> shift)
                newCapacity = overflow ? minimumCapacity : grown
            }
            if newCapacity <= minimumCapacity { break }
            if _reallocate(newCapacity, preserving: count, using: allocator) { return true }
            shift += 1
        }
        return _reallocate(minimumCapacity, preserving: count, using: allocator)
    }

    /// Byte counts are `UInt`: a wasm32 block may be 2 GiB or more.
    @usableFromInline
    mutating func _reallocate(_ newCapacity: Int, preserving count: Int, using allocator: RawAllocator) -> Bool {
        let stride = UInt(MemoryLayout<Element>.stride)
        let (bytes, overflow) = UInt(newCapacity).multipliedReportingOverflow(by: stride)
        guard !overflow else { return false }
        // Huge pages for big buffers natively (see _ev_huge_page_alignment):
        // 2 MiB-aligned, advised before the first touch below.
        let hugeAlignment = _ev_huge_page_alignment(bytes)
        guard let raw = allocator.allocate(byteCount: bytes,
                                           alignment: hugeAlignment > 0 ? Int(hugeAlignment) : Self.alignment)
        else { return false }
        if hugeAlignment > 0 { _ev_advise_huge_pages(raw, bytes) }
        let fresh = raw.bindMemory(to: Element.self, capacity: newCapacity)
        // Only the part the copy does not overwrite needs zeroing.
        let kept = base == nil ? 0 : Swift.min(count, capacity)
        let keptBytes = UInt(kept) &* stride
        _ev_zero(raw + Int(bitPattern: keptBytes), bytes &- keptBytes)
        if let old = base {
            // The old block and the new one coexist, so the old is under half
            // the address space: its bytes fit `Int`.
            _copyElements(kept, from: old, to: fresh)
            allocator.deallocate(UnsafeMutableRawPointer(old), byteCount: _byteCount)
        }
        _base = fresh
        _capacity = newCapacity
        return true
    }

    /// Bytes of the current block, as it was allocated.
    @usableFromInline
    var _byteCount: UInt { UInt(capacity) &* UInt(MemoryLayout<Element>.stride) }

    /// Returns the memory to `allocator`; the buffer becomes empty.
    public mutating func release(using allocator: RawAllocator) {
        if let old = base {
            allocator.deallocate(UnsafeMutableRawPointer(old), byteCount: _byteCount)
        }
        _base = nil
        _capacity = 0
    }

    /// Bytes held (clamped to `Int.max`, which a wasm32 block can exceed).
    @inlinable
    public var allocatedBytes: Int { Int(clamping: _byteCount) }

    /// Unchecked element access; `i` must be below `capacity`.
    @inlinable
    public subscript(i: Int) -> Element {
        get { base.unsafelyUnwrapped[i] }
        nonmutating set { base.unsafelyUnwrapped[i] = newValue }
    }
}

/// Copies `count` elements as one raw memcpy. Typed `update(from:count:)`
/// compiles to one outlined call per element in Embedded Swift, which made
/// every vector append and buffer growth in wasm a loop of calls.
/// - Precondition: the ranges do not overlap.
/// - Complexity: O(`count`).
@inlinable @inline(__always)
public func _copyElements<T: BitwiseCopyable>(_ count: Int, from source: UnsafePointer<T>,
                                              to destination: UnsafeMutablePointer<T>) {
    UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count &* MemoryLayout<T>.stride)
}
