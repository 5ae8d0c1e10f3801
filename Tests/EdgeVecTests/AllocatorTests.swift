import EdgeVec
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The allocator layer: trait selection, the bump arena, the system and
/// jemalloc allocators.
@Suite("Allocators")
struct AllocatorTests {
    @Test("The default allocator kind matches the build trait")
    func defaultKind() throws {
        #if BumpArena
        let expected = RawAllocator.Kind.bumpArena
        #elseif Jemalloc
        let expected = RawAllocator.Kind.jemalloc
        #else
        let expected = RawAllocator.Kind.system
        #endif
        #expect(RawAllocator.defaultKind == expected)
        let made = RawAllocator.makeDefault()
        #expect(made.kind == expected)
        made.release()
        #expect(try HNSWIndex(dimension: 4, metric: .l2).allocatorKind == expected)
        #expect(try FlatIndex(dimension: 4, metric: .l2).allocatorKind == expected)
        // An explicit allocator wins over the default.
        #expect(try HNSWIndex(dimension: 4, metric: .l2, allocator: .system).allocatorKind == .system)
        #expect(try FlatIndex(dimension: 4, metric: .l2, allocator: BumpArena.make()).allocatorKind == .bumpArena)
    }

    /// Fills `allocations` with a per-block byte pattern and checks all of them,
    /// which fails if any two blocks overlap.
    static func expectDisjoint(_ allocations: [(UnsafeMutableRawPointer, Int)],
                               sourceLocation: SourceLocation = #_sourceLocation) {
        for (i, (p, size)) in allocations.enumerated() {
            p.initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: i &* 37 &+ 1), count: size)
        }
        for (i, (p, size)) in allocations.enumerated() {
            let bytes = UnsafeRawBufferPointer(start: p, count: size)
            #expect(bytes.allSatisfy { $0 == UInt8(truncatingIfNeeded: i &* 37 &+ 1) }, "block \(i) overwritten",
                    sourceLocation: sourceLocation)
        }
    }

    @Test("Bump arena: aligned, distinct, disjoint blocks and statistics")
    func bumpArena() throws {
        let arena = BumpArena.make()
        #expect(arena.kind == .bumpArena)
        let start = try #require(BumpArena.statistics(arena))
        #expect(start.used == 0)
        var blocks: [(UnsafeMutableRawPointer, Int)] = []
        var requested = 0
        var rng = TestRandom(seed: 4)
        var misaligned: [String] = []
        for i in 0..<400 {
            let size = i % 50 == 0 ? 0 : 1 + rng.below(3000)
            let alignment = [1, 8, 16, 32, 64, 128][i % 6]
            let p = try #require(arena.allocate(byteCount: size, alignment: alignment))
            let address = Int(bitPattern: p)
            // (Alignments above 16 have their own test below.)
            if address % 16 != 0 {
                misaligned.append("block \(i): alignment \(alignment) requested, address ≡ \(address % 4096) mod 4096")
            }
            blocks.append((p, max(size, 1)))
            requested += max(size, 1)
        }
        #expect(misaligned.count == 0, "misaligned blocks, e.g. \(misaligned.prefix(3))")
        #expect(Set(blocks.map { $0.0 }).count == blocks.count, "a block was handed out twice")
        Self.expectDisjoint(blocks)
        let stats = try #require(BumpArena.statistics(arena))
        #expect(stats.used == requested)
        #expect(stats.reserved >= stats.used)
        // Larger than a whole chunk: gets a chunk of its own.
        let big = try #require(arena.allocate(byteCount: 3 << 20, alignment: 64))
        #expect(Int(bitPattern: big) % 64 == 0)
        blocks.append((big, 3 << 20))
        Self.expectDisjoint(blocks)
        let afterBig = try #require(BumpArena.statistics(arena))
        #expect(afterBig.used == requested + (3 << 20))
        #expect(afterBig.reserved >= afterBig.used)
        // Giving back the most recent block rolls it back; older blocks stay.
        let last = try #require(arena.allocate(byteCount: 1000, alignment: 16))
        #expect(BumpArena.statistics(arena)?.used == afterBig.used + 1000)
        arena.deallocate(last, byteCount: 1000)
        #expect(BumpArena.statistics(arena)?.used == afterBig.used)
        arena.deallocate(blocks[0].0, byteCount: blocks[0].1)
        #expect(BumpArena.statistics(arena)?.used == afterBig.used)
        Self.expectDisjoint(Array(blocks.dropFirst()))
        // Impossible requests fail with nil, and the arena stays usable.
        #expect(arena.allocate(byteCount: Int.max / 2, alignment: 16) == nil)
        #expect(arena.allocate(byteCount: Int.max - 8, alignment: 16) == nil)
        let after = try #require(arena.allocate(byteCount: 48, alignment: 16))
        blocks.append((after, 48))
        Self.expectDisjoint(Array(blocks.dropFirst()))
        arena.release()
    }

    @Test("Bump arena: large blocks are their own allocations, freed when given back")
    func bumpArenaLargeBlocks() throws {
        let arena = BumpArena.make()
        defer { arena.release() }
        let small = try #require(arena.allocate(byteCount: 100, alignment: 16))
        let base = try #require(BumpArena.statistics(arena))
        let sizes = [BumpArena.largeBlock, BumpArena.largeBlock + 1, 3 << 20, 200_000]
        let alignments = [16, 64, 4096, 32]
        var blocks: [(UnsafeMutableRawPointer, Int)] = [(small, 100)]
        for (i, size) in sizes.enumerated() {
            let p = try #require(arena.allocate(byteCount: size, alignment: alignments[i]))
            #expect(Int(bitPattern: p) % alignments[i] == 0, "large block \(i) misaligned")
            blocks.append((p, size))
        }
        Self.expectDisjoint(blocks)   // (writes a pattern into every block)
        let (kept, keptSize) = blocks[3]
        kept.initializeMemory(as: UInt8.self, repeating: 0xA5, count: keptSize)
        let full = try #require(BumpArena.statistics(arena))
        #expect(full.used == base.used + sizes.reduce(0, +))
        #expect(full.reserved >= base.reserved + sizes.reduce(0, +))
        // Free the middle, then the newest, then the oldest of the list: each
        // gives its bytes back at once and leaves the others intact.
        for i in [2, 4, 1] {
            let before = try #require(BumpArena.statistics(arena))
            arena.deallocate(blocks[i].0, byteCount: blocks[i].1)
            let after = try #require(BumpArena.statistics(arena))
            #expect(after.used == before.used - blocks[i].1)
            #expect(after.reserved <= before.reserved - blocks[i].1)
        }
        let bytes = UnsafeRawBufferPointer(start: kept, count: keptSize)
        #expect(bytes.allSatisfy { $0 == 0xA5 }, "a surviving large block was overwritten")
        arena.deallocate(kept, byteCount: keptSize)
        let end = try #require(BumpArena.statistics(arena))
        #expect(end.used == base.used && end.reserved == base.reserved)
        // Small blocks still come from the chunk.
        let next = try #require(arena.allocate(byteCount: 64, alignment: 16))
        #expect(BumpArena.statistics(arena)?.reserved == base.reserved)
        Self.expectDisjoint([(small, 100), (next, 64)])
    }

    @Test("An index grown one insert at a time on an arena holds about what one batch does")
    func arenaGrowthDoesNotDoubleMemory() throws {
        // Buffers double while growing; with every generation carved from the
        // chunks, single inserts held about twice the memory of one batch.
        let rows = uniformRows(count: 3000, dimension: 64, seed: 21)
        let configuration = HNSWConfiguration(m: 8, efConstruction: 32)
        let singleArena = BumpArena.make(), batchArena = BumpArena.make()
        let singles = try HNSWIndex(dimension: 64, metric: .l2, configuration: configuration, allocator: singleArena)
        for row in 0..<rows.count { try singles.add(Array(rows.values[row * 64 ..< (row + 1) * 64])) }
        let batch = try HNSWIndex(dimension: 64, metric: .l2, configuration: configuration, allocator: batchArena)
        try batch.addBatch(rows.values)
        #expect(singles.count == 3000 && batch.count == 3000)
        // `used`: bytes handed out and not given back, the dead copies included.
        let one = try #require(BumpArena.statistics(singleArena)).used
        let all = try #require(BumpArena.statistics(batchArena)).used
        #expect(Double(one) <= 1.3 * Double(all), "single inserts hold \(one) bytes, one batch \(all)")
    }

    @Test("Bump arena honours alignments above 16 whatever the first request was")
    func bumpArenaLargeAlignment() throws {
        // The contract: every block is aligned to what was asked. A chunk whose
        // base is only 16-aligned must still hand out 64- and 4096-aligned blocks.
        var misaligned: [String] = []
        for round in 0..<16 {
            let arena = BumpArena.make()
            defer { arena.release() }
            _ = try #require(arena.allocate(byteCount: 1 + round, alignment: 16))
            for alignment in [32, 64, 4096] {
                let p = try #require(arena.allocate(byteCount: 100, alignment: alignment))
                if Int(bitPattern: p) % alignment != 0 {
                    misaligned.append("round \(round): \(alignment)-aligned request at address ≡ \(Int(bitPattern: p) % 4096) mod 4096")
                }
            }
        }
        #expect(misaligned.count == 0, "e.g. \(misaligned.prefix(3))")
    }

    @Test("Bump arena statistics are nil for other allocators")
    func statisticsOnlyForArenas() {
        #expect(BumpArena.statistics(.system) == nil)
        #expect(BumpArena.statistics(TestAllocator().allocator) == nil)
    }

    @Test("An index on a bump arena works and releases it")
    func indexOnArena() throws {
        let data = ClusteredData(count: 2000, queries: 20, dimension: 16, clusters: 10, seed: 17)
        for metric in Metric.allCases {
            let onArena = try makeHNSW(data.data, metric: metric, m: 8, efConstruction: 64, allocator: BumpArena.make())
            let onSystem = try makeHNSW(data.data, metric: metric, m: 8, efConstruction: 64, allocator: .system)
            #expect(onArena.allocatorKind == .bumpArena)
            #expect(onSystem.allocatorKind == .system)
            // The allocator does not change the graph.
            #expect(GraphSnapshot(onArena) == GraphSnapshot(onSystem))
            #expect(try probe(onArena, data.queries) == probe(onSystem, data.queries))
            #expect(onArena.allocatedBytes > 2000 * 16 * 4)
            let flat = try FlatIndex(dimension: 16, metric: metric, allocator: BumpArena.make())
            try flat.addBatch(data.data.values)
            #expect(try flat.search(data.queries[0], k: 3).count == 3)
        }
        // Many short-lived indexes, each with its own arena, released on deinit.
        for i in 0..<200 {
            let index = try HNSWIndex(dimension: 8, metric: .l2, allocator: BumpArena.make())
            try index.add([Float](repeating: Float(i), count: 8))
        }
    }

    @Test("System allocator: aligned, disjoint blocks")
    func systemAllocator() throws {
        let system = RawAllocator.system
        #expect(system.kind == .system)
        var blocks: [(UnsafeMutableRawPointer, Int)] = []
        for (i, alignment) in [1, 16, 64, 256, 4096].enumerated() {
            let size = 100 * (i + 1)
            let p = try #require(system.allocate(byteCount: size, alignment: alignment))
            #expect(Int(bitPattern: p) % max(alignment, 16) == 0)
            blocks.append((p, size))
        }
        let zero = try #require(system.allocate(byteCount: 0))
        #expect(Int(bitPattern: zero) % 16 == 0)
        Self.expectDisjoint(blocks)
        for (p, size) in blocks { system.deallocate(p, byteCount: size) }
        system.deallocate(zero, byteCount: 0)
        system.release()
        // An impossible request fails with nil rather than trapping.
        #expect(system.allocate(byteCount: Int.max / 2, alignment: 64) == nil)
    }

    #if Jemalloc
    @Test("jemalloc allocator: aligned blocks and allocation statistics")
    func jemallocAllocator() throws {
        let je = RawAllocator.jemalloc
        #expect(je.kind == .jemalloc)
        var blocks: [(UnsafeMutableRawPointer, Int)] = []
        for (i, alignment) in [1, 16, 64, 256, 4096].enumerated() {
            let size = 1000 * (i + 1)
            let p = try #require(je.allocate(byteCount: size, alignment: alignment))
            #expect(Int(bitPattern: p) % max(alignment, 16) == 0)
            blocks.append((p, size))
        }
        Self.expectDisjoint(blocks)
        #expect(RawAllocator.jemallocAllocatedBytes() >= blocks.reduce(0) { $0 + $1.1 })
        for (p, size) in blocks { je.deallocate(p, byteCount: size) }
        #expect(je.allocate(byteCount: Int.max / 2, alignment: 64) == nil)
    }

    #if canImport(Glibc)
    @Test("jemalloc: a freed aligned block goes back to its own size class")
    func jemallocSizedFree() throws {
        // mallocx(16, MALLOCX_ALIGN(64)) is a 64-byte block. Freeing it with a
        // size hint must not file it under the 16-byte class, or plain
        // malloc(16) hands it out again and jemalloc's bins get mixed up
        // (heap corruption once the thread cache flushes).
        let je = RawAllocator.jemalloc
        var blocks: [UnsafeMutableRawPointer] = []
        for _ in 0..<32 { blocks.append(try #require(je.allocate(byteCount: 16, alignment: 64))) }
        let aligned = Set(blocks.map { Int(bitPattern: $0) })
        for p in blocks { je.deallocate(p, byteCount: 16) }
        var plain: [UnsafeMutableRawPointer] = []
        for _ in 0..<32 { plain.append(try #require(malloc(16))) }
        defer { for p in plain { free(p) } }
        let reused = plain.filter { aligned.contains(Int(bitPattern: $0)) }.count
        #expect(reused == 0, "malloc(16) returned \(reused) of the freed 64-byte aligned blocks")
    }
    #endif
    #endif
}
