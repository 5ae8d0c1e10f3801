import EdgeVecAllocators
import EdgeVecFilter
import EdgeVecFormat
import EdgeVecStorage

/// An index's metadata store composed with the rest of the index: its
/// section of the file (Format), its problems as `EdgeVecError`. Both index
/// kinds keep one; `_SearchableIndex._matching` evaluates filters over it.
/// Invariant: `store.slotCount` is the index's slot count
/// (every write that adds slots extends it), so that evaluating, which
/// concurrent searches do, changes nothing.
struct _FilterState {
    /// Metadata per slot, by field (Swift arrays, not the index allocator's memory).
    var store = MetadataStore()

    var allocatedBytes: Int { store.allocatedBytes }

    /// Bytes of the metadata section (format version 3).
    var sectionByteCount: Int { store.encodedSectionByteCount }

    /// Writes the metadata section (format version 3).
    func writeSection(_ w: inout _ByteWriter) {
        var section = MetadataRecordWriter(w.pointer)
        store.encodeSection(into: &section)
        w.skip(section.byteCount)
    }

    /// Reads the metadata section of a version-3 body (nothing before
    /// version 3), whose slot ids are already loaded into `slots`.
    mutating func loadSection(_ header: IndexFormat.Header, _ r: inout _ByteReader,
                              slots: SlotTable) throws(EdgeVecError) {
        defer { store.extend(to: header.count) }
        if header.version < 3 { return }
        let section = UnsafeRawBufferPointer(start: r.pointer, count: header.metadataBytes)
        do throws(MetadataSectionError) {
            store = try MetadataStore.decodeSection(section, slotCount: header.count) { !slots.isRemoved($0) }
        } catch {
            throw .corrupt(.invalidMetadata(offset: IndexFormat.headerSize + header.fixedBodyBytes! + error.offset))
        }
        r.skip(header.metadataBytes)
    }

    /// Metadata checked against the limits, or the error to throw.
    static func check(_ metadata: Metadata) throws(EdgeVecError) {
        if let problem = metadata.validate() { throw .invalidMetadata(problem) }
    }
}

/// Exact search over the slots whose bit is set, into `results` (at most `k`).
@_optimize(speed)
func _scanMatching<K: _DistanceKernel>(_ kernel: K.Type, _ q: UnsafePointer<Float>, k: Int,
                                       bits: UnsafeBufferPointer<UInt64>, vectors: VectorStorage,
                                       results: inout _CandidateHeap<_FarthestFirst>) {
    results.removeAll()
    let stride = vectors.stride
    for (w, word) in bits.enumerated() {
        var rest = word
        while rest != 0 {
            let s = w &<< 6 | rest.trailingZeroBitCount
            rest &= rest &- 1
            let c = _Candidate(K.distance(q, vectors.pointer(at: s), stride), UInt32(truncatingIfNeeded: s))
            if results.count < k { results.push(c) } else if c._key < results.top._key { results.replaceTop(c) }
        }
    }
}
