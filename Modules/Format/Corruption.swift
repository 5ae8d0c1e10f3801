import EdgeVecAllocators
import EdgeVecGraph

// Why serialized bytes were refused. `EdgeVecError.corrupt` carries these
// (`EdgeVecError.Corruption` is `IndexFormat.Corruption`); the names, the
// messages and the C/JavaScript code (-8) are those of EdgeVecError.

extension IndexFormat {
    /// What is wrong with serialized bytes: the reason a load was refused,
    /// precise enough to find the offending field, vector or node.
    public enum Corruption: Error, Equatable, Sendable {
        /// The bytes do not start with the EdgeVec magic.
        case badMagic
        /// A format version this build cannot read.
        case unsupportedVersion(UInt32)
        /// Fewer bytes than the header says.
        case truncated
        /// More bytes than the header says.
        case trailingBytes
        /// A checksum does not match: the bytes were altered.
        case checksumMismatch
        /// A header field out of range, inconsistent with the others, or (for
        /// reserved words and fields the kind does not use) not zero.
        case invalidHeader(HeaderField, value: UInt64)
        /// A stored vector that `add` would have refused, or (cosine) one
        /// that is not unit length as stored vectors are.
        case invalidVector(row: Int, VectorProblem)
        /// A node's level byte is above the header's maximum level, or a
        /// level-padding byte is not zero.
        case invalidLevel(node: Int)
        /// The level bytes do not add up to the header's upper-layer words.
        case upperWordsMismatch
        /// The entry point is not on the top layer.
        case entryPointNotOnTopLayer
        /// A neighbour list breaks a graph invariant.
        case invalidGraph(GraphInvariantViolation)
        /// Node `node`'s layer-0 tree parent is missing, not earlier than the
        /// node, not linked both ways, or has too many tree children.
        case invalidTree(node: Int)
        /// Slot `slot`'s id is above 2⁵³ − 1, held by another slot, or not
        /// below the next id to assign.
        case invalidID(slot: Int)
        /// The free-slot list names a live slot, a slot twice, or misses a removed one.
        case invalidFreeList
        /// The metadata section (version 3) is wrong at this byte offset of
        /// the file: a bad name, count or value, a record out of slot order
        /// or for a removed slot, or metadata `add` would have refused.
        case invalidMetadata(offset: Int)
    }

    /// The header fields a corrupt file can get wrong.
    public enum HeaderField: UInt8, Sendable {
        case kind, metric, dimension, count, m, efConstruction, efSearch, maxLevel, seed, generatorState,
             entryPoint, reserved, upperWords, bodyBytes, removedCount, freeCount, nextID
    }

    /// Why a stored vector is refused.
    public enum VectorProblem: UInt8, Sendable {
        case nonFinite, tooLarge, zero, notUnitLength
    }
}

extension IndexFormat.Corruption {
    public var message: String { String(writing: write) }

    /// Writes `message`.
    public func write(to m: inout MessageBuffer) {
        switch self {
        case .badMagic: m.text("not an EdgeVec index (bad magic)")
        case .unsupportedVersion(let v):
            m.text("unsupported format version ")
            m.number(UInt64(v))
        case .truncated: m.text("truncated")
        case .trailingBytes: m.text("unexpected bytes after the end")
        case .checksumMismatch: m.text("checksum mismatch")
        case .invalidHeader(let field, let value):
            m.text("invalid header field ")
            m.text(field.nameText)
            m.text(" (")
            m.number(value)
            m.text(")")
        case .invalidVector(let row, let problem):
            m.text("vector ")
            m.number(row)
            m.text(" ")
            m.text(problem.messageText)
        case .invalidLevel(let node):
            m.text("level of node ")
            m.number(node)
            m.text(" out of range")
        case .upperWordsMismatch: m.text("node levels disagree with the upper-layer size")
        case .entryPointNotOnTopLayer: m.text("the entry point is not on the top layer")
        case .invalidGraph(let violation): violation.write(to: &m)
        case .invalidTree(let node):
            m.text("broken layer-0 tree link at node ")
            m.number(node)
        case .invalidID(let slot):
            m.text("invalid or repeated id at slot ")
            m.number(slot)
        case .invalidFreeList: m.text("the free-slot list disagrees with the removed slots")
        case .invalidMetadata(let offset):
            m.text("invalid metadata at byte ")
            m.number(offset)
        }
    }
}

extension IndexFormat.HeaderField {
    public var name: String { String(writing: { $0.text(nameText) }) }

    package var nameText: StaticString {
        switch self {
        case .kind: return "kind"
        case .metric: return "metric"
        case .dimension: return "dimension"
        case .count: return "count"
        case .m: return "m"
        case .efConstruction: return "efConstruction"
        case .efSearch: return "efSearch"
        case .maxLevel: return "maxLevel"
        case .seed: return "seed"
        case .generatorState: return "generatorState"
        case .entryPoint: return "entryPoint"
        case .reserved: return "reserved"
        case .upperWords: return "upperWords"
        case .bodyBytes: return "bodyBytes"
        case .removedCount: return "removedCount"
        case .freeCount: return "freeCount"
        case .nextID: return "nextID"
        }
    }
}

extension IndexFormat.VectorProblem {
    public var message: String { String(writing: { $0.text(messageText) }) }

    package var messageText: StaticString {
        switch self {
        case .nonFinite: return "has a non-finite value"
        case .tooLarge: return "is too large: its distances would overflow float32"
        case .zero: return "is zero under the cosine metric"
        case .notUnitLength: return "is not unit length, as stored cosine vectors are"
        }
    }
}
