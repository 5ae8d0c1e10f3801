import EdgeVecAllocators
import EdgeVecConcurrency

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
    static let headerSize = 96
    static let trailerSize = 4
    static let noEntry: UInt32 = 0xFFFF_FFFF

    enum Kind: UInt32 { case hnsw = 0, flat = 1 }

    /// The header fields, decoded and range-checked.
    struct Header {
        var version: UInt32
        var kind: Kind
        var metric: Metric
        var dimension: Int
        var count: Int
        var m: Int
        var efConstruction: Int
        var efSearch: Int
        var maxLevel: Int
        var seed: UInt64
        var rngState: UInt64
        var entryPoint: UInt32
        var upperWords: Int
        /// Removed slots, and how many of them are free (version 2).
        var removedCount: Int
        var freeCount: Int
        /// The metadata section's bytes (version 3; 0 before).
        var metadataBytes = 0

        /// Body bytes these fields imply, or nil on overflow.
        var bodyBytes: Int? {
            guard let fixed = fixedBodyBytes else { return nil }
            let (b, o) = fixed.addingReportingOverflow(metadataBytes)
            return o ? nil : b
        }

        /// Body bytes before the metadata section.
        var fixedBodyBytes: Int? {
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

        var version1BodyBytes: Int? {
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

        var totalBytes: Int? {
            guard let b = bodyBytes else { return nil }
            let (t, o) = b.addingReportingOverflow(IndexFormat.headerSize + IndexFormat.trailerSize)
            return o ? nil : t
        }

        func write(into base: UnsafeMutableRawPointer) {
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
        static func read(_ bytes: UnsafeRawBufferPointer, kind: Kind,
                         releasingOnFailure allocator: RawAllocator) throws(EdgeVecError) -> Header {
            do throws(EdgeVecError) {
                let header = try read(bytes)
                if header.kind != kind { throw .corrupt(.invalidHeader(.kind, value: UInt64(header.kind.rawValue))) }
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
        static func read(_ bytes: UnsafeRawBufferPointer) throws(EdgeVecError) -> Header {
            let magic = IndexFormat.magic
            for i in 0..<min(bytes.count, magic.count) where bytes[i] != magic[i] {
                throw .corrupt(.badMagic)
            }
            if bytes.count == 0 { throw .corrupt(.badMagic) }
            if bytes.count < headerSize { throw .corrupt(.truncated) }
            let base = bytes.baseAddress!
            var r = _ByteReader(base + 8)
            if _CRC32C.checksum(UnsafeRawBufferPointer(start: base, count: 92)) != (base + 92).loadLE32() {
                throw .corrupt(.checksumMismatch)
            }
            let version = r.u32()
            let rawKind = r.u32(), rawMetric = r.u32()
            guard let kind = Kind(rawValue: rawKind) else { throw .corrupt(.invalidHeader(.kind, value: UInt64(rawKind))) }
            if version < 1 || version > IndexFormat.version {
                throw .corrupt(.unsupportedVersion(version))
            }
            guard let metric = Metric(rawValue: rawMetric) else {
                throw .corrupt(.invalidHeader(.metric, value: UInt64(rawMetric)))
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

            func bad(_ field: EdgeVecError.HeaderField, _ value: UInt64) -> EdgeVecError {
                .corrupt(.invalidHeader(field, value: value))
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
            if bytes.count < total { throw .corrupt(.truncated) }
            if bytes.count > total { throw .corrupt(.trailingBytes) }
            let body = UnsafeRawBufferPointer(start: base, count: total - trailerSize)
            if _CRC32C.checksum(body) != (base + total - trailerSize).loadLE32() {
                throw .corrupt(.checksumMismatch)
            }
            return header
        }
    }
}

/// Sequential little-endian stores at unaligned offsets.
struct _ByteWriter {
    var pointer: UnsafeMutableRawPointer
    init(_ pointer: UnsafeMutableRawPointer) { self.pointer = pointer }

    mutating func u8(_ v: UInt8) { pointer.storeBytes(of: v, as: UInt8.self); pointer += 1 }
    mutating func u32(_ v: UInt32) { pointer.storeBytes(of: v.littleEndian, as: UInt32.self); pointer += 4 }
    mutating func u64(_ v: UInt64) { pointer.storeBytes(of: v.littleEndian, as: UInt64.self); pointer += 8 }

    mutating func floats(_ source: UnsafePointer<Float>, _ n: Int) {
        #if _endian(little)
        pointer.copyMemory(from: source, byteCount: n * 4)
        pointer += n * 4
        #else
        for i in 0..<n { u32(source[i].bitPattern) }
        #endif
    }

    mutating func words(_ source: UnsafePointer<UInt32>, _ n: Int) {
        #if _endian(little)
        pointer.copyMemory(from: source, byteCount: n * 4)
        pointer += n * 4
        #else
        for i in 0..<n { u32(source[i]) }
        #endif
    }

    mutating func bytes(_ source: UnsafePointer<UInt8>, _ n: Int) {
        pointer.copyMemory(from: source, byteCount: n)
        pointer += n
    }

    /// Moves past bytes written through the pointer by other code.
    mutating func skip(_ n: Int) { pointer += n }
}

/// Sequential little-endian loads at unaligned offsets. Bounds are checked
/// once, against the header, before reading.
struct _ByteReader {
    var pointer: UnsafeRawPointer
    init(_ pointer: UnsafeRawPointer) { self.pointer = pointer }

    mutating func u32() -> UInt32 { defer { pointer += 4 }; return pointer.loadLE32() }
    mutating func u64() -> UInt64 {
        defer { pointer += 8 }
        return UInt64(littleEndian: pointer.loadUnaligned(as: UInt64.self))
    }

    mutating func floats(into destination: UnsafeMutablePointer<Float>, _ n: Int) {
        #if _endian(little)
        UnsafeMutableRawPointer(destination).copyMemory(from: pointer, byteCount: n * 4)
        pointer += n * 4
        #else
        for i in 0..<n { destination[i] = Float(bitPattern: u32()) }
        #endif
    }

    mutating func words(into destination: UnsafeMutablePointer<UInt32>, _ n: Int) {
        #if _endian(little)
        UnsafeMutableRawPointer(destination).copyMemory(from: pointer, byteCount: n * 4)
        pointer += n * 4
        #else
        for i in 0..<n { destination[i] = u32() }
        #endif
    }

    mutating func skip(_ n: Int) { pointer += n }
}

extension UnsafeRawPointer {
    func loadLE32() -> UInt32 { UInt32(littleEndian: loadUnaligned(as: UInt32.self)) }
}

/// `Array.withUnsafeBytes` with a typed-throwing body (the standard library's
/// is untyped `rethrows`).
func _withBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(EdgeVecError) -> R) throws(EdgeVecError) -> R {
    var result: Result<R, EdgeVecError>?
    bytes.withUnsafeBytes { raw in
        result = Result { () throws(EdgeVecError) -> R in try body(raw) }
    }
    return try result!.get()
}

/// What both index kinds provide to be written out: their header and body;
/// the framing (header, trailing checksum) and the locking are shared below.
protocol _Serializable: AnyObject {
    var _header: IndexFormat.Header { get }
    var filtering: _FilterState { get }
    var lock: ReadWriteLock { get }
    /// Writes the body that follows the header.
    func _writeBody(_ w: inout _ByteWriter)
}

extension _Serializable {
    /// Header, body, then the CRC-32C of both; returns the byte count.
    /// `header` is `_header`, computed once by the caller (it sizes the
    /// metadata section, a walk over every record).
    func _serializeFramed(into buffer: UnsafeMutableRawBufferPointer, header: IndexFormat.Header) -> Int {
        let total = header.totalBytes!
        precondition(buffer.count >= total, "buffer too small for the serialized index")
        let base = buffer.baseAddress!
        header.write(into: base)
        var w = _ByteWriter(base + IndexFormat.headerSize)
        _writeBody(&w)
        filtering.writeSection(&w)
        w.u32(_CRC32C.checksum(UnsafeRawBufferPointer(start: base, count: total - IndexFormat.trailerSize)))
        return total
    }

    /// `serializedByteCount`, under the read lock.
    func _serializedByteCount() -> Int { lock.withReadLock { _header.totalBytes! } }

    /// `serialize(into:)`, under the read lock.
    func _serialize(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        lock.withReadLock { _serializeFramed(into: buffer, header: _header) }
    }

    /// The serialized bytes as an array, under the read lock.
    func _serializedArray() -> [UInt8] {
        lock.withReadLock {
            let header = _header
            return [UInt8](unsafeUninitializedCapacity: header.totalBytes!) { buffer, initialized in
                initialized = _serializeFramed(into: UnsafeMutableRawBufferPointer(buffer), header: header)
            }
        }
    }
}
