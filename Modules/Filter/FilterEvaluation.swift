/// Reusable buffers of filter evaluation, so that a filtered search
/// allocates nothing once they have grown (one per index).
package struct FilterScratch: Sendable {
    var pool: [[UInt64]] = []
    var truth: [Bool] = []

    package init() {}

    /// A bitmap of `words` words from the pool (contents undefined).
    mutating func take(words: Int) -> [UInt64] {
        var bits = pool.popLast() ?? []
        if bits.count != words {
            bits.removeAll(keepingCapacity: true)
            bits.append(contentsOf: repeatElement(0, count: words))
        }
        return bits
    }

    mutating func give(_ bits: [UInt64]) { pool.append(bits) }
}

extension MetadataStore {
    /// Words of a bitmap over the slots.
    package var bitmapWords: Int { (slotCount + 63) >> 6 }

    /// Writes into `out` (`bitmapWords` words) one bit per slot: set when the
    /// slot's metadata satisfies `filter`, by the rules of `Filter.matches`.
    /// Bits past `slotCount` are zero.
    /// - Complexity: O(slots) per condition of the filter, plus O(distinct
    ///   strings of the field) for a string condition.
    package func evaluate(_ filter: Filter, into out: inout [UInt64], scratch: inout FilterScratch) {
        evaluate(filter.root, into: &out, scratch: &scratch)
    }

    func evaluate(_ node: FilterNode, into out: inout [UInt64], scratch: inout FilterScratch) {
        switch node {
        case .and(let terms), .or(let terms):
            var isAnd = false
            if case .and = node { isAnd = true }
            evaluate(terms[0], into: &out, scratch: &scratch)
            var other = scratch.take(words: out.count)
            for term in terms.dropFirst() {
                evaluate(term, into: &other, scratch: &scratch)
                for w in out.indices { out[w] = isAnd ? out[w] & other[w] : out[w] | other[w] }
            }
            scratch.give(other)
        case .not(let inner):
            evaluate(inner, into: &out, scratch: &scratch)
            for w in out.indices { out[w] = ~out[w] }
            clearTail(&out)
        case .isNull(let field, let negated):
            guard let c = column(ifPresent: field) else {
                fill(&out) { _ in !negated }
                return
            }
            let tags = columns[c].tags
            fill(&out) { (tags[$0] == 0) != negated }
        case .contains(let field, let string):
            guard let c = column(ifPresent: field), let number = columns[c].number(ifPresent: string) else {
                fill(&out) { _ in false }
                return
            }
            let column = columns[c]
            fill(&out) { column.tags[$0] == Tag.strings.rawValue && column.lists[$0].contains(number) }
        case .compare(let field, _, _), .isIn(let field, _, _), .between(let field, _, _):
            guard let c = column(ifPresent: field) else {
                fill(&out) { _ in false }
                return
            }
            // Decide once per distinct string and per bool; numbers by a
            // compiled test. The per-slot loop then only reads the tag and payload.
            scratch.truth.removeAll(keepingCapacity: true)
            for s in columns[c].strings.values { scratch.truth.append(node.holds(.string(s))) }
            let ifFalse = node.holds(.bool(false)), ifTrue = node.holds(.bool(true))
            let numbers = NumberTest(node)
            columns[c].tags.withUnsafeBufferPointer { tags in
                columns[c].payload.withUnsafeBufferPointer { payload in
                    scratch.truth.withUnsafeBufferPointer { truth in
                        fill(&out) { slot in
                            let bits = payload[slot]
                            switch tags[slot] {
                            case Tag.string.rawValue: return truth[Int(bits)]
                            case Tag.integer.rawValue: return numbers.holds(Double(Int64(bitPattern: bits)))
                            case Tag.double.rawValue: return numbers.holds(Double(bitPattern: bits))
                            case Tag.bool.rawValue: return bits != 0 ? ifTrue : ifFalse
                            default: return false
                            }
                        }
                    }
                }
            }
        }
    }

    /// Sets bit `slot` of `out` where `predicate(slot)`, for every slot.
    @inline(__always)
    func fill(_ out: inout [UInt64], _ predicate: (Int) -> Bool) {
        let count = slotCount
        out.withUnsafeMutableBufferPointer { words in
            var slot = 0
            for w in 0..<words.count {
                var word: UInt64 = 0
                let end = Swift.min(slot + 64, count)
                var bit: UInt64 = 1
                while slot < end {
                    if predicate(slot) { word |= bit }
                    bit &<<= 1
                    slot += 1
                }
                words[w] = word
            }
        }
    }

    /// Zeroes the bits past the last slot.
    func clearTail(_ out: inout [UInt64]) {
        let extra = slotCount & 63
        if extra != 0, !out.isEmpty { out[out.count - 1] &= (1 << UInt64(extra)) &- 1 }
    }
}

/// A comparison, IN or BETWEEN condition compiled for numbers: the values
/// that satisfy it form an interval, a set, or the complement of a set.
/// Doubles compare exactly here: metadata integers and integer literals lie
/// within ±(2⁵³ − 1), where every integer is a double, so this agrees with
/// `FilterNode.holds` (the tests check it against the reference).
struct NumberTest {
    enum Kind { case never, interval, member, notMember }
    var kind = Kind.never
    var low = -Double.infinity, high = Double.infinity
    var lowOpen = false, highOpen = false
    var values: [Double] = []

    init(_ node: FilterNode) {
        switch node {
        case .compare(_, let op, .number(let y)):
            let v = y.doubleValue
            switch op {
            case .equal: kind = .member; values = [v]
            case .notEqual: kind = .notMember; values = [v]
            case .less: kind = .interval; high = v; highOpen = true
            case .lessOrEqual: kind = .interval; high = v
            case .greater: kind = .interval; low = v; lowOpen = true
            case .greaterOrEqual: kind = .interval; low = v
            }
        case .between(_, .number(let a), .number(let b)):
            kind = .interval
            (low, high) = (a.doubleValue, b.doubleValue)
        case .isIn(_, let literals, let negated):
            for case .number(let x) in literals { values.append(x.doubleValue) }
            if !values.isEmpty { kind = negated ? .notMember : .member }
        default:
            break
        }
    }

    @inline(__always)
    func holds(_ x: Double) -> Bool {
        switch kind {
        case .never: return false
        case .interval: return (lowOpen ? x > low : x >= low) && (highOpen ? x < high : x <= high)
        case .member: return values.contains(x)
        case .notMember: return !values.contains(x)
        }
    }
}
