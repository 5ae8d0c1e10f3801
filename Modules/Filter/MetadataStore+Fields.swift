// Which metadata fields an index holds, of which types, and how many
// vectors have each: what `edgevec info` lists.

/// The type of one metadata value (`MetadataValue`'s cases).
public enum MetadataType: UInt8, Sendable, CaseIterable {
    case string = 1, integer, double, bool, strings

    /// The name `edgevec info` and the docs use: `string`, `integer`,
    /// `double`, `bool`, `strings` (a list of strings).
    public var name: String {
        switch self {
        case .string: return "string"
        case .integer: return "integer"
        case .double: return "double"
        case .bool: return "bool"
        case .strings: return "strings"
        }
    }
}

/// One metadata field of an index: its name, the types its values have, and
/// how many vectors hold it. A field may hold values of several types (each
/// vector's metadata is free-form); filters compare each value by its own type.
public struct MetadataField: Sendable, Equatable {
    /// The field name, as given when the metadata was set.
    public let name: String
    /// The types the field's values have, in `MetadataType` order (each once).
    public let types: [MetadataType]
    /// Vectors that hold the field, whatever its type.
    public let count: Int
    /// Vectors per type, indexed by `MetadataType.rawValue - 1`.
    let countsByType: [Int]

    package init(name: String, countsByType: [Int]) {
        precondition(countsByType.count == MetadataType.allCases.count)
        self.name = name
        self.countsByType = countsByType
        self.types = MetadataType.allCases.filter { countsByType[Int($0.rawValue) - 1] > 0 }
        self.count = countsByType.reduce(0, +)
    }

    /// Vectors whose value of this field has type `type`.
    /// - Complexity: O(1).
    public func count(of type: MetadataType) -> Int { countsByType[Int(type.rawValue) - 1] }
}

extension MetadataStore {
    /// The fields with at least one value, in the order the store first saw
    /// them, with per-type counts read from each column's tags. Removed slots
    /// hold no metadata (the indexes clear a slot's values when its vector is
    /// removed), so every count is of live vectors.
    /// - Complexity: O(columns × slots).
    package var fields: [MetadataField] {
        var out: [MetadataField] = []
        for column in columns where column.present > 0 {
            var counts = [Int](repeating: 0, count: MetadataType.allCases.count)
            column.tags.withUnsafeBufferPointer { tags in
                for tag in tags where tag != Tag.missing.rawValue {
                    counts[Int(tag) - 1] += 1
                }
            }
            out.append(MetadataField(name: String(decoding: column.name, as: UTF8.self), countsByType: counts))
        }
        return out
    }
}
