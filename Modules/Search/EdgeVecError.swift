import EdgeVecAllocators
import EdgeVecFilter
import EdgeVecFormat

/// Why an index operation was refused. After any thrown error the index is
/// exactly as it was before the call.
public enum EdgeVecError: Error, Equatable, Sendable {
    /// A parameter that can be wrong.
    public enum Parameter: UInt8, Sendable {
        case dimension, m, efConstruction, efSearch, ef, count, capacity, threads
    }

    /// What is wrong with serialized bytes (`IndexFormat.Corruption`, in EdgeVecFormat).
    public typealias Corruption = IndexFormat.Corruption

    /// The header fields a corrupt file can get wrong (`IndexFormat.HeaderField`).
    public typealias HeaderField = IndexFormat.HeaderField

    /// Why a stored vector is refused (`IndexFormat.VectorProblem`).
    public typealias VectorProblem = IndexFormat.VectorProblem

    /// A vector's length is not the index dimension.
    case dimensionMismatch(expected: Int, actual: Int)
    /// Component `position` is NaN or ±infinity (in a batch, counted across the batch).
    case nonFiniteValue(position: Int)
    /// A zero vector under the cosine metric, which has no direction.
    case zeroVector(row: Int)
    /// A vector so large (‖v‖² > Float.max / 8) that distances would overflow
    /// (l2 and dot; cosine normalises instead).
    case vectorTooLarge(row: Int)
    /// k must be at least 1.
    case invalidK(Int)
    /// A parameter is out of its documented range.
    case invalidParameter(Parameter, value: Int)
    /// The index holds its maximum number of vectors (2³² − 2).
    case capacityExceeded
    /// The allocator could not provide memory; nothing was changed.
    case outOfMemory
    /// Serialized bytes are not a valid index.
    case corrupt(Corruption)
    /// A file operation failed with this `errno`.
    case io(errno: Int32)
    /// The id is already in the index (or twice in one batch).
    case duplicateId(UInt64)
    /// The id is above 2⁵³ − 1 (JavaScript: not an integer in 0...2⁵³ − 1),
    /// or the ids to assign automatically have run out.
    case invalidId(UInt64)
    /// No vector has this id.
    case unknownId(UInt64)
    /// Filter text that does not parse: the 1-based column (in Unicode
    /// scalars) and what was expected there.
    case invalidFilter(column: Int, expected: FilterExpectation)
    /// Metadata over a limit or with a bad field name (`MetadataLimits`).
    case invalidMetadata(MetadataProblem)

    /// A stable negative code for C and JavaScript hosts.
    public var code: Int32 {
        switch self {
        case .dimensionMismatch: return -1
        case .nonFiniteValue: return -2
        case .zeroVector: return -3
        case .invalidK: return -4
        case .invalidParameter: return -5
        case .capacityExceeded: return -6
        case .outOfMemory: return -7
        case .corrupt: return -8
        case .io: return -9
        case .vectorTooLarge: return -10
        case .duplicateId: return -11
        case .invalidId: return -12
        case .unknownId: return -13
        case .invalidFilter: return -14
        case .invalidMetadata: return -15
        }
    }

    /// A sentence for people.
    public var message: String { String(writing: write) }

    /// Writes `message` (the C ABI writes it straight into its buffer).
    public func write(to m: inout MessageBuffer) {
        switch self {
        case .dimensionMismatch(let expected, let actual):
            m.text("dimension mismatch: expected ")
            m.number(expected)
            m.text(" floats, got ")
            m.number(actual)
        case .nonFiniteValue(let position):
            m.text("non-finite value (NaN or infinity) at position ")
            m.number(position)
        case .zeroVector(let row):
            m.text("zero vector at row ")
            m.number(row)
            m.text(" has no direction under the cosine metric")
        case .vectorTooLarge(let row):
            m.text("vector at row ")
            m.number(row)
            m.text(" is too large: its distances would overflow float32")
        case .invalidK(let k):
            m.text("k must be at least 1, got ")
            m.number(k)
        case .invalidParameter(let parameter, let value):
            m.text("invalid ")
            m.text(parameter.nameText)
            m.text(": ")
            m.number(value)
            m.text(" (")
            m.text(parameter.rangeText)
            m.text(")")
        case .capacityExceeded:
            m.text("the index is full (at most 4294967294 vectors)")
        case .outOfMemory:
            m.text("out of memory; the index is unchanged")
        case .corrupt(let corruption):
            m.text("corrupt index data: ")
            corruption.write(to: &m)
        case .io(let errno):
            m.text("file operation failed (errno ")
            m.number(Int(errno))
            m.text(")")
        case .duplicateId(let id):
            m.text("id ")
            m.number(id)
            m.text(" is already in the index")
        case .invalidId(let id):
            m.text("invalid id ")
            m.number(id)
            m.text(": ids are integers in 0...9007199254740991")
        case .unknownId(let id):
            m.text("no vector has id ")
            m.number(id)
        case .invalidFilter(let column, let expected):
            m.text("invalid filter at column ")
            m.number(column)
            m.text(": expected ")
            expected.write(to: &m)
        case .invalidMetadata(let problem):
            m.text("invalid metadata: ")
            problem.write(to: &m)
        }
    }
}

extension EdgeVecError.Parameter {
    public var name: String { String(writing: { $0.text(nameText) }) }

    /// The accepted range, for messages.
    public var range: String { String(writing: { $0.text(rangeText) }) }

    var nameText: StaticString {
        switch self {
        case .dimension: return "dimension"
        case .m: return "m"
        case .efConstruction: return "efConstruction"
        case .efSearch: return "efSearch"
        case .ef: return "ef"
        case .count: return "count"
        case .capacity: return "capacity"
        case .threads: return "threads"
        }
    }

    var rangeText: StaticString {
        switch self {
        case .dimension: return "1...65536"
        case .m: return "2...128"
        case .efConstruction: return "1...65536"
        case .efSearch, .ef: return "1...65536"
        case .count: return "0...2147483647"
        case .capacity: return "0...4294967294"
        case .threads: return "1...1024"
        }
    }
}

#if !hasFeature(Embedded)
extension EdgeVecError: CustomStringConvertible {
    public var description: String { message }
}
#endif
