// Little-endian bytes at unaligned offsets: what the header and every
// section are written and read with. Inlinable: the loader and the writer
// call them once per vector, slot or node from EdgeVecSearch.

/// Sequential little-endian stores at unaligned offsets.
@usableFromInline
package struct _ByteWriter {
    @usableFromInline package var pointer: UnsafeMutableRawPointer
    @inlinable package init(_ pointer: UnsafeMutableRawPointer) { self.pointer = pointer }

    @inlinable package mutating func u8(_ v: UInt8) { pointer.storeBytes(of: v, as: UInt8.self); pointer += 1 }
    @inlinable package mutating func u32(_ v: UInt32) { pointer.storeBytes(of: v.littleEndian, as: UInt32.self); pointer += 4 }
    @inlinable package mutating func u64(_ v: UInt64) { pointer.storeBytes(of: v.littleEndian, as: UInt64.self); pointer += 8 }

    @inlinable package mutating func floats(_ source: UnsafePointer<Float>, _ n: Int) {
        #if _endian(little)
        pointer.copyMemory(from: source, byteCount: n * 4)
        pointer += n * 4
        #else
        for i in 0..<n { u32(source[i].bitPattern) }
        #endif
    }

    @inlinable package mutating func words(_ source: UnsafePointer<UInt32>, _ n: Int) {
        #if _endian(little)
        pointer.copyMemory(from: source, byteCount: n * 4)
        pointer += n * 4
        #else
        for i in 0..<n { u32(source[i]) }
        #endif
    }

    @inlinable package mutating func bytes(_ source: UnsafePointer<UInt8>, _ n: Int) {
        pointer.copyMemory(from: source, byteCount: n)
        pointer += n
    }

    /// Moves past bytes written through the pointer by other code.
    @inlinable package mutating func skip(_ n: Int) { pointer += n }
}

/// Sequential little-endian loads at unaligned offsets. Bounds are checked
/// once, against the header, before reading.
@usableFromInline
package struct _ByteReader {
    @usableFromInline package var pointer: UnsafeRawPointer
    @inlinable package init(_ pointer: UnsafeRawPointer) { self.pointer = pointer }

    @inlinable package mutating func u32() -> UInt32 { defer { pointer += 4 }; return pointer.loadLE32() }
    @inlinable package mutating func u64() -> UInt64 {
        defer { pointer += 8 }
        return UInt64(littleEndian: pointer.loadUnaligned(as: UInt64.self))
    }

    @inlinable package mutating func floats(into destination: UnsafeMutablePointer<Float>, _ n: Int) {
        #if _endian(little)
        UnsafeMutableRawPointer(destination).copyMemory(from: pointer, byteCount: n * 4)
        pointer += n * 4
        #else
        for i in 0..<n { destination[i] = Float(bitPattern: u32()) }
        #endif
    }

    @inlinable package mutating func words(into destination: UnsafeMutablePointer<UInt32>, _ n: Int) {
        #if _endian(little)
        UnsafeMutableRawPointer(destination).copyMemory(from: pointer, byteCount: n * 4)
        pointer += n * 4
        #else
        for i in 0..<n { destination[i] = u32() }
        #endif
    }

    @inlinable package mutating func skip(_ n: Int) { pointer += n }
}

extension UnsafeRawPointer {
    @inlinable package func loadLE32() -> UInt32 { UInt32(littleEndian: loadUnaligned(as: UInt32.self)) }
}

/// `Array.withUnsafeBytes` with a typed-throwing body (the standard library's
/// is untyped `rethrows`).
@inlinable
package func _withBytes<R, E: Error>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
    var result: Result<R, E>?
    bytes.withUnsafeBytes { raw in
        result = Result { () throws(E) -> R in try body(raw) }
    }
    return try result!.get()
}
