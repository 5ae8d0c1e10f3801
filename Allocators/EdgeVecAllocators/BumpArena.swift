import _EdgeVecCShims

/// A chunked bump allocator: blocks are carved from large chunks by moving a
/// pointer; nothing is freed piecemeal and the whole arena is released with
/// its owner. Chunks grow geometrically (1 MiB doubling to 64 MiB); a request
/// larger than the next chunk gets a chunk of its own.
///
/// Memory given back with `deallocate` is reused only when it is the most
/// recent block of the current chunk, so growth that reallocates a buffer
/// leaves the old copy dead until `release`. Peak memory is therefore up to
/// about twice the live data for storage that grows by copying.
public enum BumpArena {
    /// The arena's state, kept at the start of its first allocation.
    @usableFromInline
    struct _Header {
        var chunk: UnsafeMutableRawPointer?   // current chunk (its first word links to the previous chunk)
        var cursor: Int                       // offset of the next free byte in `chunk`
        var chunkSize: Int                    // size of `chunk`
        var nextChunkSize: Int
        var lastBlock: Int                    // offset of the most recent block, for rollback
        var reservedBytes: Int                // bytes of chunks held (for reports)
        var usedBytes: Int                    // bytes handed out and not rolled back
    }

    static let chunkLink = 16                  // link word, padded to keep blocks 16-aligned
    static let firstChunkSize = 1 << 20
    static let maxChunkSize = 64 << 20

    /// A new, empty arena. Release it with `RawAllocator.release()`.
    public static func make() -> RawAllocator {
        let header = _ev_aligned_alloc(MemoryLayout<_Header>.size, 16)!
            .bindMemory(to: _Header.self, capacity: 1)
        header.initialize(to: _Header(chunk: nil, cursor: 0, chunkSize: 0, nextChunkSize: firstChunkSize,
                                      lastBlock: -1, reservedBytes: 0, usedBytes: 0))
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
    public static func statistics(_ allocator: RawAllocator) -> (reserved: Int, used: Int)? {
        guard allocator.kind == .bumpArena, let context = allocator.context else { return nil }
        let h = context.assumingMemoryBound(to: _Header.self).pointee
        return (h.reservedBytes, h.usedBytes)
    }

    static func allocate(_ h: UnsafeMutablePointer<_Header>, _ size: Int, _ alignment: Int) -> UnsafeMutableRawPointer? {
        let alignment = max(alignment, 16)
        guard alignment & (alignment &- 1) == 0 else { return nil }   // powers of two only
        let size = max(size, 1)
        if let chunk = h.pointee.chunk {
            // Align the address, not the offset: a chunk is only as aligned as
            // the request that opened it.
            let address = Int(bitPattern: chunk) &+ h.pointee.cursor
            let start = ((address &+ alignment &- 1) & ~(alignment &- 1)) &- Int(bitPattern: chunk)
            if start <= h.pointee.chunkSize && size <= h.pointee.chunkSize - start {
                h.pointee.cursor = start + size
                h.pointee.lastBlock = start
                h.pointee.usedBytes += size
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
        guard let chunk = _ev_aligned_alloc(chunkSize, alignment) else { return nil }
        chunk.storeBytes(of: h.pointee.chunk, as: UnsafeMutableRawPointer?.self)
        h.pointee.chunk = chunk
        h.pointee.chunkSize = chunkSize
        h.pointee.reservedBytes += chunkSize
        h.pointee.nextChunkSize = min(h.pointee.nextChunkSize * 2, maxChunkSize)
        let start = (chunkLink + alignment - 1) & ~(alignment - 1)
        h.pointee.cursor = start + size
        h.pointee.lastBlock = start
        h.pointee.usedBytes += size
        return chunk + start
    }

    static func rollback(_ h: UnsafeMutablePointer<_Header>, _ pointer: UnsafeMutableRawPointer, _ size: Int) {
        guard let chunk = h.pointee.chunk, h.pointee.lastBlock >= 0,
              pointer == chunk + h.pointee.lastBlock else { return }
        h.pointee.cursor = h.pointee.lastBlock
        h.pointee.lastBlock = -1
        h.pointee.usedBytes -= max(size, 1)
    }

    static func destroy(_ h: UnsafeMutablePointer<_Header>) {
        var chunk = h.pointee.chunk
        while let c = chunk {
            chunk = c.load(as: UnsafeMutableRawPointer?.self)
            _ev_free(c)
        }
        h.deinitialize(count: 1)
        _ev_free(UnsafeMutableRawPointer(h))
    }
}
