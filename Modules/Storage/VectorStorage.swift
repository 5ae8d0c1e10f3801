import EdgeVecAllocators

/// Float32 vectors laid out contiguously at a fixed stride in allocator
/// memory: vector `i` starts at `base + i * stride`. The stride is the
/// dimension rounded up to a multiple of 16 floats (64 bytes) and the padding
/// is zero, so distance kernels run whole SIMD blocks with no tail loop and
/// every vector starts 64-byte aligned. There is no heap object per vector.
///
/// A value type that does not own itself: the owning index calls
/// `release(using:)` with the allocator it reserved with.
public struct VectorStorage {
    /// Floats per vector as given by the user.
    public let dimension: Int
    /// Floats between consecutive vectors (≥ `dimension`, multiple of 16).
    public let stride: Int
    /// Vectors stored.
    @inlinable public var count: Int { _count }
    @usableFromInline var _count: Int
    @usableFromInline var _buffer: _UnsafeGrowableBuffer<Float>

    /// The padded length a `dimension`-float vector occupies.
    @inlinable
    public static func stride(forDimension dimension: Int) -> Int {
        (dimension + 15) & ~15
    }

    /// - Precondition: `dimension > 0`.
    public init(dimension: Int) {
        precondition(dimension > 0, "dimension must be positive")
        self.dimension = dimension
        self.stride = VectorStorage.stride(forDimension: dimension)
        self._count = 0
        self._buffer = _UnsafeGrowableBuffer()
    }

    /// Vectors that fit without growing.
    public var capacity: Int { _buffer.capacity / stride }

    /// Bytes held by the slab.
    public var allocatedBytes: Int { _buffer.allocatedBytes }

    /// Makes room for `minimumCount` vectors; grows geometrically.
    /// - Returns: `false` (storage unchanged) when memory is exhausted.
    /// - Complexity: O(`count`) when it grows, O(1) otherwise.
    @inlinable
    public mutating func reserve(_ minimumCount: Int, using allocator: RawAllocator) -> Bool {
        let (floats, overflow) = minimumCount.multipliedReportingOverflow(by: stride)
        if overflow { return false }
        return _buffer.reserve(floats, preserving: count * stride, using: allocator)
    }

    /// Like `reserve`, but to exactly `minimumCount` vectors (used by loading).
    public mutating func reserveExactly(_ minimumCount: Int, using allocator: RawAllocator) -> Bool {
        let (floats, overflow) = minimumCount.multipliedReportingOverflow(by: stride)
        if overflow { return false }
        return _buffer.reserveExactly(floats, preserving: count * stride, using: allocator)
    }

    /// Start of vector `index` (`stride` floats, zero-padded after `dimension`).
    /// - Precondition: `index < capacity`.
    @inlinable
    public func pointer(at index: Int) -> UnsafeMutablePointer<Float> {
        _buffer.base.unsafelyUnwrapped + index &* stride
    }

    /// Appends `dimension` floats from `source`, each multiplied by `scale`
    /// in Double precision (so that normalising a tiny vector cannot
    /// overflow), and returns the new index.
    /// - Precondition: `count < capacity` (call `reserve` first).
    /// - Complexity: O(`dimension`).
    @inlinable @discardableResult
    public mutating func append(_ source: UnsafePointer<Float>, scale: Double = 1) -> Int {
        precondition(count < capacity, "reserve before append")
        // The padding is already zero: new memory is zeroed, and `replace` never writes it.
        _count += 1
        replace(at: _count - 1, source, scale: scale)
        return _count - 1
    }

    /// Overwrites vector `index` with `dimension` floats from `source` times
    /// `scale` (see `append`), for a slot taken again.
    /// - Precondition: `index < count`.
    /// - Complexity: O(`dimension`).
    @inlinable
    public func replace(at index: Int, _ source: UnsafePointer<Float>, scale: Double = 1) {
        precondition(index >= 0 && index < count, "no such vector")
        let destination = pointer(at: index)
        if scale == 1 {
            _copyElements(dimension, from: source, to: destination)
        } else {
            for i in 0..<dimension { destination[i] = Float(Double(source[i]) * scale) }
        }
    }

    /// Sets `count` after the caller filled vectors `count..<newCount` directly
    /// through `pointer(at:)` (loading).
    /// - Precondition: `newCount <= capacity`.
    public mutating func _setCount(_ newCount: Int) {
        precondition(newCount <= capacity)
        _count = newCount
    }

    /// Returns the memory to `allocator`.
    public mutating func release(using allocator: RawAllocator) {
        _buffer.release(using: allocator)
        _count = 0
    }
}
