/// A compiled filter over vector metadata: parse once, use for many searches.
///
///     let filter = try Filter(#"section IN ("python", "perl") AND installed_size_kib < 200"#)
///
/// Matching rules (for every form of condition):
/// - A vector without the field does not match, nor one whose value has
///   another type than the literal: numbers (integer and double alike) are
///   compared with numbers, strings with strings (by UTF-8 bytes, which is
///   code point order), bools with bools by `=` and `!=` only; a list of
///   strings is tested only by `CONTAINS`. The exception is `IS NULL`, true
///   exactly when the field is absent (`IS NOT NULL`: present).
/// - `x != v` and `x NOT IN (…)` need a value of a matching type too: a vector
///   without `x` matches neither. `NOT (x = v)` does match it.
/// - `x BETWEEN a AND b` is `x >= a AND x <= b`.
public struct Filter: Sendable {
    package let root: FilterNode
    /// Which compilation this is: copies of a filter share it, another
    /// `Filter` of the same text does not (indexes key their last filter's
    /// bitmap on it).
    package let identity = FilterIdentity()

    /// Parses `text`; see the grammar in FilterParser.swift and docs/FILTERS.md.
    /// - Throws: `FilterSyntaxError` with the 1-based column and what was expected there.
    /// - Complexity: O(text length).
    package init(parsing text: UnsafeBufferPointer<UInt8>) throws(FilterSyntaxError) {
        root = try FilterParser.parse(text)
    }

    package init(parsing text: String) throws(FilterSyntaxError) {
        root = try Array(text.utf8).withUnsafeBufferPointer { (bytes) throws(FilterSyntaxError) in
            try FilterParser.parse(bytes)
        }
    }

    /// Whether `metadata` satisfies the filter (the reference semantics;
    /// indexes evaluate the same rules over their columns).
    public func matches(_ metadata: Metadata) -> Bool {
        Self.evaluate(root, metadata)
    }

    static func evaluate(_ node: FilterNode, _ metadata: Metadata) -> Bool {
        switch node {
        case .and(let terms): return terms.allSatisfy { evaluate($0, metadata) }
        case .or(let terms): return terms.contains { evaluate($0, metadata) }
        case .not(let inner): return !evaluate(inner, metadata)
        case .compare(let field, _, _), .isIn(let field, _, _), .between(let field, _, _):
            guard let scalar = lookup(field, metadata).flatMap(FilterScalar.init) else { return false }
            return node.holds(scalar)
        case .contains(let field, let string):
            guard case .strings(let list)? = lookup(field, metadata) else { return false }
            return list.contains { $0.utf8.elementsEqual(string) }
        case .isNull(let field, let negated):
            return (lookup(field, metadata) == nil) != negated
        }
    }

    static func lookup(_ field: [UInt8], _ metadata: Metadata) -> MetadataValue? {
        for entry in metadata.fields where entry.name.utf8.elementsEqual(field) { return entry.value }
        return nil
    }

    static func sign(_ x: Double, _ y: Double) -> Int { x < y ? -1 : (x == y ? 0 : 1) }

    /// Lexicographic order of two byte sequences.
    static func compareBytes<A: Sequence, B: Sequence>(_ a: A, _ b: B) -> Int
        where A.Element == UInt8, B.Element == UInt8 {
        var i = a.makeIterator()
        var j = b.makeIterator()
        while true {
            switch (i.next(), j.next()) {
            case (nil, nil): return 0
            case (nil, _): return -1
            case (_, nil): return 1
            case (let x?, let y?): if x != y { return x < y ? -1 : 1 }
            }
        }
    }
}

/// Which compilation a `Filter` is (see `Filter.identity`).
package final class FilterIdentity: Sendable {
    init() {}
}

/// A single stored value as conditions see it, strings as their UTF-8 bytes.
package enum FilterScalar {
    case string([UInt8]), integer(Int64), double(Double), bool(Bool)

    /// Lists have no scalar form (only `CONTAINS` tests them).
    init?(_ value: MetadataValue) {
        switch value {
        case .string(let s): self = .string(Array(s.utf8))
        case .integer(let x): self = .integer(x)
        case .double(let x): self = .double(x)
        case .bool(let b): self = .bool(b)
        case .strings: return nil
        }
    }

    /// Numbers and strings have an order; bools only equality.
    var isOrderable: Bool {
        if case .bool = self { return false }
        return true
    }

    /// The sign of value − literal (−1, 0, 1), or nil when their types do not
    /// compare (numbers with numbers, strings with strings, bools with bools).
    @inline(__always)
    func compare(_ literal: FilterLiteral) -> Int? {
        switch (self, literal) {
        case (.integer(let x), .number(.integer(let y))): return x < y ? -1 : (x == y ? 0 : 1)
        case (.integer(let x), .number(let y)): return Filter.sign(Double(x), y.doubleValue)
        case (.double(let x), .number(let y)): return Filter.sign(x, y.doubleValue)
        case (.string(let s), .string(let t)): return Filter.compareBytes(s, t)
        case (.bool(let x), .bool(let y)): return x == y ? 0 : (x ? 1 : -1)
        default: return nil
        }
    }
}

extension FilterNode {
    /// Whether `value` satisfies this comparison, IN or BETWEEN condition
    /// (false for other nodes): the one place these rules live.
    @inline(__always)
    func holds(_ value: FilterScalar) -> Bool {
        switch self {
        case .compare(_, let op, let literal):
            guard let order = value.compare(literal) else { return false }
            return op.holds(order, orderable: value.isOrderable)
        case .isIn(_, let literals, let negated):
            var comparable = false
            for literal in literals {
                guard let order = value.compare(literal) else { continue }
                if order == 0 { return !negated }
                comparable = true
            }
            return negated && comparable
        case .between(_, let low, let high):
            guard value.isOrderable, let a = value.compare(low), let b = value.compare(high) else { return false }
            return a >= 0 && b <= 0
        default:
            return false
        }
    }
}

extension FilterComparison {
    /// Whether `order` (the sign of value − literal) satisfies the comparison.
    func holds(_ order: Int, orderable: Bool) -> Bool {
        switch self {
        case .equal: return order == 0
        case .notEqual: return order != 0
        case .less: return orderable && order < 0
        case .lessOrEqual: return orderable && order <= 0
        case .greater: return orderable && order > 0
        case .greaterOrEqual: return orderable && order >= 0
        }
    }
}
