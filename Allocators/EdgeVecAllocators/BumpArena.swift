import _EdgeVecCShims

/// A chunked bump allocator: small blocks are carved from large chunks by
/// moving a pointer; nothing small is freed piecemeal and the whole arena is
/// released with its owner. Chunks grow geometrically (1 MiB doubling to
/// 64 MiB).
///
/// A small block given back with `deallocate` is reused only when it is the
/// most recent block of the current chunk. Blocks of `largeBlock` bytes or
/// more get an allocation of their own from the C library instead, linked
/// into the arena and freed by `deallocate`: they are the buffers that grow
/// by doubling, and carving every generation from the chunks left each old
/// copy dead until `release` (a 1,000-vector index built one insert at a
/// time held twice its memory, and touching those pages cost wasm single
/// inserts about 1 µs each). Such a block costs one malloc call, which
/// doubling makes rare (O(log n) per buffer).
public enum BumpArena {
    /// The arena's state, kept at the start of its first allocation.
    @usableFromInline
    struct _Header {
        var chunk: UnsafeMutableRawPointer?   // current chunk (its first word links to the previous chunk)
        var cursor: Int                       // offset of the next free byte in `chunk`
        var chunkSize: Int                    // size of `chunk`
        var nextChunkSize: Int
        var lastBlock: Int                    // offset of the most recent block, for rollback
        var reservedBytes: UInt               // bytes of chunks held (for reports)
        var usedBytes: UInt                   // bytes handed out and not rolled back
        var large: UnsafeMutablePointer<_LargeBlock>?   // most recent large block
    }

    /// Kept in the 32 bytes before a large block's first byte.
    @usableFromInline
    struct _LargeBlock {
        var previous: UnsafeMutablePointer<_LargeBlock>?
        var next: UnsafeMutablePointer<_LargeBlock>?
        var allocation: UnsafeMutableRawPointer   // what the C library returned
        var bytes: UInt                           // its size, for statistics
    }

    /// Requests of at least this many bytes are large blocks (see above).
    public static let largeBlock = 64 << 10
    static let largeHeader = 32

    static let chunkLink = 16                  // link word, padded to keep blocks 16-aligned
    static let firstChunkSize = 1 << 20
    static let maxChunkSize = 64 << 20

    /// A new, empty arena. Release it with `RawAllocator.release()`.
    public static func make() -> RawAllocator {
        let header = _ev_aligned_alloc(UInt(MemoryLayout<_Header>.size), 16)!
            .bindMemory(to: _Header.self, capacity: 1)
        header.initialize(to: _Header(chunk: nil, cursor: 0, chunkSize: 0, nextChunkSize: firstChunkSize,
                                      lastBlock: -1, reservedBytes: 0, usedBytes: 0, large: nil))
        return RawAllocator(
            kind: .bumpArena, context: UnsafeMutableRawPointer(header),
            allocate: { context, size, alignment in
                BumpArena.allocate(context!.assumingMemoryBound(to: _Header.self), size, alignment)
            },
            deallocate: { context, pointer, size in
                BumpArena.rollback(context!.assumingMemoryBound(to: _Header.self), pointer, size)
            },
            release: { context in
                BumpArena.destroy(context!.assumingMemoryBound(to: _Header.self))
            })
    }

    /// Bytes of chunks this arena holds, and bytes handed out from them.
    /// (Clamped to `Int.max`, which a wasm32 arena can exceed.)
    public static func statistics(_ allocator: RawAllocator) -> (reserved: Int, used: Int)? {
        guard allocator.kind == .bumpArena, let context = allocator.context else { return nil }
        let h = context.assumingMemoryBound(to: _Header.self).pointee
        return (Int(clamping: h.reservedBytes), Int(clamping: h.usedBytes))
    }

    static func allocate(_ h: UnsafeMutablePointer<_Header>, _ byteCount: UInt, _ alignment: Int) -> UnsafeMutableRawPointer? {
        let alignment = max(alignment, 16)
        guard alignment & (alignment &- 1) == 0 else { return nil }   // powers of two only
        let byteCount = max(byteCount, 1)
        if byteCount >= UInt(largeBlock) { return allocateLarge(h, byteCount, alignment) }
        let size = Int(byteCount)
        if let chunk = h.pointee.chunk {
            // Align the address, not the offset: a chunk is only as aligned as
            // the request that opened it.
            let address = Int(bitPattern: chunk) &+ h.pointee.cursor
            let start = ((address &+ alignment &- 1) & ~(alignment &- 1)) &- Int(bitPattern: chunk)
            if start <= h.pointee.chunkSize && size <= h.pointee.chunkSize - start {
                h.pointee.cursor = start + size
                h.pointee.lastBlock = start
                h.pointee.usedBytes &+= UInt(size)
                return chunk + start
            }
        }
        return allocateInNewChunk(h, size, alignment)
    }

    @inline(never)
    static func allocateInNewChunk(_ h: UnsafeMutablePointer<_Header>, _ size: Int, _ alignment: Int) -> UnsafeMutableRawPointer? {
        let (needed, overflow) = size.addingReportingOverflow(chunkLink + alignment)
        guard !overflow else { return nil }
        let chunkSize = max(h.pointee.nextChunkSize, needed)
        guard let chunk = _ev_aligned_alloc(UInt(chunkSize), UInt(alignment)) else { return nil }
        chunk.storeBytes(of: h.pointee.chunk, as: UnsafeMutableRawPointer?.self)
        h.pointee.chunk = chunk
        h.pointee.chunkSize = chunkSize
        h.pointee.reservedBytes &+= UInt(chunkSize)
        h.pointee.nextChunkSize = min(h.pointee.nextChunkSize * 2, maxChunkSize)
        let start = (chunkLink + alignment - 1) & ~(alignment - 1)
        h.pointee.cursor = start + size
        h.pointee.lastBlock = start
        h.pointee.usedBytes &+= UInt(size)
        return chunk + start
    }

    /// A block in an allocation of its own, `largeHeader` bytes after a
    /// `_LargeBlock` (the offset is a multiple of the alignment, so the
    /// block keeps the allocation's alignment).
    @inline(never)
    static func allocateLarge(_ h: UnsafeMutablePointer<_Header>, _ size: UInt, _ alignment: Int) -> UnsafeMutableRawPointer? {
        let offset = max(largeHeader, alignment)
        let (bytes, overflow) = size.addingReportingOverflow(UInt(offset))
        guard !overflow, let allocation = _ev_aligned_alloc(bytes, UInt(alignment)) else { return nil }
        let block = allocation + offset
        let node = (block - largeHeader).bindMemory(to: _LargeBlock.self, capacity: 1)
        node.initialize(to: _LargeBlock(previous: nil, next: h.pointee.large, allocation: allocation, bytes: bytes))
        h.pointee.large?.pointee.previous = node
        h.pointee.large = node
        h.pointee.reservedBytes &+= bytes
        h.pointee.usedBytes &+= size
        return block
    }

    /// Frees a large block at once; rolls a small one back if it is the most
    /// recent block of the current chunk, and otherwise leaves it dead.
    static func rollback(_ h: UnsafeMutablePointer<_Header>, _ pointer: UnsafeMutableRawPointer, _ size: UInt) {
        if max(size, 1) >= UInt(largeBlock) {
            let node = (pointer - largeHeader).assumingMemoryBound(to: _LargeBlock.self)
            let block = node.pointee
            if let previous = block.previous { previous.pointee.next = block.next } else { h.pointee.large = block.next }
            block.next?.pointee.previous = block.previous
            h.pointee.reservedBytes &-= block.bytes
            h.pointee.usedBytes &-= size
            node.deinitialize(count: 1)
            _ev_free(block.allocation)
            return
        }
        guard let chunk = h.pointee.chunk, h.pointee.lastBlock >= 0,
              pointer == chunk + h.pointee.lastBlock else { return }
        h.pointee.cursor = h.pointee.lastBlock
        h.pointee.lastBlock = -1
        h.pointee.usedBytes &-= max(size, 1)
    }

    static func destroy(_ h: UnsafeMutablePointer<_Header>) {
        var chunk = h.pointee.chunk
        while let c = chunk {
            chunk = c.load(as: UnsafeMutableRawPointer?.self)
            _ev_free(c)
        }
        var large = h.pointee.large
        while let node = large {
            large = node.pointee.next
            _ev_free(node.pointee.allocation)
        }
        h.deinitialize(count: 1)
        _ev_free(UnsafeMutableRawPointer(h))
    }
}
