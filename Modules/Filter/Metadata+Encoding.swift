// The binary form of one vector's metadata: what the C ABI and JS pass
// across the boundary and what an index file stores per vector. Bytes from
// outside are hostile: `decode` checks every length against the buffer,
// every tag, every string's UTF-8, then the names and limits (`validate`).
//
//     u8   field count (≤ 64)
//     per field:
//       u8   name length, name bytes
//       u8   type: 1 string, 2 integer, 3 double, 4 bool, 5 list of strings
//       string:  u32 byte length, UTF-8 bytes
//       integer: i64
//       double:  f64 (finite)
//       bool:    u8, 0 or 1
//       list:    u16 string count, then each string as above
//
// Little-endian throughout. The type numbers are `MetadataStore.Tag`'s.

/// Writes the binary form, or only counts its bytes when `pointer` is nil:
/// one routine sizes and writes, so the two never disagree.
package struct MetadataRecordWriter {
    package private(set) var pointer: UnsafeMutableRawPointer?
    package private(set) var byteCount = 0

    package init(_ pointer: UnsafeMutableRawPointer?) { self.pointer = pointer }

    mutating func u8(_ v: UInt8) { put(v) }
    mutating func u16(_ v: UInt16) { put(v.littleEndian) }
    mutating func u32(_ v: UInt32) { put(v.littleEndian) }
    mutating func u64(_ v: UInt64) { put(v.littleEndian) }

    mutating func put<T: FixedWidthInteger>(_ v: T) {
        if let p = pointer { p.storeBytes(of: v, toByteOffset: byteCount, as: T.self) }
        byteCount += MemoryLayout<T>.size
    }

    /// Overwrites a u32 written earlier (a length known only afterwards).
    package mutating func patch(_ v: UInt32, at offset: Int) {
        pointer?.storeBytes(of: v.littleEndian, toByteOffset: offset, as: UInt32.self)
    }

    mutating func bytes(_ source: UnsafeRawBufferPointer) {
        if let p = pointer, let s = source.baseAddress { (p + byteCount).copyMemory(from: s, byteCount: source.count) }
        byteCount += source.count
    }

    /// A length-prefixed string.
    mutating func string(_ source: UnsafeRawBufferPointer) {
        u32(UInt32(source.count))
        bytes(source)
    }

    package mutating func fieldCount(_ n: Int) { u8(UInt8(n)) }

    /// A field's name and type byte; its value follows.
    package mutating func field(_ name: UnsafeRawBufferPointer, _ tag: MetadataStore.Tag) {
        u8(UInt8(name.count))
        bytes(name)
        u8(tag.rawValue)
    }

    /// A number or bool: `bits` is the integer's or double's bit pattern, or
    /// 0/1 for a bool; strings come through `string`.
    package mutating func scalar(_ bits: UInt64, _ tag: MetadataStore.Tag) {
        if tag == .bool { u8(UInt8(bits)) } else { u64(bits) }
    }

    package mutating func listCount(_ n: Int) { u16(UInt16(n)) }

    package mutating func string(_ s: [UInt8]) { s.withUnsafeBytes { string($0) } }
}

extension Metadata {
    /// Writes the binary form (see Metadata+Encoding.swift).
    /// - Precondition: `validate()` is nil (it bounds every length).
    package func encode(into w: inout MetadataRecordWriter) {
        w.fieldCount(fields.count)
        for field in fields {
            var name = field.name
            let tag: MetadataStore.Tag
            switch field.value {
            case .string: tag = .string
            case .integer: tag = .integer
            case .double: tag = .double
            case .bool: tag = .bool
            case .strings: tag = .strings
            }
            name.withUTF8 { w.field(UnsafeRawBufferPointer($0), tag) }
            switch field.value {
            case .string(var s): s.withUTF8 { w.string(UnsafeRawBufferPointer($0)) }
            case .integer(let x): w.scalar(UInt64(bitPattern: x), tag)
            case .double(let x): w.scalar(x.bitPattern, tag)
            case .bool(let b): w.scalar(b ? 1 : 0, tag)
            case .strings(let list):
                w.listCount(list.count)
                for var s in list { s.withUTF8 { w.string(UnsafeRawBufferPointer($0)) } }
            }
        }
    }

    /// The binary form as bytes.
    /// - Precondition: `validate()` is nil.
    public func encoded() -> [UInt8] {
        var counter = MetadataRecordWriter(nil)
        encode(into: &counter)
        return [UInt8](unsafeUninitializedCapacity: counter.byteCount) { buffer, initialized in
            var w = MetadataRecordWriter(UnsafeMutableRawPointer(buffer.baseAddress))
            encode(into: &w)
            initialized = w.byteCount
        }
    }

    /// Decodes the binary form from the start of `bytes`, checked by
    /// `MetadataBytes.check` (structure, then as `validate()` does).
    /// - Returns: the metadata and the bytes its form took (trailing bytes
    ///   are the caller's business).
    /// - Throws: `.malformed(offset:)` where the bytes stop making sense
    ///   (short, bad type, bool not 0/1, invalid UTF-8), else `validate()`'s problem.
    /// - Complexity: O(bytes.count).
    package static func decode(_ bytes: UnsafeRawBufferPointer) throws(MetadataProblem) -> (Metadata, Int) {
        let length: Int
        do throws(MetadataBytesProblem) {
            length = try MetadataBytes.check(bytes)
        } catch {
            throw error.problem(form: bytes)
        }
        func string(_ b: UnsafeRawBufferPointer) -> String { String(decoding: b, as: UTF8.self) }   // checked UTF-8
        var fields: [(name: String, value: MetadataValue)] = []
        MetadataBytes.forEachField(UnsafeRawBufferPointer(rebasing: bytes[..<length])) { name, tag, value in
            let v: MetadataValue
            switch tag {
            case .string: v = .string(string(value))
            case .integer: v = .integer(Int64(bitPattern: value.loadUnaligned(as: UInt64.self).littleEndian))
            case .double: v = .double(Double(bitPattern: value.loadUnaligned(as: UInt64.self).littleEndian))
            case .bool: v = .bool(value[0] == 1)
            case .strings:
                var list: [String] = []
                MetadataBytes.forEachString(inList: value) { list.append(string($0)) }
                v = .strings(list)
            case .missing: return
            }
            fields.append((name: string(name), value: v))
        }
        return (Metadata(fields), length)
    }

    /// Decodes a buffer that holds exactly one binary form.
    public init(encoded bytes: UnsafeRawBufferPointer) throws(MetadataProblem) {
        let (metadata, used) = try Metadata.decode(bytes)
        if used != bytes.count { throw .malformed(offset: used) }
        self = metadata
    }
}

/// Little-endian reads that check the bounds first.
struct _CheckedReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func take(_ n: Int) throws(MetadataProblem) -> Int {
        if n > bytes.count - offset { throw .malformed(offset: bytes.count) }
        defer { offset += n }
        return offset
    }

    /// `take` for a length read from the bytes, compared before it becomes
    /// an `Int`: in wasm32 an `Int` holds no length of 2³¹ or more (the
    /// conversion traps).
    mutating func take(length n: UInt32) throws(MetadataProblem) -> Int {
        if UInt64(n) > UInt64(bytes.count - offset) { throw .malformed(offset: bytes.count) }
        return try take(Int(n))
    }

    mutating func load<T: FixedWidthInteger>(_: T.Type) throws(MetadataProblem) -> T {
        let at = try take(MemoryLayout<T>.size)
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: T.self))
    }

    mutating func u8() throws(MetadataProblem) -> UInt8 { try load(UInt8.self) }
    mutating func u16() throws(MetadataProblem) -> UInt16 { try load(UInt16.self) }
    mutating func u64() throws(MetadataProblem) -> UInt64 { try load(UInt64.self) }

    mutating func bytes(length n: Int) throws(MetadataProblem) -> [UInt8] {
        let at = try take(n)
        return [UInt8](UnsafeRawBufferPointer(rebasing: bytes[at ..< at + n]))
    }
}
