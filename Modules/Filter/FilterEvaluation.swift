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
            let column = columns[c]
            // Strings: decide once per distinct string of the column.
            scratch.truth.removeAll(keepingCapacity: true)
            for s in column.strings.values { scratch.truth.append(node.holds(.string(s))) }
            let truth = scratch.truth
            fill(&out) { slot in
                let bits = column.payload[slot]
                switch column.tags[slot] {
                case Tag.string.rawValue: return truth[Int(bits)]
                case Tag.integer.rawValue: return node.holds(.integer(Int64(bitPattern: bits)))
                case Tag.double.rawValue: return node.holds(.double(Double(bitPattern: bits)))
                case Tag.bool.rawValue: return node.holds(.bool(bits != 0))
                default: return false
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
