import EdgeVec
import Testing

/// Rejected input throws the exact typed error and leaves the index unchanged.
@Suite("Bad input")
struct BadInputTests {
    static let rows = uniformRows(count: 60, dimension: 4, seed: 21)
    static let queries = uniformRows(count: 6, dimension: 4, seed: 22)

    /// A populated index of `kind` under `metric`, plus its state.
    static func populated(_ kind: IndexKind, _ metric: Metric = .l2) throws -> (any TestIndex, IndexState) {
        let index = try kind.make(dimension: 4, metric: metric, m: 4, efConstruction: 32)
        try index.addBatch(rows.values)
        return (index, try IndexState(index, queries: queries))
    }

    /// `body` throws exactly `error`, and the index state is unchanged afterwards.
    static func expectRejected<R>(_ index: any TestIndex, _ state: IndexState, _ error: EdgeVecError,
                                  sourceLocation: SourceLocation = #_sourceLocation,
                                  _ body: () throws -> R) throws {
        #expect(throws: error, sourceLocation: sourceLocation) { try body() }
        #expect(try IndexState(index, queries: queries) == state, "index changed after \(error)",
                sourceLocation: sourceLocation)
    }

    @Test("Wrong dimension: add, addBatch, search", arguments: IndexKind.allCases)
    func wrongDimension(kind: IndexKind) throws {
        let (index, state) = try Self.populated(kind)
        try Self.expectRejected(index, state, .dimensionMismatch(expected: 4, actual: 3)) { try index.add([1, 2, 3]) }
        try Self.expectRejected(index, state, .dimensionMismatch(expected: 4, actual: 5)) { try index.add([1, 2, 3, 4, 5]) }
        try Self.expectRejected(index, state, .dimensionMismatch(expected: 4, actual: 0)) { try index.add([]) }
        try Self.expectRejected(index, state, .dimensionMismatch(expected: 4, actual: 7)) {
            try index.addBatch([1, 2, 3, 4, 5, 6, 7])
        }
        try Self.expectRejected(index, state, .dimensionMismatch(expected: 4, actual: 3)) { try index.addBatch([1, 2, 3]) }
        try Self.expectRejected(index, state, .dimensionMismatch(expected: 4, actual: 3)) { try index.find([1, 2, 3], k: 1) }
        try Self.expectRejected(index, state, .dimensionMismatch(expected: 4, actual: 8)) {
            try index.find([1, 2, 3, 4, 5, 6, 7, 8], k: 1)
        }
    }

    @Test("NaN and infinities in add", arguments: IndexKind.allCases, [Float.nan, .infinity, -.infinity])
    func nonFiniteAdd(kind: IndexKind, bad: Float) throws {
        let (index, state) = try Self.populated(kind)
        try Self.expectRejected(index, state, .nonFiniteValue(position: 2)) { try index.add([1, 2, bad, 4]) }
        try Self.expectRejected(index, state, .nonFiniteValue(position: 0)) { try index.add([bad, bad, 0, 0]) }
        try Self.expectRejected(index, state, .nonFiniteValue(position: 3)) { try index.add([0, 0, 0, bad]) }
    }

    @Test("NaN and infinities in the middle of a batch add nothing", arguments: IndexKind.allCases,
          [Float.nan, .infinity, -.infinity])
    func nonFiniteBatch(kind: IndexKind, bad: Float) throws {
        let (index, state) = try Self.populated(kind)
        var batch = Array(uniformRows(count: 5, dimension: 4, seed: 30).values)
        batch[2 * 4 + 1] = bad                     // row 2, component 1: position 9 across the batch
        try Self.expectRejected(index, state, .nonFiniteValue(position: 9)) { try index.addBatch(batch) }
        batch[2 * 4 + 1] = 0
        batch[19] = bad                            // the very last value
        try Self.expectRejected(index, state, .nonFiniteValue(position: 19)) { try index.addBatch(batch) }
        batch[19] = 0
        // The repaired batch is accepted and gets the next ids.
        #expect(try index.addBatch(batch) == 60)
        #expect(index.count == 65)
    }

    @Test("NaN and infinities in a query", arguments: IndexKind.allCases, [Float.nan, .infinity, -.infinity])
    func nonFiniteQuery(kind: IndexKind, bad: Float) throws {
        let (index, state) = try Self.populated(kind)
        try Self.expectRejected(index, state, .nonFiniteValue(position: 1)) { try index.find([0, bad, 0, 0], k: 3) }
        try Self.expectRejected(index, state, .nonFiniteValue(position: 3)) { try index.find([0, 0, 0, bad], k: 3) }
    }

    @Test("Zero vectors under cosine: add, batch, query", arguments: IndexKind.allCases)
    func zeroVectorCosine(kind: IndexKind) throws {
        let (index, state) = try Self.populated(kind, .cosine)
        try Self.expectRejected(index, state, .zeroVector(row: 0)) { try index.add([0, 0, 0, 0]) }
        try Self.expectRejected(index, state, .zeroVector(row: 0)) { try index.add([-0.0, 0, -0.0, 0]) }
        var batch = Array(uniformRows(count: 4, dimension: 4, seed: 31).values)
        for i in 8..<12 { batch[i] = 0 }           // row 2
        try Self.expectRejected(index, state, .zeroVector(row: 2)) { try index.addBatch(batch) }
        try Self.expectRejected(index, state, .zeroVector(row: 0)) { try index.find([0, 0, 0, 0], k: 1) }
        // Zero vectors are fine for the other metrics.
        for metric in [Metric.l2, .dot] {
            let other = try kind.make(dimension: 4, metric: metric)
            #expect(try other.add([0, 0, 0, 0]) == 0)
            #expect(try other.find([0, 0, 0, 0], k: 1).first?.id == 0)
        }
    }

    @Test("Rows too large for l2 and dot, near the bound and past Float's range", arguments: IndexKind.allCases)
    func tooLarge(kind: IndexKind) throws {
        let bound = Double(Float.greatestFiniteMagnitude) / 8     // the largest squared norm accepted
        let near = Float((0.75 * bound / 4).squareRoot())       // ‖v‖² = 0.75 × bound: exact check accepts
        let over = Float((1.5 * bound / 4).squareRoot())        // 1.5 × bound
        for metric in [Metric.l2, .dot] {
            let (index, state) = try Self.populated(kind, metric)
            try Self.expectRejected(index, state, .vectorTooLarge(row: 0)) { try index.add([over, over, over, over]) }
            try Self.expectRejected(index, state, .vectorTooLarge(row: 0)) { try index.add([1e20, 0, 0, 0]) }
            var batch = Array(uniformRows(count: 3, dimension: 4, seed: 32).values)
            batch[4] = 1e20                                       // row 1
            try Self.expectRejected(index, state, .vectorTooLarge(row: 1)) { try index.addBatch(batch) }
            batch[9] = .nan                                       // a later NaN is reported first
            try Self.expectRejected(index, state, .nonFiniteValue(position: 9)) { try index.addBatch(batch) }
            #expect(try index.add([near, near, near, near]) == 60)
        }
        // Cosine normalises, so size does not matter; a square overflowing Float is fine.
        let cosine = try kind.make(dimension: 4, metric: .cosine)
        #expect(try cosine.add([1e20, 0, 0, 0]) == 0)
        #expect(try cosine.add([over, over, over, over]) == 1)
        #expect(try cosine.find([1, 0, 0, 0], k: 1).first?.id == 0)
    }

    @Test("Tiny rows whose Float squares round to zero are not zero vectors", arguments: IndexKind.allCases)
    func tinyCosine(kind: IndexKind) throws {
        let index = try kind.make(dimension: 4, metric: .cosine)
        #expect(try index.add([0, 1, 0, 0]) == 0)
        #expect(try index.add([1e-30, 0, 0, 0]) == 1)
        #expect(try index.addBatch([0, 0, 0, -1e-25, 0, 0, 2, 0]) == 2)
        #expect(try index.find([1, 0, 0, 0], k: 1).first?.id == 1)
        #expect(try index.find([0, 0, 0, -3], k: 1).first?.id == 2)
        #expect(try index.find([1e-30, 0, 0, 0], k: 1).first?.id == 1)
    }

    @Test("Bad values at every position of a 37-d row (SIMD blocks and tail)", arguments: IndexKind.allCases)
    func badValuesWide(kind: IndexKind) throws {
        let base = Array(uniformRows(count: 2, dimension: 37, seed: 33).values)
        for metric in Metric.allCases {
            let index = try kind.make(dimension: 37, metric: metric)
            for position in 0..<74 {
                var batch = base
                batch[position] = .infinity
                #expect(throws: EdgeVecError.nonFiniteValue(position: position)) { try index.addBatch(batch) }
                if position < 37 {
                    #expect(throws: EdgeVecError.nonFiniteValue(position: position)) {
                        try index.add(Array(batch[0..<37]))
                    }
                }
            }
            var zero = base
            for i in 37..<74 { zero[i] = 0 }
            if metric == .cosine {
                #expect(throws: EdgeVecError.zeroVector(row: 1)) { try index.addBatch(zero) }
            } else {
                zero[40] = 1e20
                #expect(throws: EdgeVecError.vectorTooLarge(row: 1)) { try index.addBatch(zero) }
            }
            #expect(index.count == 0)
            #expect(try index.addBatch(base) == 0)
        }
    }

    @Test("k below 1", arguments: IndexKind.allCases)
    func badK(kind: IndexKind) throws {
        let (index, state) = try Self.populated(kind)
        try Self.expectRejected(index, state, .invalidK(0)) { try index.find([1, 2, 3, 4], k: 0) }
        try Self.expectRejected(index, state, .invalidK(-5)) { try index.find([1, 2, 3, 4], k: -5) }
        try Self.expectRejected(index, state, .invalidK(Int.min)) { try index.find([1, 2, 3, 4], k: Int.min) }
        // Also on an empty index.
        let empty = try kind.make(dimension: 4, metric: .l2)
        #expect(throws: EdgeVecError.invalidK(0)) { try empty.find([1, 2, 3, 4], k: 0) }
    }

    @Test("ef out of range", arguments: IndexKind.allCases)
    func badEf(kind: IndexKind) throws {
        let (index, state) = try Self.populated(kind)
        try Self.expectRejected(index, state, .invalidParameter(.ef, value: 0)) { try index.find([1, 2, 3, 4], k: 1, ef: 0) }
        try Self.expectRejected(index, state, .invalidParameter(.ef, value: 70000)) {
            try index.find([1, 2, 3, 4], k: 1, ef: 70000)
        }
        try Self.expectRejected(index, state, .invalidParameter(.ef, value: -1)) { try index.find([1, 2, 3, 4], k: 1, ef: -1) }
        // The bounds themselves are accepted.
        #expect(try index.find([1, 2, 3, 4], k: 1, ef: 1).count == 1)
        #expect(try index.find([1, 2, 3, 4], k: 3, ef: 65536).count == 3)
    }

    @Test("ef below k is raised to k")
    func efBelowK() throws {
        let (index, _) = try Self.populated(.hnsw)
        let r = try index.find([0.1, 0.2, 0.3, 0.4], k: 20, ef: 1)
        #expect(r.count == 20)
        expectWellFormed(r, count: 60)
    }

    @Test("Invalid parameters at init")
    func badInit() {
        for d in [0, -1, 70000, 65537, Int.min] {
            #expect(throws: EdgeVecError.invalidParameter(.dimension, value: d)) { try HNSWIndex(dimension: d, metric: .l2) }
            #expect(throws: EdgeVecError.invalidParameter(.dimension, value: d)) { try FlatIndex(dimension: d, metric: .l2) }
        }
        for m in [1, 129, 0, -3] {
            #expect(throws: EdgeVecError.invalidParameter(.m, value: m)) {
                try HNSWIndex(dimension: 4, metric: .l2, configuration: HNSWConfiguration(m: m))
            }
        }
        for ef in [0, -1, 65537] {
            #expect(throws: EdgeVecError.invalidParameter(.efConstruction, value: ef)) {
                try HNSWIndex(dimension: 4, metric: .l2, configuration: HNSWConfiguration(efConstruction: ef))
            }
            #expect(throws: EdgeVecError.invalidParameter(.efSearch, value: ef)) {
                try HNSWIndex(dimension: 4, metric: .cosine, configuration: HNSWConfiguration(efSearch: ef))
            }
        }
        // The limits themselves are accepted.
        #expect(throws: Never.self) {
            _ = try HNSWIndex(dimension: 65536, metric: .dot,
                              configuration: HNSWConfiguration(m: 128, efConstruction: 65536, efSearch: 65536))
            _ = try HNSWIndex(dimension: 1, metric: .l2, configuration: HNSWConfiguration(m: 2, efConstruction: 1, efSearch: 1))
            _ = try FlatIndex(dimension: 65536, metric: .l2)
        }
    }

    @Test("Error codes and messages")
    func errorReporting() {
        let all: [EdgeVecError] = [
            .dimensionMismatch(expected: 4, actual: 3), .nonFiniteValue(position: 2), .zeroVector(row: 1),
            .invalidK(0), .invalidParameter(.ef, value: 0), .capacityExceeded, .outOfMemory,
            .corrupt(.badMagic), .io(errno: 2),
        ]
        #expect(all.map(\.code) == [-1, -2, -3, -4, -5, -6, -7, -8, -9])
        #expect(Set(all.map(\.message)).count == all.count)
        #expect(EdgeVecError.dimensionMismatch(expected: 4, actual: 3).message.contains("4"))
        #expect(EdgeVecError.invalidParameter(.m, value: 1).message.contains("2...128"))
    }

    @Test("Search on an empty index returns no results", arguments: IndexKind.allCases, Metric.allCases)
    func emptySearch(kind: IndexKind, metric: Metric) throws {
        let index = try kind.make(dimension: 4, metric: metric)
        #expect(try index.find([1, 2, 3, 4], k: 1) == [])
        #expect(try index.find([1, 2, 3, 4], k: 100, ef: 10) == [])
        // Validation still applies to an empty index.
        #expect(throws: EdgeVecError.dimensionMismatch(expected: 4, actual: 2)) { try index.find([1, 2], k: 1) }
        #expect(throws: EdgeVecError.nonFiniteValue(position: 0)) { try index.find([.nan, 2, 3, 4], k: 1) }
        #expect(throws: EdgeVecError.invalidParameter(.ef, value: 0)) { try index.find([1, 2, 3, 4], k: 1, ef: 0) }
    }

    @Test("k larger than the count returns every vector", arguments: IndexKind.allCases, Metric.allCases)
    func kLargerThanCount(kind: IndexKind, metric: Metric) throws {
        let index = try kind.make(dimension: 4, metric: metric)
        try index.addBatch(Array(Self.rows.values.prefix(5 * 4)))
        for k in [5, 6, 10, 1000, 70000] {
            let r = try index.find([0.3, -0.2, 0.1, 0.5], k: k)
            #expect(r.count == 5, "k = \(k)")
            #expect(Set(r.map(\.id)) == Set(0..<5))
            expectWellFormed(r, count: 5)
        }
        #expect(try index.find([0.3, -0.2, 0.1, 0.5], k: 3).count == 3)
    }

    @Test("A rejected call leaves the graph itself unchanged")
    func graphUnchanged() throws {
        let index = try HNSWIndex(dimension: 4, metric: .cosine, configuration: HNSWConfiguration(m: 4, efConstruction: 32))
        try index.addBatch(Self.rows.values)
        let before = GraphSnapshot(index)
        _ = try? index.add([1, .nan, 0, 0])
        _ = try? index.addBatch(Self.rows.values + [0, 0, 0, 0])
        _ = try? index.addBatch(Self.rows.values + [1, 2])
        _ = try? index.search([0, 0, 0, 0], k: 3)
        _ = try? index.search([1, 1, 1, 1], k: 0)
        #expect(GraphSnapshot(index) == before)
        // And the next insert gets the next id and the same graph as a fresh build.
        #expect(try index.add([1, 1, 1, 1]) == 60)
        let fresh = try HNSWIndex(dimension: 4, metric: .cosine, configuration: HNSWConfiguration(m: 4, efConstruction: 32))
        try fresh.addBatch(Self.rows.values + [1, 1, 1, 1])
        #expect(GraphSnapshot(index) == GraphSnapshot(fresh))
    }
}
