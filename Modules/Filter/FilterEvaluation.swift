/// Reusable buffers of filter evaluation, so that a filtered search
/// allocates nothing once they have grown (one per index).
package struct FilterScratch: Sendable {
    var pool: [[UInt64]] = []
    var truth: [Bool] = []
    var numbers: [Double] = []

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

/// What one filtered search works in: the bitmap of the matching slots
/// and the evaluation's buffers. Reused (one per search scratch), so
/// steady-state searches allocate nothing; and so is the bitmap itself,
/// while the filter and the index it was evaluated over stay the same.
package struct FilterMatches: Sendable {
    /// One bit per slot of the store evaluated last.
    package private(set) var bits: [UInt64] = []
    var evaluation = FilterScratch()
    /// What `bits` answers: the compiled filter (nil: nothing yet), the
    /// index's write count then, and how many bits are set.
    private var filter: FilterIdentity?
    private var writes: UInt64 = 0
    private var matches = 0

    package init() {}

    package var allocatedBytes: Int { bits.capacity * 8 }

    /// Sets `bits` to the slots of `store` whose metadata satisfies
    /// `filter` and whose bit in `excluded` (the index's removed slots, nil
    /// for none) is clear; returns how many. `writes` counts the index's
    /// changes: when the last update was for this compiled filter (or a
    /// copy) at the same count, `bits` are still right and are kept, so a
    /// filter reused over many queries is evaluated once.
    /// - Complexity: O(1) when kept; otherwise `MetadataStore.evaluate`'s.
    @_optimize(size)   // its loops over words are not the cost: the evaluation is
    package mutating func update(_ filter: Filter, over store: MetadataStore, excluding excluded: UnsafeBufferPointer<UInt64>?,
                                 writes: UInt64) -> Int {
        if self.filter === filter.identity, self.writes == writes { return matches }
        bits.removeAll(keepingCapacity: true)
        bits.append(contentsOf: repeatElement(0, count: store.bitmapWords))
        store.evaluate(filter, into: &bits, scratch: &evaluation)
        var count = 0
        bits.withUnsafeMutableBufferPointer { words in
            if let excluded {
                for w in 0 ..< Swift.min(words.count, excluded.count) { words[w] &= ~excluded[w] }
            }
            for w in words { count &+= w.nonzeroBitCount }
        }
        (self.filter, self.writes, matches) = (filter.identity, writes, count)
        return count
    }
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
            invert(&out)
        case .isNull(let field, let negated):
            guard let c = column(ifPresent: field) else {
                fillAll(&out, !negated)
                return
            }
            columns[c].tags.withUnsafeBufferPointer { fillMissing(&out, $0) }
            if negated { invert(&out) }
        case .contains(let field, let string):
            guard let c = column(ifPresent: field), let number = columns[c].number(ifPresent: string) else {
                fillAll(&out, false)
                return
            }
            columns[c].tags.withUnsafeBufferPointer { tags in
                columns[c].lists.withUnsafeBufferPointer { lists in
                    fill(&out) { tags[$0] == Tag.strings.rawValue && lists[$0].contains(number) }
                }
            }
        case .compare(let field, _, _), .isIn(let field, _, _), .between(let field, _, _):
            guard let c = column(ifPresent: field) else {
                fillAll(&out, false)
                return
            }
            let numbers = NumberTest(node, values: &scratch.numbers)
            let anyCode = evaluateCodes(node, columns[c], into: &out, scratch: &scratch)
            if numbers.kind == .never {
                if !anyCode { fillAll(&out, false) }
                return
            }
            // A condition on numbers alone (the usual case) fills `out` itself.
            var other = anyCode ? scratch.take(words: out.count) : []
            scratch.numbers.withUnsafeBufferPointer { values in
                columns[c].numbers.withUnsafeBufferPointer { column in
                    if anyCode { fill(&other, numbers, values, column) } else { fill(&out, numbers, values, column) }
                }
            }
            if !anyCode { return }
            for w in out.indices { out[w] |= other[w] }
            scratch.give(other)
        }
    }

    /// The string and bool part of a comparison, IN or BETWEEN: decided once
    /// per distinct string and per bool, then tested per slot on its code,
    /// by comparisons when few codes hold (or all strings but a few).
    /// - Returns: whether any code holds; when none does, `out` is untouched.
    func evaluateCodes(_ node: FilterNode, _ column: Column, into out: inout [UInt64], scratch: inout FilterScratch) -> Bool {
        let strings = column.strings.count
        scratch.truth.removeAll(keepingCapacity: true)
        var holding = _FewCodes(), failing = _FewCodes()
        for (n, s) in column.strings.values.enumerated() {
            let holds = node.holds(.string(s))
            scratch.truth.append(holds)
            if holds { holding.add(UInt32(n)) } else { failing.add(UInt32(n)) }
        }
        let ifFalse = node.holds(.bool(false)), ifTrue = node.holds(.bool(true))
        if ifFalse { holding.add(Column.falseCode) }
        if ifTrue { holding.add(Column.trueCode) }
        if holding.count == 0 { return false }
        column.codes.withUnsafeBufferPointer { codes in
            if holding.count == 1 {
                fillEqual(&out, codes, holding.codes.0)
            } else if holding.count <= 4 {
                fillEqual(&out, codes, anyOf: holding.codes)
            } else if failing.count <= 4 && !ifFalse && !ifTrue {
                // Every string but a few: `!=`, `NOT IN`.
                fillString(&out, codes, below: UInt32(strings), noneOf: failing.codes)
            } else {
                scratch.truth.append(ifFalse)
                scratch.truth.append(ifTrue)
                scratch.truth.append(false)
                scratch.truth.withUnsafeBufferPointer { truth in
                    // Codes past the strings (false, true, none) index the last three entries.
                    let past = UInt32(strings), falseCode = Column.falseCode
                    fill(&out) { let x = codes[$0]; return truth[Int(x < past ? x : past &+ (x &- falseCode))] }
                }
            }
        }
        return true
    }

    /// `fill` with a compiled number test over the numbers column.
    func fill(_ out: inout [UInt64], _ test: NumberTest, _ values: UnsafeBufferPointer<Double>,
              _ numbers: UnsafeBufferPointer<Double>) {
        switch test.kind {
        case .never: fillAll(&out, false)
        case .interval: fillInterval(&out, numbers, test.low, test.high)
        case .member: fill(&out) { values.contains(numbers[$0]) }
        case .notMember: fill(&out) { let x = numbers[$0]; return x == x && !values.contains(x) }
        }
    }

    /// Sets bit `slot` of `out` where `predicate(slot)`, for every slot.
    /// Whole words run a fixed 64-step branch-free loop the compiler can
    /// vectorise when the predicate is a plain comparison.
    @inline(__always)
    func fill(_ out: inout [UInt64], _ predicate: (Int) -> Bool) {
        let count = slotCount
        out.withUnsafeMutableBufferPointer { words in
            let full = count &>> 6
            for w in 0..<full {
                let base = w &<< 6
                var word: UInt64 = 0
                for i in 0..<64 { word |= UInt64(predicate(base &+ i) ? 1 : 0) &<< UInt64(i) }
                words[w] = word
            }
            if full < words.count {
                var word: UInt64 = 0
                for slot in full &<< 6 ..< count { word |= UInt64(predicate(slot) ? 1 : 0) &<< UInt64(slot & 63) }
                words[full] = word
                for w in full + 1 ..< words.count { words[w] = 0 }
            }
        }
    }

    /// Every bit set (up to `slotCount`) or none.
    func fillAll(_ out: inout [UInt64], _ value: Bool) {
        for w in out.indices { out[w] = value ? ~0 : 0 }
        clearTail(&out)
    }

    /// Flips every bit up to `slotCount`.
    func invert(_ out: inout [UInt64]) {
        for w in out.indices { out[w] = ~out[w] }
        clearTail(&out)
    }

    /// `fill` 16 slots at a time: `lanes(first, weights)` compares the 16
    /// slots from `first` in SIMD registers and returns their bits (the
    /// mask's lanes `replacing` zeros by `weights`, bit i in lane i, then
    /// added up); the last partial word goes slot by slot through `scalar`.
    @inline(__always)
    func fillLanes(_ out: inout [UInt64], _ lanes: (Int, SIMD16<UInt32>) -> UInt32, scalar: (Int) -> Bool) {
        let weights = SIMD16<UInt32>(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)
        let full = slotCount &>> 6
        out.withUnsafeMutableBufferPointer { words in
            for w in 0..<full {
                var word: UInt64 = 0
                for part in 0..<4 { word |= UInt64(lanes(w &* 64 &+ part &* 16, weights)) &<< UInt64(part &* 16) }
                words[w] = word
            }
        }
        fillTail(&out, from: full, scalar)
    }

    /// `fill` for `codes[slot] == code`.
    func fillEqual(_ out: inout [UInt64], _ codes: UnsafeBufferPointer<UInt32>, _ code: UInt32) {
        let key = SIMD16<UInt32>(repeating: code)
        let raw = UnsafeRawPointer(codes.baseAddress!)
        fillLanes(&out, { first, weights in
            let v = raw.loadUnaligned(fromByteOffset: first &* 4, as: SIMD16<UInt32>.self)
            return SIMD16<UInt32>().replacing(with: weights, where: v .== key).wrappedSum()
        }, scalar: { codes[$0] == code })
    }

    /// `fill` for a code among four (repeated to fill the four).
    func fillEqual(_ out: inout [UInt64], _ codes: UnsafeBufferPointer<UInt32>,
                   anyOf few: (UInt32, UInt32, UInt32, UInt32)) {
        let (a, b, c, d) = (SIMD16(repeating: few.0), SIMD16(repeating: few.1), SIMD16(repeating: few.2),
                            SIMD16<UInt32>(repeating: few.3))
        let raw = UnsafeRawPointer(codes.baseAddress!)
        fillLanes(&out, { first, weights in
            let v = raw.loadUnaligned(fromByteOffset: first &* 4, as: SIMD16<UInt32>.self)
            return SIMD16<UInt32>().replacing(with: weights, where: (v .== a) .| (v .== b) .| (v .== c) .| (v .== d))
                .wrappedSum()
        }, scalar: { let x = codes[$0]; return x == few.0 || x == few.1 || x == few.2 || x == few.3 })
    }

    /// `fill` for a string code (below `bound`) other than four (repeated, or
    /// `UInt32.max`, to fill the four).
    func fillString(_ out: inout [UInt64], _ codes: UnsafeBufferPointer<UInt32>, below bound: UInt32,
                    noneOf few: (UInt32, UInt32, UInt32, UInt32)) {
        let (a, b, c, d) = (SIMD16(repeating: few.0), SIMD16(repeating: few.1), SIMD16(repeating: few.2),
                            SIMD16<UInt32>(repeating: few.3))
        let limit = SIMD16<UInt32>(repeating: bound)
        let raw = UnsafeRawPointer(codes.baseAddress!)
        fillLanes(&out, { first, weights in
            let v = raw.loadUnaligned(fromByteOffset: first &* 4, as: SIMD16<UInt32>.self)
            let hit = (v .< limit) .& (v .!= a) .& (v .!= b) .& (v .!= c) .& (v .!= d)
            return SIMD16<UInt32>().replacing(with: weights, where: hit).wrappedSum()
        }, scalar: { let x = codes[$0]; return x < bound && x != few.0 && x != few.1 && x != few.2 && x != few.3 })
    }

    /// `fill` for `low <= numbers[slot] <= high` (NaN, a slot without a number, never is).
    func fillInterval(_ out: inout [UInt64], _ numbers: UnsafeBufferPointer<Double>, _ low: Double, _ high: Double) {
        let lo = SIMD4<Double>(repeating: low), hi = SIMD4<Double>(repeating: high)
        let weights = SIMD4<UInt64>(1, 2, 4, 8)
        let raw = UnsafeRawPointer(numbers.baseAddress!)
        @inline(__always) func four(_ first: Int) -> UInt64 {
            let v = raw.loadUnaligned(fromByteOffset: first &* 8, as: SIMD4<Double>.self)
            return SIMD4<UInt64>().replacing(with: weights, where: (v .>= lo) .& (v .<= hi)).wrappedSum()
        }
        fillLanes(&out, { first, _ in
            UInt32(truncatingIfNeeded: four(first) | four(first &+ 4) &<< 4 | four(first &+ 8) &<< 8 | four(first &+ 12) &<< 12)
        }, scalar: { numbers[$0] >= low && numbers[$0] <= high })
    }

    /// `fill` for `tags[slot] == 0`: slots without the field. Eight tags per
    /// 64-bit word: the zero bytes' high bits, gathered by a multiplication.
    func fillMissing(_ out: inout [UInt64], _ tags: UnsafeBufferPointer<UInt8>) {
        let raw = UnsafeRawPointer(tags.baseAddress!)
        @inline(__always) func eight(_ first: Int) -> UInt64 {
            let x = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: first, as: UInt64.self))
            let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
            let zeroHighBits = ~(((x & low7) &+ low7) | x | low7)      // 0x80 in each zero byte
            return ((zeroHighBits &>> 7) &* 0x0102_0408_1020_4080) &>> 56
        }
        fillLanes(&out, { first, _ in UInt32(truncatingIfNeeded: eight(first) | eight(first &+ 8) &<< 8) },
                  scalar: { tags[$0] == 0 })
    }

    /// The words from `first` on, slot by slot.
    @inline(__always)
    func fillTail(_ out: inout [UInt64], from first: Int, _ predicate: (Int) -> Bool) {
        let count = slotCount
        out.withUnsafeMutableBufferPointer { words in
            for w in first ..< words.count {
                var word: UInt64 = 0
                for slot in w &<< 6 ..< Swift.min(count, (w &+ 1) &<< 6) {
                    word |= UInt64(predicate(slot) ? 1 : 0) &<< UInt64(slot & 63)
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
/// that satisfy it form an interval (`=`: one point), a set, or the
/// complement of a set (the set's values in a reused scratch buffer).
/// Doubles compare exactly here: metadata integers and integer literals lie
/// within ±(2⁵³ − 1), where every integer is a double, so this agrees with
/// `FilterNode.holds` (the tests check it against the reference).
struct NumberTest {
    enum Kind { case never, interval, member, notMember }
    var kind = Kind.never
    /// A closed interval: `x < v` is `x <= v.nextDown`, exactly, for finite v.
    var low = -Double.infinity, high = Double.infinity

    init(_ node: FilterNode, values: inout [Double]) {
        values.removeAll(keepingCapacity: true)
        switch node {
        case .compare(_, let op, .number(let y)):
            let v = y.doubleValue
            switch op {
            case .equal: kind = .interval; (low, high) = (v, v)
            case .notEqual: kind = .notMember; values.append(v)
            case .less: kind = .interval; high = v.nextDown
            case .lessOrEqual: kind = .interval; high = v
            case .greater: kind = .interval; low = v.nextUp
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
}

/// Up to four codes, the rest counted: the few strings a condition accepts
/// (or rejects), kept without allocating. Unused places repeat the first,
/// or hold `UInt32.max`, a code no string has, when there is none.
struct _FewCodes {
    var codes: (UInt32, UInt32, UInt32, UInt32) = (.max, .max, .max, .max)
    var count = 0

    mutating func add(_ code: UInt32) {
        switch count {
        case 0: codes = (code, code, code, code)
        case 1: codes.1 = code
        case 2: codes.2 = code
        case 3: codes.3 = code
        default: break
        }
        count += 1
    }
}
