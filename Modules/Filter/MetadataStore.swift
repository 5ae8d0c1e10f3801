/// The metadata of an index, slot by slot, as one column per field: what
/// filters run against. A slot without metadata (or a removed one) has no
/// value in any column.
///
/// A column keeps per slot a type tag and two flat arrays that filters scan
/// without branching on the type (FilterEvaluation.swift): `numbers`, the
/// value of an integer or double slot and NaN elsewhere (NaN fails every
/// comparison), and `codes`, the number of a string slot's string in the
/// column's dictionary, `Column.trueCode`/`falseCode` for a bool and
/// `Column.noCode` elsewhere. A string condition is then decided once per
/// distinct string and tested per slot as a code comparison. Lists of
/// strings keep their dictionary numbers on the side.
package struct MetadataStore: Sendable {
    package enum Tag: UInt8, Sendable {
        case missing = 0, string, integer, double, bool, strings
    }

    package struct Column: Sendable {
        package let name: [UInt8]
        package var tags: [UInt8] = []
        package var numbers: [Double] = []
        package var codes: [UInt32] = []
        /// The strings of this column, numbered in order of first use.
        package var strings = StringTable()
        /// Per slot, the string numbers of a list value (empty otherwise);
        /// sized only once the column holds a list.
        package var lists: [[UInt32]] = []
        /// Slots holding a value.
        package var present = 0

        /// The codes of bools and of slots without a string or bool; string
        /// numbers stay below them (a dictionary holds fewer than 2³¹ strings).
        package static let falseCode: UInt32 = 0xFFFF_FFFD, trueCode: UInt32 = 0xFFFF_FFFE, noCode: UInt32 = 0xFFFF_FFFF

        init(name: [UInt8], slots: Int) {
            self.name = name
            tags = [UInt8](repeating: 0, count: slots)
            numbers = [Double](repeating: .nan, count: slots)
            codes = [UInt32](repeating: Column.noCode, count: slots)
        }

        mutating func number(of string: [UInt8]) -> UInt32 { strings.number(of: string) }

        package func number(ifPresent string: [UInt8]) -> UInt32? { strings.number(ifPresent: string) }
    }

    package private(set) var columns: [Column] = []
    package private(set) var slotCount = 0
    /// Slots with at least one field.
    package private(set) var slotsWithMetadata = 0

    package init() {}

    /// Whether no slot has metadata (filters then match nothing but `IS NULL`).
    package var isEmpty: Bool { slotsWithMetadata == 0 }

    /// Grows every column to `count` slots without values.
    package mutating func extend(to count: Int) {
        if count <= slotCount { return }
        for c in columns.indices {
            columns[c].tags += repeatElement(0, count: count - slotCount)
            columns[c].numbers += repeatElement(.nan, count: count - slotCount)
            columns[c].codes += repeatElement(Column.noCode, count: count - slotCount)
            if !columns[c].lists.isEmpty { columns[c].lists += repeatElement([], count: count - slotCount) }
        }
        slotCount = count
    }

    /// The column of `name`, created (empty for every slot) if new.
    mutating func column(named name: [UInt8]) -> Int {
        if let c = column(ifPresent: name) { return c }
        columns.append(Column(name: name, slots: slotCount))
        return columns.count - 1
    }

    /// Fields are few (at most 64 per vector): a linear search.
    package func column(ifPresent name: [UInt8]) -> Int? { columns.firstIndex { $0.name == name } }

    /// Replaces the metadata of `slot` (< `slotCount`).
    /// - Precondition: `metadata.validate()` is nil.
    package mutating func set(_ metadata: Metadata, at slot: Int) {
        metadata.encoded().withUnsafeBytes { set(encoded: $0, at: slot) }
    }

    /// Replaces the metadata of `slot` (< `slotCount`) with a binary form
    /// (the empty form clears it); no `String` is built.
    /// - Precondition: `MetadataBytes.check` accepted `form`, all of it.
    @_optimize(size)
    package mutating func set(encoded form: UnsafeRawBufferPointer, at slot: Int) {
        clear(slot)
        if form[0] == 0 { return }
        slotsWithMetadata += 1
        MetadataBytes.forEachField(form) { name, tag, value in
            let c = column(named: [UInt8](name))
            switch tag {
            case .string:
                columns[c].codes[slot] = columns[c].number(of: [UInt8](value))
            case .integer:
                // Exact: |x| ≤ 2⁵³ − 1.
                columns[c].numbers[slot] = Double(Int64(bitPattern: value.loadUnaligned(as: UInt64.self).littleEndian))
            case .double:
                columns[c].numbers[slot] = Double(bitPattern: value.loadUnaligned(as: UInt64.self).littleEndian)
            case .bool:
                columns[c].codes[slot] = value[0] == 1 ? Column.trueCode : Column.falseCode
            case .strings:
                if columns[c].lists.isEmpty { columns[c].lists = [[UInt32]](repeating: [], count: slotCount) }
                var list: [UInt32] = []
                MetadataBytes.forEachString(inList: value) { list.append(columns[c].number(of: [UInt8]($0))) }
                columns[c].lists[slot] = list
            case .missing:
                return
            }
            columns[c].tags[slot] = tag.rawValue
            columns[c].present += 1
        }
    }

    /// Writes the binary form of `slot`'s metadata, its fields in column
    /// order (what the metadata section stores per record).
    @_optimize(size)
    package func encode(slot: Int, into w: inout MetadataRecordWriter) {
        var fieldCount = 0
        for column in columns where column.tags[slot] != 0 { fieldCount += 1 }
        w.fieldCount(fieldCount)
        for column in columns {
            guard let tag = Tag(rawValue: column.tags[slot]), tag != .missing else { continue }
            column.name.withUnsafeBytes { w.field($0, tag) }
            switch tag {
            case .string: w.string(column.strings.values[Int(column.codes[slot])])
            case .strings:
                w.listCount(column.lists[slot].count)
                for n in column.lists[slot] { w.string(column.strings.values[Int(n)]) }
            case .integer: w.scalar(UInt64(bitPattern: Int64(column.numbers[slot])), tag)
            case .double: w.scalar(column.numbers[slot].bitPattern, tag)
            case .bool: w.scalar(column.codes[slot] == Column.trueCode ? 1 : 0, tag)
            case .missing: break
            }
        }
    }

    /// `slot`'s metadata in binary form.
    package func encoded(slot: Int) -> [UInt8] {
        var counter = MetadataRecordWriter(nil)
        encode(slot: slot, into: &counter)
        return [UInt8](unsafeUninitializedCapacity: counter.byteCount) { buffer, initialized in
            var w = MetadataRecordWriter(UnsafeMutableRawPointer(buffer.baseAddress))
            encode(slot: slot, into: &w)
            initialized = w.byteCount
        }
    }

    /// Removes every value of `slot`.
    package mutating func clear(_ slot: Int) {
        var had = false
        for c in columns.indices where columns[c].tags[slot] != 0 {
            had = true
            if columns[c].tags[slot] == Tag.strings.rawValue { columns[c].lists[slot] = [] }
            columns[c].tags[slot] = 0
            columns[c].numbers[slot] = .nan
            columns[c].codes[slot] = Column.noCode
            columns[c].present -= 1
        }
        if had { slotsWithMetadata -= 1 }
    }

    /// The metadata of `slot`, its fields in the order the index first saw them.
    package func metadata(at slot: Int) -> Metadata {
        var fields: [(name: String, value: MetadataValue)] = []
        for column in columns {
            let value: MetadataValue
            switch Tag(rawValue: column.tags[slot]) ?? .missing {
            case .missing: continue
            case .string: value = .string(String(decoding: column.strings.values[Int(column.codes[slot])], as: UTF8.self))
            case .integer: value = .integer(Int64(column.numbers[slot]))
            case .double: value = .double(column.numbers[slot])
            case .bool: value = .bool(column.codes[slot] == Column.trueCode)
            case .strings:
                value = .strings(column.lists[slot].map { String(decoding: column.strings.values[Int($0)], as: UTF8.self) })
            }
            fields.append((name: String(decoding: column.name, as: UTF8.self), value: value))
        }
        return Metadata(fields)
    }

    /// A store of the given slots, in that order (compaction): columns and
    /// dictionaries hold only what those slots use.
    @_optimize(size)
    package func compacted(keeping slots: [Int]) -> MetadataStore {
        var out = MetadataStore()
        out.extend(to: slots.count)
        for (new, old) in slots.enumerated() { encoded(slot: old).withUnsafeBytes { out.set(encoded: $0, at: new) } }
        return out
    }

    /// Bytes the columns hold (payloads, tags, strings, lists), approximately.
    package var allocatedBytes: Int {
        var total = 0
        for column in columns {
            total += column.tags.capacity + column.numbers.capacity * 8 + column.codes.capacity * 4 + column.name.count
            total += column.strings.allocatedBytes
            for list in column.lists { total += list.capacity * 4 + 8 }
        }
        return total
    }
}

/// Distinct strings numbered in order of first use, with a hash from bytes
/// to number (open addressing, FNV-1a). Not `Dictionary`: in Embedded Swift
/// its random hash seed makes the wasm module import WASI's `random_get`.
package struct StringTable: Sendable {
    package private(set) var values: [[UInt8]] = []
    /// Number + 1 of the string hashed there, 0 when empty; a power of two, at most half full.
    var index: [UInt32] = []

    package var count: Int { values.count }

    static func hash(_ bytes: [UInt8]) -> Int {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    package func number(ifPresent bytes: [UInt8]) -> UInt32? {
        if index.isEmpty { return nil }
        let mask = index.count - 1
        var i = Self.hash(bytes) & mask
        while index[i] != 0 {
            let n = index[i] - 1
            if values[Int(n)] == bytes { return n }
            i = (i + 1) & mask
        }
        return nil
    }

    mutating func number(of bytes: [UInt8]) -> UInt32 {
        if let n = number(ifPresent: bytes) { return n }
        if (values.count + 1) * 2 > index.count { grow() }
        let n = UInt32(values.count)
        values.append(bytes)
        place(n)
        return n
    }

    mutating func place(_ n: UInt32) {
        let mask = index.count - 1
        var i = Self.hash(values[Int(n)]) & mask
        while index[i] != 0 { i = (i + 1) & mask }
        index[i] = n + 1
    }

    mutating func grow() {
        index = [UInt32](repeating: 0, count: Swift.max(16, index.count * 2))
        for n in values.indices { place(UInt32(n)) }
    }

    var allocatedBytes: Int {
        var total = index.capacity * 4 + values.capacity * 8
        for s in values { total += s.capacity + 24 }
        return total
    }
}
