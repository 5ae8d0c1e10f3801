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

    @inline(never) @usableFromInline
    mutating func _grow(_ minimumCapacity: Int, preserving count: Int, using allocator: RawAllocator) -> Bool {
        var newCapacity = Swift.max(capacity * 2, 16)
        while newCapacity < minimumCapacity {
            let (doubled, overflow) = newCapacity.multipliedReportingOverflow(by: 2)
            newCapacity = overflow ? minimumCapacity : doubled
        }
        return _reallocate(newCapacity, preserving: count, using: allocator)
    }

    @usableFromInline
    mutating func _reallocate(_ newCapacity: Int, preserving count: Int, using allocator: RawAllocator) -> Bool {
        let (bytes, overflow) = newCapacity.multipliedReportingOverflow(by: MemoryLayout<Element>.stride)
        guard !overflow else { return false }
        // Huge pages for big buffers natively (see _ev_huge_page_alignment):
        // 2 MiB-aligned, advised before the first touch below.
        let hugeAlignment = _ev_huge_page_alignment(bytes)
        guard let raw = allocator.allocate(byteCount: bytes,
                                           alignment: hugeAlignment > 0 ? hugeAlignment : Self.alignment)
        else { return false }
        if hugeAlignment > 0 { _ev_advise_huge_pages(raw, bytes) }
        let fresh = raw.bindMemory(to: Element.self, capacity: newCapacity)
        // Only the part the copy does not overwrite needs zeroing.
        let kept = base == nil ? 0 : Swift.min(count, capacity)
        let keptBytes = kept &* MemoryLayout<Element>.stride
        (raw + keptBytes).initializeMemory(as: UInt8.self, repeating: 0, count: bytes &- keptBytes)
        if let old = base {
            _copyElements(kept, from: old, to: fresh)
            allocator.deallocate(UnsafeMutableRawPointer(old), byteCount: capacity * MemoryLayout<Element>.stride)
        }
        _base = fresh
        _capacity = newCapacity
        return true
    }

    /// Returns the memory to `allocator`; the buffer becomes empty.
    public mutating func release(using allocator: RawAllocator) {
        if let old = base {
            allocator.deallocate(UnsafeMutableRawPointer(old), byteCount: capacity * MemoryLayout<Element>.stride)
        }
        _base = nil
        _capacity = 0
    }

    /// Bytes held.
    @inlinable
    public var allocatedBytes: Int { capacity * MemoryLayout<Element>.stride }

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
