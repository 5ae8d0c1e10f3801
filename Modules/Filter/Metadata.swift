import EdgeVecAllocators

// Metadata: named fields per vector, the values filters test.
//
// Strings are kept and compared as UTF-8 bytes, never as `String`: in
// Embedded Swift, `String` equality, ordering and hashing pull the Unicode
// normalisation tables into the wasm module. Byte order is code point order.

/// One metadata value: a string, an integer within ±(2⁵³ − 1) (every such
/// integer is an exact JavaScript number), a double, a bool, or a list of
/// strings.
public enum MetadataValue: Sendable {
    case string(String)
    case integer(Int64)
    case double(Double)
    case bool(Bool)
    case strings([String])

    /// The largest integer magnitude a metadata integer may have: 2⁵³ − 1.
    public static let maxInteger: Int64 = (1 << 53) - 1
}

extension MetadataValue: Equatable {
    /// Same case and same value; strings compare by their UTF-8 bytes, and
    /// doubles by `==` (so NaN, which metadata never holds, is unequal).
    public static func == (a: MetadataValue, b: MetadataValue) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x.utf8.elementsEqual(y.utf8)
        case (.integer(let x), .integer(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.strings(let x), .strings(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.utf8.elementsEqual($1.utf8) }
        default: return false
        }
    }
}

extension MetadataValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: String...) { self = .strings(elements) }
}

/// The metadata of one vector: fields by name, each at most once.
///
///     let metadata: Metadata = ["section": "games", "size": 120, "tags": ["2d", "puzzle"]]
///
/// Field names follow the filter grammar: `[A-Za-z_][A-Za-z0-9_.]*`, and are
/// not a keyword of it (AND, OR, NOT, IN, BETWEEN, CONTAINS, IS, NULL, TRUE,
/// FALSE, in any case). `MetadataLimits` bounds the sizes; an index checks
/// both when metadata is set.
public struct Metadata: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    /// The fields in the order given.
    public var fields: [(name: String, value: MetadataValue)]

    public init(_ fields: [(name: String, value: MetadataValue)] = []) { self.fields = fields }

    public init(dictionaryLiteral elements: (String, MetadataValue)...) {
        fields = elements.map { (name: $0.0, value: $0.1) }
    }

    /// The value of the field `name`, or nil.
    public subscript(name: String) -> MetadataValue? {
        for field in fields where field.name.utf8.elementsEqual(name.utf8) { return field.value }
        return nil
    }

    public static func == (a: Metadata, b: Metadata) -> Bool {
        a.fields.count == b.fields.count
            && zip(a.fields, b.fields).allSatisfy { $0.name.utf8.elementsEqual($1.name.utf8) && $0.value == $1.value }
    }
}

/// Sizes metadata may have; larger metadata is refused with a typed error.
public enum MetadataLimits {
    /// Fields per vector.
    public static let fieldsPerVector = 64
    /// Bytes (UTF-8) of a field name.
    public static let nameBytes = 64
    /// Bytes (UTF-8) of a string value, and of each string of a list.
    public static let stringBytes = 4_096
    /// Strings in a list.
    public static let listCount = 256
    /// Bytes of one vector's metadata in all: names, strings and 8 bytes per
    /// number, bool or list entry.
    public static let totalBytes = 65_536
}

/// Why metadata was refused.
public enum MetadataProblem: Error, Equatable, Sendable {
    /// A field name that is empty, longer than `MetadataLimits.nameBytes`,
    /// not `[A-Za-z_][A-Za-z0-9_.]*`, or a keyword of the filter grammar.
    case invalidFieldName(String)
    /// The same field twice.
    case duplicateField(String)
    /// More than `MetadataLimits.fieldsPerVector` fields.
    case tooManyFields(Int)
    /// An integer beyond ±(2⁵³ − 1), or a double that is NaN or infinite.
    case invalidNumber(field: String)
    /// A string or list over its limit, or metadata over `totalBytes`.
    case tooLarge(field: String)
    /// Binary metadata (`Metadata(encoded:)`) that stops making sense at
    /// this byte offset: cut short, an unknown type, a bool not 0 or 1, or
    /// a string that is not UTF-8.
    case malformed(offset: Int)
}

extension MetadataProblem {
    /// A sentence for people.
    public var message: String { String(writing: write) }

    /// Writes `message`.
    @_optimize(size)
    public func write(to m: inout MessageBuffer) {
        func name(_ kind: MetadataBytesProblem.Kind, _ name: String) {
            #if hasFeature(Embedded)
            // Not `withUTF8`: its copying path (for foreign strings) pulls the
            // UTF-16 index machinery into the wasm module, 5 KB gzipped. Native
            // and small strings, the only ones Embedded Swift has, are contiguous.
            _ = name.utf8.withContiguousStorageIfAvailable { Self.write(kind, name: $0, number: 0, to: &m) }
            #else
            var name = name
            name.withUTF8 { Self.write(kind, name: $0, number: 0, to: &m) }
            #endif
        }
        switch self {
        case .invalidFieldName(let field): name(.invalidFieldName, field)
        case .duplicateField(let field): name(.duplicateField, field)
        case .tooManyFields(let n): Self.write(.tooManyFields, name: UnsafeBufferPointer(start: nil, count: 0), number: n, to: &m)
        case .invalidNumber(let field): name(.invalidNumber, field)
        case .tooLarge(let field): name(.tooLarge, field)
        case .malformed(let offset): Self.write(.malformed, name: UnsafeBufferPointer(start: nil, count: 0), number: offset, to: &m)
        }
    }

    /// The sentences of both problem types (`MetadataBytesProblem` names
    /// fields by their bytes).
    @_optimize(size)
    package static func write(_ kind: MetadataBytesProblem.Kind, name: UnsafeBufferPointer<UInt8>, number: Int,
                              to m: inout MessageBuffer) {
        func field() {
            m.text("field \"")
            m.bytes(name)
            m.text("\"")
        }
        switch kind {
        case .invalidFieldName:
            m.text("invalid field name \"")
            m.bytes(name)
            m.text("\"")
        case .duplicateField:
            field()
            m.text(" given twice")
        case .tooManyFields:
            m.number(number)
            m.text(" fields, more than ")
            m.number(MetadataLimits.fieldsPerVector)
        case .invalidNumber:
            field()
            m.text(": a number beyond ±(2^53 − 1) or not finite")
        case .tooLarge:
            field()
            // MetadataLimits' values, written out (a test holds them equal).
            m.text(" is over its size limit (a string 4096 bytes, a list 256 strings, a vector's metadata 65536 bytes)")
        case .malformed:
            m.text("malformed binary metadata at byte ")
            m.number(number)
        }
    }
}

extension Metadata {
    /// Checks names, duplicates and limits: nil when the metadata is valid.
    public func validate() -> MetadataProblem? {
        if fields.count > MetadataLimits.fieldsPerVector { return .tooManyFields(fields.count) }
        var total = 0
        for (i, field) in fields.enumerated() {
            let name = Array(field.name.utf8)
            if !FilterLexer.isFieldName(name) { return .invalidFieldName(field.name) }
            for earlier in fields[..<i] where earlier.name.utf8.elementsEqual(name) {
                return .duplicateField(field.name)
            }
            total += name.count
            switch field.value {
            case .string(let s):
                if s.utf8.count > MetadataLimits.stringBytes { return .tooLarge(field: field.name) }
                total += s.utf8.count
            case .integer(let x):
                if x > MetadataValue.maxInteger || x < -MetadataValue.maxInteger {
                    return .invalidNumber(field: field.name)
                }
                total += 8
            case .double(let x):
                if !x.isFinite { return .invalidNumber(field: field.name) }
                total += 8
            case .bool:
                total += 8
            case .strings(let list):
                if list.count > MetadataLimits.listCount { return .tooLarge(field: field.name) }
                for s in list {
                    if s.utf8.count > MetadataLimits.stringBytes { return .tooLarge(field: field.name) }
                    total += s.utf8.count + 8
                }
            }
            if total > MetadataLimits.totalBytes { return .tooLarge(field: field.name) }
        }
        return nil
    }
}
