import EdgeVec
import Testing

/// Damaged or foreign bytes are refused with `.corrupt(_)`, never a crash.
@Suite("Corrupt input")
struct CorruptionTests {
    /// ~50 vectors of dimension 8: small enough to flip every bit.
    static func smallHNSW(_ metric: Metric = .l2) throws -> HNSWIndex {
        let data = ClusteredData(count: 50, queries: 0, dimension: 8, clusters: 4, seed: 808)
        return try makeHNSW(data.data, metric: metric, m: 4, efConstruction: 32, seed: 3)
    }

    static func smallFlat() throws -> FlatIndex {
        let index = try FlatIndex(dimension: 8, metric: .cosine)
        try index.addBatch(ClusteredData(count: 50, queries: 0, dimension: 8, clusters: 4, seed: 809).data.values)
        return index
    }

    /// The corruption `load` reports, or nil after recording an issue.
    static func corruption<R>(_ what: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation,
                              _ load: () throws -> R) -> EdgeVecError.Corruption? {
        do {
            _ = try load()
            Issue.record("\(what()): loaded without error", sourceLocation: sourceLocation)
        } catch {
            if case .corrupt(let c)? = error as? EdgeVecError { return c }
            Issue.record("\(what()): \(error) instead of .corrupt", sourceLocation: sourceLocation)
        }
        return nil
    }

    static func loadAny(_ bytes: [UInt8]) throws -> LoadedIndex {
        try bytes.withUnsafeBytes { (raw) throws(EdgeVecError) in try LoadedIndex.load(serialized: raw) }
    }

    /// Flips single bits and checks every loader refuses the result.
    static func flipBits(_ bytes: [UInt8], offsets: [Int], bits: (Int) -> [Int], bodyStart: Int,
                         load: ([UInt8]) throws -> Void) {
        var wrong: [String] = []
        for offset in offsets {
            for bit in bits(offset) {
                var damaged = bytes
                damaged[offset] ^= UInt8(1) << bit
                let c = corruption("bit \(bit) of byte \(offset)") { () throws in try load(damaged) }
                guard let c else { continue }
                // A damaged magic is not ours; a damaged body fails its checksum.
                if offset < 8 && c != .badMagic { wrong.append("byte \(offset): \(c)") }
                if offset >= bodyStart && c != .checksumMismatch { wrong.append("byte \(offset): \(c)") }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(10))")
    }

    @Test("Every single-bit flip of a small HNSW file is refused")
    func everyBitHNSW() throws {
        let bytes = try Self.smallHNSW().serialized()
        #expect(bytes.count > 2000)
        Self.flipBits(bytes, offsets: Array(bytes.indices), bits: { _ in Array(0..<8) }, bodyStart: 96) {
            (b) throws in _ = try HNSWIndex(serialized: b)
        }
        // Through LoadedIndex as well (one bit per byte, rotating).
        Self.flipBits(bytes, offsets: Array(bytes.indices), bits: { [$0 % 8] }, bodyStart: 96) {
            (b) throws in _ = try Self.loadAny(b)
        }
        // The undamaged bytes still load.
        #expect(try HNSWIndex(serialized: bytes).serialized() == bytes)
    }

    @Test("Every single-bit flip of a small flat file is refused")
    func everyBitFlat() throws {
        let bytes = try Self.smallFlat().serialized()
        Self.flipBits(bytes, offsets: Array(bytes.indices), bits: { _ in Array(0..<8) }, bodyStart: 96) {
            (b) throws in _ = try FlatIndex(serialized: b)
        }
        Self.flipBits(bytes, offsets: Array(bytes.indices), bits: { [($0 * 5) % 8] }, bodyStart: 96) {
            (b) throws in _ = try Self.loadAny(b)
        }
    }

    @Test("Bit flips spread across a larger file are refused", arguments: Metric.allCases)
    func spreadFlips(metric: Metric) throws {
        let data = ClusteredData(count: 1500, queries: 0, dimension: 24, clusters: 10, seed: 31)
        let bytes = try makeHNSW(data.data, metric: metric, m: 12, efConstruction: 40).serialized()
        var rng = TestRandom(seed: 64)
        // All of the header and trailer, plus 800 random body offsets.
        let offsets = Array(0..<96) + (0..<800).map { _ in 96 + rng.below(bytes.count - 100) }
            + Array((bytes.count - 4)..<bytes.count)
        Self.flipBits(bytes, offsets: offsets, bits: { [$0 % 8, ($0 / 8) % 8] }, bodyStart: 96) {
            (b) throws in _ = try HNSWIndex(serialized: b)
        }
    }

    @Test("Truncation at every length is refused", arguments: IndexKind.allCases)
    func truncation(kind: IndexKind) throws {
        let bytes = kind == .hnsw ? try Self.smallHNSW().serialized() : try Self.smallFlat().serialized()
        var wrong: [String] = []
        for length in 0..<bytes.count {
            let prefix = Array(bytes.prefix(length))
            let expected: EdgeVecError.Corruption = length == 0 ? .badMagic : .truncated
            for load in [{ (b: [UInt8]) throws in _ = try Self.loadAny(b) },
                         { (b: [UInt8]) throws in
                             if kind == .hnsw { _ = try HNSWIndex(serialized: b) } else { _ = try FlatIndex(serialized: b) }
                         }] {
                let c = Self.corruption("length \(length)") { () throws in try load(prefix) }
                if let c, c != expected { wrong.append("length \(length): \(c)") }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(10))")
    }

    @Test("Empty and foreign bytes are not an index")
    func foreignBytes() throws {
        var inputs: [(String, [UInt8])] = [
            ("empty", []),
            ("PNG", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52]
                + [UInt8](repeating: 0, count: 200)),
            ("text", Array("hello, world; this is not an index at all".utf8)),
            ("zeros", [UInt8](repeating: 0, count: 4096)),
            ("lowercase magic", Array("edgevec".utf8) + [0] + [UInt8](repeating: 0, count: 100)),
            ("one byte", [0x45 ^ 0x20]),
        ]
        var rng = TestRandom(seed: 2718)
        for length in [1, 7, 8, 95, 96, 97, 1000, 10_000] {
            var random = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if random[0] == 0x45 { random[0] = 0 }   // not even the first magic byte
            inputs.append(("random \(length)", random))
        }
        for (name, bytes) in inputs {
            #expect(Self.corruption(name) { () throws in try HNSWIndex(serialized: bytes) } == .badMagic)
            #expect(Self.corruption(name) { () throws in try FlatIndex(serialized: bytes) } == .badMagic)
            #expect(Self.corruption(name) { () throws in try Self.loadAny(bytes) } == .badMagic)
        }
        // The right magic followed by junk is corrupt too (not a crash).
        for length in [0, 10, 88, 100, 5000] {
            let junk = IndexFormat.magic + (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let c = Self.corruption("magic + \(length) random bytes") { () throws in try Self.loadAny(junk) }
            #expect(c != nil && c != .badMagic)
        }
    }

    @Test("Appended bytes are refused", arguments: IndexKind.allCases)
    func trailingBytes(kind: IndexKind) throws {
        let bytes = kind == .hnsw ? try Self.smallHNSW().serialized() : try Self.smallFlat().serialized()
        for extra in [[UInt8(0)], [0xFF], [UInt8](repeating: 7, count: 1000), bytes] {
            let longer = bytes + extra
            #expect(Self.corruption("+\(extra.count)") { () throws in try Self.loadAny(longer) } == .trailingBytes)
            let direct = Self.corruption("+\(extra.count)") { () throws in
                if kind == .hnsw { _ = try HNSWIndex(serialized: longer) } else { _ = try FlatIndex(serialized: longer) }
            }
            #expect(direct == .trailingBytes)
        }
    }

    // MARK: Crafted files with valid checksums

    /// Applies `edit`, reseals both checksums, and returns what loading reports.
    static func crafted(_ bytes: [UInt8], _ name: String, sourceLocation: SourceLocation = #_sourceLocation,
                        _ edit: (inout [UInt8], FileLayout) -> Void) -> EdgeVecError.Corruption? {
        var b = bytes
        edit(&b, FileLayout(bytes))
        b.reseal()
        let direct = corruption(name, sourceLocation: sourceLocation) { () throws in
            if b.u32(at: 12) == 1 { _ = try FlatIndex(serialized: b) } else { _ = try HNSWIndex(serialized: b) }
        }
        let viaEnum = corruption(name, sourceLocation: sourceLocation) { () throws in try loadAny(b) }
        #expect(direct == viaEnum, "\(name)", sourceLocation: sourceLocation)
        return direct
    }

    @Test("Header fields out of range are refused even with valid checksums")
    func craftedHeaders() throws {
        let index = try Self.smallHNSW()
        let bytes = index.serialized()
        let n = UInt32(index.count)
        #expect(Self.crafted(bytes, "version 4") { b, _ in b.setU32(4, at: 8) } == .unsupportedVersion(4))
        #expect(Self.crafted(bytes, "version 0") { b, _ in b.setU32(0, at: 8) } == .unsupportedVersion(0))
        let invalid: [(String, (inout [UInt8], FileLayout) -> Void)] = [
            ("kind 2", { b, _ in b.setU32(2, at: 12) }),
            ("metric 3", { b, _ in b.setU32(3, at: 16) }),
            ("dimension 0", { b, _ in b.setU32(0, at: 20) }),
            ("dimension 70000", { b, _ in b.setU32(70000, at: 20) }),
            ("dimension 9", { b, _ in b.setU32(9, at: 20) }),
            ("count + 1", { b, _ in b.setU64(UInt64(n) + 1, at: 24) }),
            ("count 2^40", { b, _ in b.setU64(1 << 40, at: 24) }),
            ("count 2^63", { b, _ in b.setU64(1 << 63, at: 24) }),
            ("m 1", { b, _ in b.setU32(1, at: 32) }),
            ("m 129", { b, _ in b.setU32(129, at: 32) }),
            ("m 5", { b, _ in b.setU32(5, at: 32) }),
            ("efConstruction 0", { b, _ in b.setU32(0, at: 36) }),
            ("efSearch 70000", { b, _ in b.setU32(70000, at: 40) }),
            ("max level 256", { b, _ in b.setU32(256, at: 44) }),
            ("entry point = count", { b, _ in b.setU32(n, at: 64) }),
            ("no entry point", { b, _ in b.setU32(0xFFFF_FFFF, at: 64) }),
            ("upper words + 1", { b, _ in b.setU64(b.u64(at: 72) + 1, at: 72) }),
            ("upper words 2^62", { b, _ in b.setU64(1 << 62, at: 72) }),
            ("body bytes + 4", { b, _ in b.setU64(b.u64(at: 80) + 4, at: 80) }),
            ("body bytes - 4", { b, _ in b.setU64(b.u64(at: 80) - 4, at: 80) }),
            ("body bytes max", { b, _ in b.setU64(.max, at: 80) }),
        ]
        for (name, edit) in invalid {
            let c = Self.crafted(bytes, name, edit)
            #expect(c?.isInvalidHeader == true || c == .truncated || c == .trailingBytes,
                    "\(name): \(String(describing: c))")
        }
        // The reason names the field and its value.
        #expect(Self.crafted(bytes, "dimension 70000") { b, _ in b.setU32(70000, at: 20) }
                == .invalidHeader(.dimension, value: 70000))
        #expect(Self.crafted(bytes, "metric 3") { b, _ in b.setU32(3, at: 16) } == .invalidHeader(.metric, value: 3))
        #expect(Self.crafted(bytes, "kind 7") { b, _ in b.setU32(7, at: 12) } == .invalidHeader(.kind, value: 7))
        // Version 2 keeps the removed-slot count at 68: fewer than the slots, and the body sized for it.
        #expect(Self.crafted(bytes, "removed count n") { b, _ in b.setU32(n, at: 68) } == .invalidHeader(.removedCount, value: UInt64(n)))
        #expect(Self.crafted(bytes, "removed count 1") { b, _ in b.setU32(1, at: 68) }
                == .invalidHeader(.bodyBytes, value: bytes.u64(at: 80)))
        // ... and at 88 how many of them are free: at most that many.
        #expect(Self.crafted(bytes, "free count above removed") { b, _ in b.setU32(0x8000_0000, at: 88) }
                == .invalidHeader(.freeCount, value: 0x8000_0000))
        // An empty HNSW index claiming an entry point, or a non-empty one without.
        let empty = try HNSWIndex(dimension: 8, metric: .l2).serialized()
        #expect(Self.crafted(empty, "empty with entry 0") { b, _ in b.setU32(0, at: 64) } == .invalidHeader(.entryPoint, value: 0))
        #expect(Self.crafted(empty, "empty with max level 1") { b, _ in b.setU32(1, at: 44) } == .invalidHeader(.maxLevel, value: 1))
        // A flat file's unused fields are zero (no entry point: all ones).
        let flat = try Self.smallFlat().serialized()
        for (name, offset, field) in [("m", 32, EdgeVecError.HeaderField.m), ("efConstruction", 36, .efConstruction),
                                      ("efSearch", 40, .efSearch), ("max level", 44, .maxLevel)] {
            #expect(Self.crafted(flat, "flat \(name) 3") { b, _ in b.setU32(3, at: offset) } == .invalidHeader(field, value: 3))
        }
        #expect(Self.crafted(flat, "flat seed") { b, _ in b.setU64(5, at: 48) } == .invalidHeader(.seed, value: 5))
        #expect(Self.crafted(flat, "flat generator state") { b, _ in b.setU64(5, at: 56) } == .invalidHeader(.generatorState, value: 5))
        #expect(Self.crafted(flat, "flat entry point") { b, _ in b.setU32(0, at: 64) } == .invalidHeader(.entryPoint, value: 0))
        // Sanity: resealing an untouched file keeps it loadable.
        var same = bytes
        same.reseal()
        #expect(try HNSWIndex(serialized: same).serialized() == bytes)
    }

    @Test("Graph and vector damage is refused even with valid checksums")
    func craftedBodies() throws {
        let index = try Self.smallHNSW()
        let bytes = index.serialized()
        let n = index.count
        let layout = FileLayout(bytes)
        // A node with at least two layer-0 neighbours, and its first neighbour.
        let node = try #require((0..<n).first { index.neighbors(of: $0, layer: 0).count >= 2 })
        let first = index.neighbors(of: node, layer: 0)[0]
        let levelZero = try #require((0..<n).first { index.level(of: $0) == 0 })
        let upperNode = try #require((0..<n).first { index.level(of: $0) >= 1 && !index.neighbors(of: $0, layer: 1).isEmpty })
        // Offset of upperNode's layer-1 block: upper blocks are stored in node order.
        let upperOffset = layout.upper + 4 * (0..<upperNode).reduce(0) { $0 + index.level(of: $1) * (1 + layout.m) }

        let cases: [(String, (inout [UInt8], FileLayout) -> Void)] = [
            ("NaN component", { b, l in b.setU32(Float.nan.bitPattern, at: l.vector(3) + 8) }),
            ("+inf component", { b, l in b.setU32(Float.infinity.bitPattern, at: l.vector(n - 1)) }),
            ("-inf component", { b, l in b.setU32((-Float.infinity).bitPattern, at: l.vector(0) + 28) }),
            ("level above max level", { b, l in b[l.levels + levelZero] = UInt8(index.maxLevel + 1) }),
            ("level 255", { b, l in b[l.levels + levelZero] = 255 }),
            ("levels disagree with upper words", { b, l in b[l.levels + levelZero] = 1 }),
            ("entry point below max level", { b, l in b.setU32(UInt32(levelZero), at: 64) }),
            ("neighbour = count", { b, l in b.setU32(UInt32(n), at: l.block0(node) + 4) }),
            ("neighbour 0xFFFFFFFF", { b, l in b.setU32(.max, at: l.block0(node) + 4) }),
            ("self-loop", { b, l in b.setU32(UInt32(node), at: l.block0(node) + 4) }),
            ("duplicate neighbour", { b, l in b.setU32(UInt32(first), at: l.block0(node) + 8) }),
            ("degree 2M + 1", { b, l in b.setU32(UInt32(2 * l.m + 1), at: l.block0(node)) }),
            ("degree 0xFFFFFFFF", { b, l in b.setU32(.max, at: l.block0(node)) }),
            ("upper degree M + 1", { b, l in b.setU32(UInt32(l.m + 1), at: upperOffset) }),
            ("upper neighbour below its layer", { b, l in b.setU32(UInt32(levelZero), at: upperOffset + 4) }),
            ("upper neighbour out of range", { b, l in b.setU32(UInt32(n + 7), at: upperOffset + 4) }),
            ("root with a parent", { b, l in b.setU32(0, at: l.parents) }),
            ("parent not earlier", { b, l in b.setU32(UInt32(n - 1), at: l.parents + 4 * 5) }),
            ("parent out of range", { b, l in b.setU32(.max, at: l.parents + 4 * 7) }),
            ("tree edge missing from the lists", { b, l in
                // Re-parent node n−1 to a node that does not list it.
                let stranger = (0..<(n - 1)).first { !index.neighbors(of: $0, layer: 0).contains(n - 1) }!
                b.setU32(UInt32(stranger), at: l.parents + 4 * (n - 1))
            }),
        ]
        for (name, edit) in cases {
            let c = Self.crafted(bytes, name, edit)
            #expect(c?.isStructural == true, "\(name): \(String(describing: c))")
        }
        // Precise reasons for a few.
        #expect(Self.crafted(bytes, "NaN") { b, l in b.setU32(Float.nan.bitPattern, at: l.vector(3) + 8) }
                == .invalidVector(row: 3, .nonFinite))
        #expect(Self.crafted(bytes, "self-loop") { b, l in b.setU32(UInt32(node), at: l.block0(node) + 4) }
                == .invalidGraph(.selfLoop(node: node, layer: 0)))
        #expect(Self.crafted(bytes, "degree 2^31") { b, l in b.setU32(0x8000_0000, at: l.block0(node)) }
                == .invalidGraph(.degreeExceeded(node: node, layer: 0)))
        #expect(Self.crafted(bytes, "neighbour 2^31") { b, l in b.setU32(0x8000_0000, at: l.block0(node) + 4) }
                == .invalidGraph(.neighborOutOfRange(node: node, layer: 0)))
        #expect(Self.crafted(bytes, "level padding") { b, l in
            if n % 4 != 0 { b[l.levels + n] = 1 } else { b[l.levels + levelZero] = 255 }
        } == .invalidLevel(node: n % 4 != 0 ? n : levelZero))
        // Flat: non-finite vectors.
        let flat = try Self.smallFlat().serialized()
        #expect(Self.crafted(flat, "flat NaN") { b, l in b.setU32(Float.nan.bitPattern, at: l.vector(10)) }
                == .invalidVector(row: 10, .nonFinite))
        #expect(Self.crafted(flat, "flat version 9") { b, _ in b.setU32(9, at: 8) } == .unsupportedVersion(9))
    }

    @Test("Random graph damage with valid checksums: refused or loaded, never a crash")
    func fuzzGraph() throws {
        let data = ClusteredData(count: 120, queries: 10, dimension: 8, clusters: 5, seed: 1)
        let index = try makeHNSW(data.data, metric: .l2, m: 3, efConstruction: 20)
        let bytes = index.serialized()
        let layout = FileLayout(bytes)
        let n = index.count
        var rng = TestRandom(seed: 99)
        var loadedCount = 0
        var refusedCount = 0
        for round in 0..<600 {
            var b = bytes
            for _ in 0..<(1 + rng.below(4)) {
                // Overwrite a graph word (or a level byte) with a plausible or a wild value.
                let word = rng.below((layout.nextID - layout.layer0) / 4)
                let offset = layout.layer0 + 4 * word
                switch rng.below(4) {
                case 0: b.setU32(UInt32(rng.below(n)), at: offset)
                case 1: b.setU32(UInt32(rng.below(8)), at: offset)
                case 2: b.setU32(UInt32(truncatingIfNeeded: rng.next()), at: offset)
                default: b[layout.levels + rng.below(n)] = UInt8(rng.below(3))
                }
            }
            b.reseal()
            let memory = TestAllocator()
            do {
                let loaded = try HNSWIndex(serialized: b, allocator: memory.allocator)
                loadedCount += 1
                // Whatever loaded must be safe to use.
                for q in 0..<data.queries.count {
                    let r = try loaded.search(data.queries[q], k: 5, ef: 30)
                    #expect(r.count <= 5 && !r.isEmpty)
                    expectWellFormed(r, count: n)
                }
                #expect(try loaded.add(data.queries[0]) == n, "round \(round)")
                expectWellFormed(try loaded.search(data.queries[0], k: 5, ef: 500), count: n + 1)
            } catch {
                if case .corrupt(let c) = error, c.isStructural {} else {
                    Issue.record("round \(round): \(error)")
                }
                refusedCount += 1
            }
            #expect(memory.releases == 1, "round \(round)")
            #expect(memory.liveBlocks == 0, "round \(round)")
        }
        #expect(loadedCount > 0 && refusedCount > 0, "loaded \(loadedCount), refused \(refusedCount)")
    }

    @Test("A refused load releases its allocator and frees everything")
    func refusedLoadReleases() throws {
        let bytes = try Self.smallHNSW().serialized()
        var badHeader = bytes
        badHeader[0] = 0
        var badBody = bytes
        badBody[FileLayout(bytes).block0(0)] = 0xFF
        badBody.reseal()
        var badChecksum = bytes
        badChecksum[bytes.count - 10] ^= 1
        for (name, b) in [("magic", badHeader), ("structure", badBody), ("checksum", badChecksum)] {
            let memory = TestAllocator()
            #expect(throws: EdgeVecError.self, "\(name)") { try HNSWIndex(serialized: b, allocator: memory.allocator) }
            #expect(memory.releases == 1, "\(name)")
            #expect(memory.liveBlocks == 0, "\(name)")
            let viaEnum = TestAllocator()
            #expect(throws: EdgeVecError.self, "\(name)") {
                try b.withUnsafeBytes { (raw) throws(EdgeVecError) in try LoadedIndex.load(serialized: raw, allocator: viaEnum.allocator) }
            }
            #expect(viaEnum.releases == 1, "\(name)")
            #expect(viaEnum.liveBlocks == 0, "\(name)")
        }
        // Loading under memory pressure: outOfMemory, released, nothing leaked.
        let memory = TestAllocator()
        memory.allow(1)
        #expect(throws: EdgeVecError.outOfMemory) { try HNSWIndex(serialized: bytes, allocator: memory.allocator) }
        #expect(memory.releases == 1)
        #expect(memory.liveBlocks == 0)
    }

    @Test("Vectors that add refuses are refused on load, with valid checksums", arguments: IndexKind.allCases)
    func craftedVectors(kind: IndexKind) throws {
        for metric in Metric.allCases {
            let bytes: [UInt8]
            if kind == .hnsw {
                bytes = try Self.smallHNSW(metric).serialized()
            } else {
                let flat = try FlatIndex(dimension: 8, metric: metric)
                try flat.addBatch(ClusteredData(count: 50, queries: 0, dimension: 8, clusters: 4, seed: 809).data.values)
                bytes = flat.serialized()
            }
            let layout = FileLayout(bytes)
            func setVector(_ b: inout [UInt8], _ row: Int, _ values: [Float]) {
                for (i, v) in values.enumerated() { b.setU32(v.bitPattern, at: layout.vector(row) + 4 * i) }
            }
            let huge = [Float](repeating: 1e19, count: 8)
            let zero = [Float](repeating: 0, count: 8)
            var cases: [(String, [Float], EdgeVecError.VectorProblem)] = [
                ("infinity", [1, 2, .infinity, 0, 0, 0, 0, 0], .nonFinite),
                ("NaN", [.nan, 0, 0, 0, 0, 0, 0, 0], .nonFinite),
            ]
            if metric == .cosine {
                cases += [("zero", zero, .zero), ("x 1000", [1000, 0, 0, 0, 0, 0, 0, 0], .notUnitLength),
                          ("half length", [0.5, 0, 0, 0, 0, 0, 0, 0], .notUnitLength), ("1e19", huge, .notUnitLength)]
            } else {
                cases += [("1e19", huge, .tooLarge)]
            }
            for (name, values, problem) in cases {
                let c = Self.crafted(bytes, "\(kind) \(metric) \(name)") { b, _ in setVector(&b, 7, values) }
                #expect(c == .invalidVector(row: 7, problem), "\(kind) \(metric) \(name): \(String(describing: c))")
            }
        }
        // An l2 file relabelled cosine: its vectors are not unit length.
        let l2 = try Self.smallHNSW(.l2).serialized()
        let relabelled = Self.crafted(l2, "l2 relabelled cosine") { b, _ in b.setU32(Metric.cosine.rawValue, at: 16) }
        if case .invalidVector(_, .notUnitLength)? = relabelled {} else {
            Issue.record("l2 relabelled cosine: \(String(describing: relabelled))")
        }
        // A cosine file's vectors are unit length within the tolerance: it loads as it was written.
        let cosine = try Self.smallHNSW(.cosine).serialized()
        #expect(try HNSWIndex(serialized: cosine).serialized() == cosine)
    }
}

extension EdgeVecError.Corruption {
    /// A header field out of range (whichever field).
    var isInvalidHeader: Bool {
        if case .invalidHeader = self { return true }
        return false
    }

    /// Damage found past the header: vectors, levels, graph or tree.
    var isStructural: Bool {
        switch self {
        case .invalidVector, .invalidLevel, .upperWordsMismatch, .entryPointNotOnTopLayer, .invalidGraph, .invalidTree:
            return true
        default:
            return false
        }
    }
}
