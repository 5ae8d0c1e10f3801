// The metadata section of an index file (format version 3):
//
//     u32  field count c, then c names (u8 length, bytes) in column order
//     u32  record count r, then r records in increasing slot order:
//          u32 slot, u32 byte length, the slot's metadata in binary form
//          (Metadata+Encoding.swift), fields in column order
//
// Little-endian. Loading rebuilds the columns through `set`, so a loaded
// store holds exactly what `validate()` accepts, and its dictionaries only
// the strings in use.

/// Where a metadata section stopped making sense: a byte offset into it.
package struct MetadataSectionError: Error, Equatable {
    package var offset: Int
}

extension MetadataStore {
    /// Writes the section, or counts its bytes when the writer's pointer is nil.
    /// - Complexity: O(slots × fields + bytes).
    @_optimize(size)
    package func encodeSection(into w: inout MetadataRecordWriter) {
        let used = columns.filter { $0.present > 0 }
        w.u32(UInt32(used.count))
        for column in used { column.name.withUnsafeBytes { w.u8(UInt8($0.count)); w.bytes($0) } }
        w.u32(UInt32(slotsWithMetadata))
        if slotsWithMetadata == 0 { return }
        for slot in 0..<slotCount {
            var fieldCount = 0
            for column in used where column.tags[slot] != 0 { fieldCount += 1 }
            if fieldCount == 0 { continue }
            w.u32(UInt32(slot))
            let lengthAt = w.byteCount
            w.u32(0)
            encode(slot: slot, into: &w)
            w.patch(UInt32(w.byteCount - lengthAt - 4), at: lengthAt)
        }
    }

    /// The section's byte count.
    package var encodedSectionByteCount: Int {
        var counter = MetadataRecordWriter(nil)
        encodeSection(into: &counter)
        return counter.byteCount
    }

    /// Reads a section written by `encodeSection` for `slotCount` slots,
    /// checking every name, record and value; a record's slot must be one
    /// `holdsVector` accepts (removed slots have no metadata).
    /// - Throws: the offset, within `bytes`, of the first thing wrong;
    ///   trailing bytes are wrong too.
    /// - Complexity: O(bytes.count + slots × fields).
    package static func decodeSection(_ bytes: UnsafeRawBufferPointer, slotCount: Int,
                                      holdsVector: (Int) -> Bool) throws(MetadataSectionError) -> MetadataStore {
        do throws(MetadataProblem) {
            return try _decodeSection(bytes, slotCount: slotCount, holdsVector: holdsVector)
        } catch {
            guard case .malformed(let offset) = error else { fatalError("unreachable") }
            throw MetadataSectionError(offset: offset)
        }
    }

    /// `decodeSection`, every failure a `.malformed(offset:)`.
    @_optimize(size)
    static func _decodeSection(_ bytes: UnsafeRawBufferPointer, slotCount: Int,
                               holdsVector: (Int) -> Bool) throws(MetadataProblem) -> MetadataStore {
        var store = MetadataStore()
        store.extend(to: slotCount)
        var r = _CheckedReader(bytes)
        let columnCount = try r.load(UInt32.self)
        var nameOffsets: [Int] = []
        for _ in 0..<columnCount {
            let at = r.offset
            let name = try r.bytes(length: Int(try r.u8()))
            if !FilterLexer.isFieldName(name) || store.column(ifPresent: name) != nil { throw .malformed(offset: at) }
            _ = store.column(named: name)
            nameOffsets.append(at)
        }
        let recordCount = try r.load(UInt32.self)
        if UInt64(recordCount) > UInt64(slotCount) { throw .malformed(offset: r.offset - 4) }
        var previous = -1
        for _ in 0..<recordCount {
            let at = r.offset
            let slot = try r.load(UInt32.self)
            let length = try r.load(UInt32.self)
            guard UInt64(slot) < UInt64(slotCount), Int(slot) > previous, holdsVector(Int(slot)) else {
                throw .malformed(offset: at)
            }
            let start = try r.take(length: length)
            let record = UnsafeRawBufferPointer(rebasing: bytes[start ..< start + Int(length)])
            // A record names only declared fields, in column order (as `encodeSection`
            // writes them), so the columns keep the saved order and a save gives the
            // same bytes back.
            guard let used = try? MetadataBytes.check(record), used == record.count, record[0] != 0 else {
                throw .malformed(offset: at)
            }
            var lastColumn = -1
            MetadataBytes.forEachField(record) { name, _, _ in
                guard lastColumn >= -1, let c = store.column(ifPresent: [UInt8](name)), c > lastColumn else {
                    lastColumn = -2
                    return
                }
                lastColumn = c
            }
            if lastColumn == -2 { throw .malformed(offset: at) }
            store.set(encoded: record, at: Int(slot))
            previous = Int(slot)
        }
        if r.offset != bytes.count { throw .malformed(offset: r.offset) }
        // Every declared field is used (`encodeSection` declares only those).
        for (c, column) in store.columns.enumerated() where column.present == 0 {
            throw .malformed(offset: nameOffsets[c])
        }
        return store
    }
}
