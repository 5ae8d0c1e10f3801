import EdgeVecAllocators

/// EdgeVec index format, version 3. Little-endian throughout; the same
/// bytes on every target. Version 1 and 2 files load as ever (version 1's
/// ids are 0…n−1; neither has metadata).
///
///     offset  size  field
///          0     8  magic "EDGEVEC\0"
///          8     4  format version (1, 2 or 3)
///         12     4  kind: 0 HNSW, 1 flat
///         16     4  metric: 0 l2, 1 cosine, 2 dot
///         20     4  dimension
///         24     8  vector count n
///         32     4  M (0 for flat)
///         36     4  efConstruction
///         40     4  efSearch
///         44     4  max level
///         48     8  seed
///         56     8  generator state (so inserts after a load continue the same sequence)
///         64     4  entry point (0xFFFFFFFF when empty)
///         68     4  version ≥ 2: removed slots r (< n unless n = 0); version 1: reserved, 0
///         72     8  upper-layer words U
///         80     8  body bytes B
///         88     4  version ≥ 2: free slots f ≤ r (removed and unlinked, reused first); version 1: reserved, 0
///         92     4  CRC-32C of bytes 0..<92
///         96     B  body: n·dim float32 vectors (unpadded; cosine vectors normalised),
///                   then for HNSW: n level bytes padded to 4, n layer-0 tree parents
///                   (0xFFFFFFFF for node 0), n·(1+2M) layer-0 words (count, then
///                   ids), U upper-layer words in node order;
///                   version 2 adds (both kinds): the next id to assign (u64), n slot ids
///                   (u64; 0xFFFFFFFFFFFFFFFF for a removed slot), r removed
///                   slots (u32): the f free ones (the next to reuse last),
///                   then the pending ones in removal order;
///                   version 3 adds (both kinds) the metadata section, the
///                   rest of the body (MetadataStore+Encoding.swift: at least 8 bytes)
///     96 + B     4  CRC-32C of bytes 0..<96+B
///
/// n counts slots, removed ones included: a removed vector's node stays in
/// the graph until its slot is reused.
public enum IndexFormat {
    public static let magic: [UInt8] = [0x45, 0x44, 0x47, 0x45, 0x56, 0x45, 0x43, 0x00]   // "EDGEVEC\0"
    /// The version this build writes (it reads 1, 2 and 3).
    public static let version: UInt32 = 3
    package static let headerSize = 96
    package static let trailerSize = 4
    package static let noEntry: UInt32 = 0xFFFF_FFFF

    package enum Kind: UInt32 { case hnsw = 0, flat = 1 }

    /// The header fields, decoded and range-checked.
    package struct Header {
        package var version: UInt32
        package var kind: Kind
        package var metric: Metric
        package var dimension: Int
        package var count: Int
        package var m: Int
        package var efConstruction: Int
        package var efSearch: Int
        package var maxLevel: Int
        package var seed: UInt64
        package var rngState: UInt64
        package var entryPoint: UInt32
        package var upperWords: Int
        /// Removed slots, and how many of them are free (version 2).
        package var removedCount: Int
        package var freeCount: Int
        /// The metadata section's bytes (version 3; 0 before).
        package var metadataBytes = 0

        package init(version: UInt32, kind: Kind, metric: Metric, dimension: Int, count: Int, m: Int,
                     efConstruction: Int, efSearch: Int, maxLevel: Int, seed: UInt64, rngState: UInt64,
                     entryPoint: UInt32, upperWords: Int, removedCount: Int, freeCount: Int, metadataBytes: Int = 0) {
            self.version = version
            self.kind = kind
            self.metric = metric
            self.dimension = dimension
            self.count = count
            self.m = m
            self.efConstruction = efConstruction
            self.efSearch = efSearch
            self.maxLevel = maxLevel
            self.seed = seed
            self.rngState = rngState
            self.entryPoint = entryPoint
            self.upperWords = upperWords
            self.removedCount = removedCount
            self.freeCount = freeCount
            self.metadataBytes = metadataBytes
        }

        /// Body bytes these fields imply, or nil on overflow.
        package var bodyBytes: Int? {
            guard let fixed = fixedBodyBytes else { return nil }
            let (b, o) = fixed.addingReportingOverflow(metadataBytes)
            return o ? nil : b
        }

        /// Body bytes before the metadata section.
        package var fixedBodyBytes: Int? {
            guard let v1 = version1BodyBytes else { return nil }
            if version == 1 { return v1 }
            // The next id, one id per slot, one word per free slot.
            let (ids, o1) = count.multipliedReportingOverflow(by: 8)
            let (free, o2) = removedCount.multipliedReportingOverflow(by: 4)
            let (s1, o3) = v1.addingReportingOverflow(8)
            let (s2, o4) = s1.addingReportingOverflow(ids)
            let (s3, o5) = s2.addingReportingOverflow(free)
            return o1 || o2 || o3 || o4 || o5 ? nil : s3
        }

        package var version1BodyBytes: Int? {
            let (v, o1) = count.multipliedReportingOverflow(by: dimension * 4)
            if o1 { return nil }
            if kind == .flat { return v }
            // Level bytes padded to 4, then one parent word per node: < 5·count + 4.
            let (levelsAndParents, o0) = count.multipliedReportingOverflow(by: 5)
            if o0 || levelsAndParents > Int.max - 8 { return nil }
            let levels = ((count &+ 3) & ~3) &+ count &* 4
            let (l0, o2) = count.multipliedReportingOverflow(by: (1 + 2 * m) * 4)
            let (up, o3) = upperWords.multipliedReportingOverflow(by: 4)
            if o2 || o3 { return nil }
            let (s1, o4) = v.addingReportingOverflow(levels)
            let (s2, o5) = s1.addingReportingOverflow(l0)
            let (s3, o6) = s2.addingReportingOverflow(up)
            return o4 || o5 || o6 ? nil : s3
        }

        package var totalBytes: Int? {
            guard let b = bodyBytes else { return nil }
            let (t, o) = b.addingReportingOverflow(IndexFormat.headerSize + IndexFormat.trailerSize)
            return o ? nil : t
        }

        package func write(into base: UnsafeMutableRawPointer) {
            var w = _ByteWriter(base)
            for b in IndexFormat.magic { w.u8(b) }
            w.u32(version)
            w.u32(kind.rawValue)
            w.u32(metric.rawValue)
            w.u32(UInt32(dimension))
            w.u64(UInt64(count))
            w.u32(UInt32(m))
            w.u32(UInt32(efConstruction))
            w.u32(UInt32(efSearch))
            w.u32(UInt32(maxLevel))
            w.u64(seed)
            w.u64(rngState)
            w.u32(entryPoint)
            w.u32(UInt32(removedCount))
            w.u64(UInt64(upperWords))
            w.u64(UInt64(bodyBytes!))
            w.u32(UInt32(freeCount))
            w.u32(_CRC32C.checksum(UnsafeRawBufferPointer(start: base, count: 92)))
        }

        /// `read`, then a check of the kind; releases `allocator` when either
        /// fails (the index that would have owned it is never created).
        package static func read(_ bytes: UnsafeRawBufferPointer, kind: Kind,
                                 releasingOnFailure allocator: RawAllocator) throws(Corruption) -> Header {
            do throws(Corruption) {
                let header = try read(bytes)
                if header.kind != kind { throw .invalidHeader(.kind, value: UInt64(header.kind.rawValue)) }
                return header
            } catch {
                allocator.release()
                throw error
            }
        }

        /// Decodes and checks a header; on success the caller may trust that
        /// `bytes` holds exactly `totalBytes` bytes with a valid checksum and
        /// that every field is in range. Every field is compared in its own
        /// width (UInt32/UInt64) before it becomes an `Int`, which is 32 bits
        /// on wasm32, so no crafted value can trap.
        package static func read(_ bytes: UnsafeRawBufferPointer) throws(Corruption) -> Header {
            let magic = IndexFormat.magic
            for i in 0..<min(bytes.count, magic.count) where bytes[i] != magic[i] {
                throw .badMagic
            }
            if bytes.count == 0 { throw .badMagic }
            if bytes.count < headerSize { throw .truncated }
            let base = bytes.baseAddress!
            var r = _ByteReader(base + 8)
            if _CRC32C.checksum(UnsafeRawBufferPointer(start: base, count: 92)) != (base + 92).loadLE32() {
                throw .checksumMismatch
            }
            let version = r.u32()
            let rawKind = r.u32(), rawMetric = r.u32()
            guard let kind = Kind(rawValue: rawKind) else { throw .invalidHeader(.kind, value: UInt64(rawKind)) }
            if version < 1 || version > IndexFormat.version {
                throw .unsupportedVersion(version)
            }
            guard let metric = Metric(rawValue: rawMetric) else {
                throw .invalidHeader(.metric, value: UInt64(rawMetric))
            }
            let dimension = r.u32()
            let count = r.u64()
            let m = r.u32(), efConstruction = r.u32(), efSearch = r.u32(), maxLevel = r.u32()
            let seed = r.u64()
            let rngState = r.u64()
            let entryPoint = r.u32()
            let word68 = r.u32()
            let upperWords = r.u64()
            let bodyBytes = r.u64()
            let word88 = r.u32()

            func bad(_ field: HeaderField, _ value: UInt64) -> Corruption {
                .invalidHeader(field, value: value)
            }
            if version == 1 && word68 != 0 { throw bad(.reserved, UInt64(word68)) }
            if version == 1 && word88 != 0 { throw bad(.reserved, UInt64(word88)) }
            // Removed slots: fewer than the slots (the last removal empties the index).
            if version >= 2 && word68 != 0 && UInt64(word68) >= count { throw bad(.removedCount, UInt64(word68)) }
            if version >= 2 && word88 > word68 { throw bad(.freeCount, UInt64(word88)) }
            // A flat index frees a removed slot at once: it never has pending ones.
            if version >= 2 && kind == .flat && word88 != word68 { throw bad(.freeCount, UInt64(word88)) }
            guard dimension >= 1, dimension <= UInt32(Limits.maxDimension) else { throw bad(.dimension, UInt64(dimension)) }
            guard count <= UInt64(Limits.maxCount) else { throw bad(.count, count) }
            switch kind {
            case .hnsw:
                guard m >= UInt32(Limits.mRange.lowerBound), m <= UInt32(Limits.mRange.upperBound) else {
                    throw bad(.m, UInt64(m))
                }
                guard efConstruction >= 1, efConstruction <= UInt32(Limits.maxEf) else {
                    throw bad(.efConstruction, UInt64(efConstruction))
                }
                guard efSearch >= 1, efSearch <= UInt32(Limits.maxEf) else { throw bad(.efSearch, UInt64(efSearch)) }
                if count == 0 {
                    // An empty index has no entry point, levels or upper layers.
                    if entryPoint != noEntry { throw bad(.entryPoint, UInt64(entryPoint)) }
                    if maxLevel != 0 { throw bad(.maxLevel, UInt64(maxLevel)) }
                    if upperWords != 0 { throw bad(.upperWords, upperWords) }
                } else {
                    if UInt64(entryPoint) >= count { throw bad(.entryPoint, UInt64(entryPoint)) }
                    if maxLevel > UInt32(255) { throw bad(.maxLevel, UInt64(maxLevel)) }
                    // Each node holds at most `maxLevel` blocks of 1 + M words. Wrapping
                    // arithmetic: count < 2³², maxLevel ≤ 255 and M ≤ 128 keep it below
                    // 2⁴⁸, and an overflow-checked 64-bit multiply needs compiler-rt's
                    // __multi3, which the wasm module does not link.
                    let most = count &* (UInt64(maxLevel) &* UInt64(1 + m))
                    if upperWords > most { throw bad(.upperWords, upperWords) }
                }
            case .flat:
                // Fields a flat index does not use are written as zero (no entry: all ones).
                if m != 0 { throw bad(.m, UInt64(m)) }
                if efConstruction != 0 { throw bad(.efConstruction, UInt64(efConstruction)) }
                if efSearch != 0 { throw bad(.efSearch, UInt64(efSearch)) }
                if maxLevel != 0 { throw bad(.maxLevel, UInt64(maxLevel)) }
                if seed != 0 { throw bad(.seed, seed) }
                if rngState != 0 { throw bad(.generatorState, rngState) }
                if entryPoint != noEntry { throw bad(.entryPoint, UInt64(entryPoint)) }
                if upperWords != 0 { throw bad(.upperWords, upperWords) }
            }
            // Everything above is now in range for `Int`, even on wasm32
            // (upper words ≤ count · 255 · 129 may not be: bodyBytes decides).
            guard let upper = Int(exactly: upperWords) else { throw bad(.upperWords, upperWords) }
            var header = Header(version: version, kind: kind, metric: metric, dimension: Int(dimension), count: Int(count), m: Int(m),
                                efConstruction: Int(efConstruction), efSearch: Int(efSearch), maxLevel: Int(maxLevel),
                                seed: seed, rngState: rngState, entryPoint: entryPoint, upperWords: upper,
                                removedCount: Int(word68), freeCount: Int(word88))
            guard let fixed = header.fixedBodyBytes else { throw bad(.bodyBytes, bodyBytes) }
            if version >= 3 {
                // The metadata section takes the rest: at least its two counts.
                guard bodyBytes >= UInt64(fixed) + 8, let rest = Int(exactly: bodyBytes - UInt64(fixed)) else {
                    throw bad(.bodyBytes, bodyBytes)
                }
                header.metadataBytes = rest
            }
            guard let expected = header.bodyBytes, UInt64(expected) == bodyBytes,
                  header.totalBytes != nil else { throw bad(.bodyBytes, bodyBytes) }
            let total = header.totalBytes!
            if bytes.count < total { throw .truncated }
            if bytes.count > total { throw .trailingBytes }
            let body = UnsafeRawBufferPointer(start: base, count: total - trailerSize)
            if _CRC32C.checksum(body) != (base + total - trailerSize).loadLE32() {
                throw .checksumMismatch
            }
            return header
        }
    }
}

