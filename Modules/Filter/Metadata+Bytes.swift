import EdgeVecAllocators

// Binary metadata checked and read as bytes, never as `String`: the path of
// the C ABI, of loading a file's metadata section and of moving metadata
// between slots. In Embedded Swift, `String` construction, validation and
// views cost the wasm module about 7 KB gzipped; with this path the module
// builds no `String` at all for metadata. `Metadata(encoded:)` (Swift
// callers) checks through it too, then builds its `String`s.
//
// `MetadataBytes.check` finds, problem for problem, what `validate()` finds
// in the metadata the bytes encode: first the form's structure (lengths
// within the bytes, types, bools, UTF-8), then, field by field, names,
// duplicates, numbers and sizes as `validate()` does (Metadata.swift).

/// A problem `MetadataBytes.check` found: `MetadataProblem`'s case, with
/// the field name as a range of the checked bytes instead of a `String`.
package struct MetadataBytesProblem: Error, Equatable {
    package enum Kind: UInt8, Sendable {
        case invalidFieldName, duplicateField, tooManyFields, invalidNumber, tooLarge, malformed
    }

    package var kind: Kind
    /// The field name's bytes within the checked form (name problems).
    package var name: Range<Int> = 0 ..< 0
    /// The field count (`tooManyFields`) or the byte offset (`malformed`).
    package var number = 0

    package init(kind: Kind, name: Range<Int> = 0 ..< 0, number: Int = 0) {
        self.kind = kind
        self.name = name
        self.number = number
    }

    /// Writes the problem's sentence: the same as `MetadataProblem.write`.
    @_optimize(size)
    package func write(to m: inout MessageBuffer, form: UnsafeRawBufferPointer) {
        let bytes = UnsafeRawBufferPointer(rebasing: form[name]).assumingMemoryBound(to: UInt8.self)
        MetadataProblem.write(kind, name: bytes, number: number, to: &m)
    }

    /// The problem as the Swift API reports it (names as `String`s).
    package func problem(form: UnsafeRawBufferPointer) -> MetadataProblem {
        let name = String(decoding: UnsafeRawBufferPointer(rebasing: form[self.name]), as: UTF8.self)
        switch kind {
        case .invalidFieldName: return .invalidFieldName(name)
        case .duplicateField: return .duplicateField(name)
        case .tooManyFields: return .tooManyFields(number)
        case .invalidNumber: return .invalidNumber(field: name)
        case .tooLarge: return .tooLarge(field: name)
        case .malformed: return .malformed(offset: number)
        }
    }

    /// The same problem at `offset` bytes further into a larger buffer.
    package func shifted(by offset: Int) -> MetadataBytesProblem {
        var p = self
        p.name = name.lowerBound + offset ..< name.upperBound + offset
        if kind == .malformed { p.number += offset }
        return p
    }
}

/// Binary metadata as bytes: checking one form, and walking the fields of a
/// checked one.
package enum MetadataBytes {
    /// Checks the binary form at the start of `bytes` (trailing bytes are the
    /// caller's business) as `Metadata(encoded:)` and `validate()` do.
    /// - Returns: the form's length.
    /// - Complexity: O(form length + fields²).
    @inline(never)   // one copy: the C ABI, loading and decoding all call it
    @_optimize(size)
    package static func check(_ bytes: UnsafeRawBufferPointer) throws(MetadataBytesProblem) -> Int {
        let length = try checkStructure(bytes)
        let form = UnsafeRawBufferPointer(rebasing: bytes[..<length])
        var total = 0
        var problem: MetadataBytesProblem? = nil
        var index = 0
        forEachField(form) { name, tag, value in
            if problem != nil { return }
            let nameRange = name.baseAddress! - form.baseAddress! ..< name.baseAddress! - form.baseAddress! + name.count
            func fail(_ kind: MetadataBytesProblem.Kind) { problem = MetadataBytesProblem(kind: kind, name: nameRange) }
            if !FilterLexer.isFieldName(name.assumingMemoryBound(to: UInt8.self)) { return fail(.invalidFieldName) }
            var earlier = 0
            forEachField(form) { other, _, _ in
                if earlier < index && other.elementsEqual(name) { fail(.duplicateField) }
                earlier += 1
            }
            if problem != nil { return }
            total += name.count
            switch tag {
            case .string:
                if value.count > MetadataLimits.stringBytes { return fail(.tooLarge) }
                total += value.count
            case .integer:
                let x = Int64(bitPattern: value.loadUnaligned(as: UInt64.self).littleEndian)
                if x > MetadataValue.maxInteger || x < -MetadataValue.maxInteger { return fail(.invalidNumber) }
                total += 8
            case .double:
                if !Double(bitPattern: value.loadUnaligned(as: UInt64.self).littleEndian).isFinite {
                    return fail(.invalidNumber)
                }
                total += 8
            case .bool:
                total += 8
            case .strings:
                if Int(value.loadUnaligned(as: UInt16.self).littleEndian) > MetadataLimits.listCount { return fail(.tooLarge) }
                var long = false
                forEachString(inList: value) {
                    long = long || $0.count > MetadataLimits.stringBytes
                    total += $0.count + 8
                }
                if long { return fail(.tooLarge) }
            case .missing:
                break
            }
            if total > MetadataLimits.totalBytes { return fail(.tooLarge) }
            index += 1
        }
        if let problem { throw problem }
        return length
    }

    /// The structural checks: every length within the bytes, known types,
    /// bools 0 or 1, UTF-8 names and strings, at most 64 fields. A read past
    /// the end is `malformed` at the end of the bytes, as `_CheckedReader`
    /// reports it. Sizes within the bytes are not structure: an overlong
    /// string or list is `tooLarge` in its field's turn, as `validate()` has it.
    @_optimize(size)
    static func checkStructure(_ bytes: UnsafeRawBufferPointer) throws(MetadataBytesProblem) -> Int {
        var at = 0
        func malformed(_ offset: Int) -> MetadataBytesProblem { MetadataBytesProblem(kind: .malformed, number: offset) }
        func take(_ n: Int) throws(MetadataBytesProblem) -> Int {
            if n > bytes.count - at { throw malformed(bytes.count) }
            defer { at += n }
            return at
        }
        func u8() throws(MetadataBytesProblem) -> Int { Int(bytes[try take(1)]) }
        func utf8(_ start: Int, _ n: Int) throws(MetadataBytesProblem) {
            if !_isValidUTF8(UnsafeRawBufferPointer(rebasing: bytes[start ..< start + n])) { throw malformed(start) }
        }
        func string() throws(MetadataBytesProblem) {
            let n = bytes.loadUnaligned(fromByteOffset: try take(4), as: UInt32.self).littleEndian
            // Compared before it becomes an `Int`: in wasm32 an `Int` holds no
            // length of 2³¹ or more (the conversion traps).
            if UInt64(n) > UInt64(bytes.count - at) { throw malformed(bytes.count) }
            try utf8(try take(Int(n)), Int(n))
        }
        let count = try u8()
        if count > MetadataLimits.fieldsPerVector {
            throw MetadataBytesProblem(kind: .tooManyFields, number: count)
        }
        for _ in 0..<count {
            let n = try u8()
            let nameAt = try take(n)
            try utf8(nameAt, n)
            let tagAt = at
            switch MetadataStore.Tag(rawValue: UInt8(try u8())) {
            case .string?: try string()
            case .integer?, .double?: _ = try take(8)
            case .bool?:
                if try u8() > 1 { throw malformed(at - 1) }
            case .strings?:
                let list = Int(bytes.loadUnaligned(fromByteOffset: try take(2), as: UInt16.self).littleEndian)
                for _ in 0..<list { try string() }
            case .missing?, nil: throw malformed(tagAt)
            }
        }
        return at
    }

    /// Calls `body` with each field of a checked form, in order: its name,
    /// its type, and its value's bytes (a string's bytes without the length;
    /// 8 for a number; 1 for a bool; for a list, the u16 count and the
    /// strings, for `forEachString(inList:)`).
    /// - Precondition: `form` passed `checkStructure`.
    package static func forEachField(_ form: UnsafeRawBufferPointer,
                                     _ body: (UnsafeRawBufferPointer, MetadataStore.Tag, UnsafeRawBufferPointer) -> Void) {
        var at = 1
        for _ in 0 ..< Int(form[0]) {
            let n = Int(form[at])
            let name = UnsafeRawBufferPointer(rebasing: form[at + 1 ..< at + 1 + n])
            at += 1 + n
            let tag = MetadataStore.Tag(rawValue: form[at])!
            at += 1
            let start = at
            switch tag {
            case .string:
                let length = Int(form.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian)
                body(name, tag, UnsafeRawBufferPointer(rebasing: form[at + 4 ..< at + 4 + length]))
                at += 4 + length
                continue
            case .integer, .double: at += 8
            case .bool: at += 1
            case .strings:
                let list = Int(form.loadUnaligned(fromByteOffset: at, as: UInt16.self).littleEndian)
                at += 2
                for _ in 0..<list { at += 4 + Int(form.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian) }
            case .missing: break
            }
            body(name, tag, UnsafeRawBufferPointer(rebasing: form[start ..< at]))
        }
    }

    /// Calls `body` with each string of a list value from `forEachField`.
    package static func forEachString(inList value: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var at = 2
        for _ in 0 ..< Int(value.loadUnaligned(as: UInt16.self).littleEndian) {
            let n = Int(value.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian)
            body(UnsafeRawBufferPointer(rebasing: value[at + 4 ..< at + 4 + n]))
            at += 4 + n
        }
    }
}

/// Whether `bytes` are well-formed UTF-8 (the Unicode standard's table 3-7:
/// no overlong forms, no surrogates, nothing above U+10FFFF), as
/// `String(validating:as: UTF8.self)` decides.
func _isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
    var i = 0
    let n = bytes.count
    while i < n {
        let b0 = bytes[i]
        if b0 < 0x80 {
            i += 1
            continue
        }
        var need = 0
        var low: UInt8 = 0x80, high: UInt8 = 0xBF   // range of the second byte
        switch b0 {
        case 0xC2...0xDF: need = 1
        case 0xE0: need = 2; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: need = 2
        case 0xED: need = 2; high = 0x9F
        case 0xF0: need = 3; low = 0x90
        case 0xF1...0xF3: need = 3
        case 0xF4: need = 3; high = 0x8F
        default: return false
        }
        if n - i <= need { return false }
        if bytes[i + 1] < low || bytes[i + 1] > high { return false }
        var k = 2
        while k <= need {
            if bytes[i + k] & 0xC0 != 0x80 { return false }
            k += 1
        }
        i += need + 1
    }
    return true
}
