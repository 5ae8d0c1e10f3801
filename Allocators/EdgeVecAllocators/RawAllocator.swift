import _EdgeVecCShims
#if Jemalloc
import CJemalloc
#endif

#if Jemalloc && BumpArena
#error("Choose one allocator: the Jemalloc and BumpArena traits cannot both be enabled.")
#endif

/// Where an index gets its memory: a value of C function pointers plus a
/// context, in the manner of swift-nio's `ByteBufferAllocator`. No protocol
/// existential is involved, so it works unchanged in Embedded Swift.
///
/// Every allocation is at least 16-byte aligned. `allocate` returns `nil`
/// when memory is exhausted (callers turn that into a typed error);
/// it never traps. Sizes are `UInt`: on wasm32 a block may be 2 GiB or
/// more (the address space is 4 GiB), beyond a 32-bit `Int`.
public struct RawAllocator {
    public typealias AllocateFunction =
        @convention(c) (_ context: UnsafeMutableRawPointer?, _ byteCount: UInt, _ alignment: Int) -> UnsafeMutableRawPointer?
    public typealias DeallocateFunction =
        @convention(c) (_ context: UnsafeMutableRawPointer?, _ pointer: UnsafeMutableRawPointer, _ byteCount: UInt) -> Void
    public typealias ReleaseFunction = @convention(c) (_ context: UnsafeMutableRawPointer?) -> Void

    /// Which implementation this value dispatches to (for reports and tests).
    public enum Kind: UInt8, Sendable {
        case system, jemalloc, bumpArena
    }

    public let kind: Kind
    @usableFromInline let context: UnsafeMutableRawPointer?
    @usableFromInline let allocateFunction: AllocateFunction
    @usableFromInline let deallocateFunction: DeallocateFunction
    @usableFromInline let releaseFunction: ReleaseFunction

    /// Builds an allocator from raw functions. `release` is called once, by
    /// the owner, when every block obtained from this allocator is dead.
    public init(kind: Kind, context: UnsafeMutableRawPointer?, allocate: AllocateFunction,
                deallocate: DeallocateFunction, release: ReleaseFunction) {
        self.kind = kind
        self.context = context
        self.allocateFunction = allocate
        self.deallocateFunction = deallocate
        self.releaseFunction = release
    }

    /// Returns `byteCount` bytes aligned to `alignment` (a power of two), or
    /// `nil` when memory is exhausted.
    @inlinable
    public func allocate(byteCount: UInt, alignment: Int = 16) -> UnsafeMutableRawPointer? {
        allocateFunction(context, byteCount, alignment)
    }

    /// `allocate` with an `Int` size; `nil` for a negative one.
    @inlinable
    public func allocate(byteCount: Int, alignment: Int = 16) -> UnsafeMutableRawPointer? {
        byteCount < 0 ? nil : allocateFunction(context, UInt(byteCount), alignment)
    }

    /// Returns a block obtained from `allocate`.
    ///
    /// - Precondition: `byteCount` is the size the block was allocated with
    ///   (the bump arena tells its large blocks from small ones by it).
    /// - Complexity: O(1). The bump arena frees large blocks and otherwise
    ///   reuses the memory only if it is the most recent block.
    @inlinable
    public func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: UInt) {
        deallocateFunction(context, pointer, byteCount)
    }

    /// `deallocate` with an `Int` size (a non-negative one, as allocated).
    @inlinable
    public func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        deallocateFunction(context, pointer, UInt(bitPattern: byteCount))
    }

    /// Ends the allocator's life: for the bump arena this frees every chunk.
    /// Call once, after the last block is dead.
    public func release() {
        releaseFunction(context)
    }
}

extension RawAllocator {
    /// The C library's allocator (glibc natively, wasi-libc's dlmalloc in wasm).
    public static var system: RawAllocator {
        RawAllocator(
            kind: .system, context: nil,
            allocate: { _, size, alignment in _ev_aligned_alloc(size, UInt(max(alignment, 16))) },
            deallocate: { _, pointer, _ in _ev_free(pointer) },
            release: { _ in })
    }

    /// The allocator an index uses when none is given: chosen at build time by
    /// the `Jemalloc` / `BumpArena` traits, the C library's malloc otherwise.
    /// Each call to `makeDefault()` under `BumpArena` creates a fresh arena,
    /// owned by the index that asked for it.
    public static func makeDefault() -> RawAllocator {
        #if BumpArena
        return BumpArena.make()
        #elseif Jemalloc
        return jemalloc
        #else
        return system
        #endif
    }

    /// The allocator kind `makeDefault()` returns in this build.
    public static var defaultKind: Kind {
        #if BumpArena
        return .bumpArena
        #elseif Jemalloc
        return .jemalloc
        #else
        return .system
        #endif
    }
}

#if Jemalloc
extension RawAllocator {
    /// jemalloc's extended API (`mallocx`/`dallocx`) for aligned blocks.
    /// Linking it also replaces malloc process-wide.
    public static var jemalloc: RawAllocator {
        RawAllocator(
            kind: .jemalloc, context: nil,
            allocate: { _, size, alignment in
                // MALLOCX_ALIGN(a) is log2(a) in the low bits; the macro does not import.
                // (Native 64-bit only: every size fits `Int`.)
                mallocx(Int(bitPattern: max(size, 1)), Int32(max(alignment, 16).trailingZeroBitCount))
            },
            // Not `sdallocx(p, size, 0)`: an aligned block can sit in a larger
            // size class than `size` names, and a sized free must match it.
            deallocate: { _, pointer, _ in dallocx(pointer, 0) },
            release: { _ in })
    }

    /// Bytes jemalloc currently has allocated to the application (all callers).
    public static func jemallocAllocatedBytes() -> Int {
        var epoch: UInt64 = 1
        _ = mallctl("epoch", nil, nil, &epoch, MemoryLayout<UInt64>.size)
        var allocated = 0
        var length = MemoryLayout<Int>.size
        guard mallctl("stats.allocated", &allocated, &length, nil, 0) == 0 else { return -1 }
        return allocated
    }
}
#endif
