import EdgeVec
import Testing

/// Structural invariants of the HNSW graph after builds of various sizes and M.
@Suite("Graph invariants")
struct GraphInvariantTests {
    /// Checks the invariants directly through the public accessors, independent
    /// of `checkInvariants()`.
    static func verify(_ index: HNSWIndex, m: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let n = index.count
        #expect(index.checkInvariants() == nil, sourceLocation: sourceLocation)
        guard n > 0 else {
            #expect(index.entryPoint == -1, sourceLocation: sourceLocation)
            #expect(index.maxLevel == 0, sourceLocation: sourceLocation)
            return
        }
        #expect((0..<n).contains(index.entryPoint), sourceLocation: sourceLocation)
        #expect(index.level(of: index.entryPoint) == index.maxLevel, sourceLocation: sourceLocation)
        var problems: [String] = []
        for id in 0..<n {
            let level = index.level(of: id)
            if level > index.maxLevel { problems.append("node \(id) level \(level) > maxLevel") }
            for layer in 0...level {
                let list = index.neighbors(of: id, layer: layer)
                let bound = layer == 0 ? 2 * m : m
                if list.count > bound { problems.append("node \(id) layer \(layer): degree \(list.count) > \(bound)") }
                if list.contains(id) { problems.append("node \(id) layer \(layer): self-loop") }
                if Set(list).count != list.count { problems.append("node \(id) layer \(layer): duplicates") }
                for e in list {
                    if e < 0 || e >= n {
                        problems.append("node \(id) layer \(layer): neighbour \(e) out of range")
                    } else if index.level(of: e) < layer {
                        problems.append("node \(id) layer \(layer): neighbour \(e) not on this layer")
                    }
                }
                // A node with other nodes on its layer is not isolated.
                if layer == 0 && n > 1 && list.isEmpty { problems.append("node \(id) has no layer-0 neighbours") }
            }
        }
        // Reachability on layer 0 from the entry point (breadth first).
        var seen = [Bool](repeating: false, count: n)
        var queue = [index.entryPoint]
        seen[index.entryPoint] = true
        var head = 0
        while head < queue.count {
            let v = queue[head]
            head += 1
            for e in index.neighbors(of: v, layer: 0) where e >= 0 && e < n && !seen[e] {
                seen[e] = true
                queue.append(e)
            }
        }
        let unreachable = (0..<n).filter { !seen[$0] }
        if !unreachable.isEmpty { problems.append("unreachable on layer 0: \(unreachable.prefix(10))") }
        #expect(problems.isEmpty, "\(problems.prefix(10))", sourceLocation: sourceLocation)
    }

    struct Shape: Sendable, CustomTestStringConvertible {
        var size: Int
        var m: Int
        var testDescription: String { "\(size) vectors, M \(m)" }
    }

    static let shapes = [1, 2, 17, 300, 5000].flatMap { size in [2, 4, 16].map { Shape(size: size, m: $0) } }

    @Test("Invariants hold after builds", arguments: shapes, Metric.allCases)
    func invariants(shape: Shape, metric: Metric) throws {
        let size = shape.size, m = shape.m
        let data = ClusteredData(count: size, queries: 0, dimension: 8, clusters: 12, seed: UInt64(size * 131 + m))
        // Smaller beams for the big builds keep the suite fast; the beam
        // does not change the invariants.
        let index = try makeHNSW(data.data, metric: metric, m: m, efConstruction: size >= 5000 ? 48 : 100)
        #expect(index.count == size)
        Self.verify(index, m: m)
        // Every node is findable: the node itself is among its nearest
        // (dot excepted: a vector is not its own nearest under −⟨a, b⟩).
        if metric != .dot && size <= 300 {
            let lost = try (0..<size).filter { id in
                try index.search(data.data[id], k: 1, ef: max(size, 1)).first.map { abs($0.distance) > 1e-4 } ?? true
            }
            #expect(lost.isEmpty, "\(lost.count) vectors not found with ef = count: \(lost.prefix(10))")
        }
    }

    @Test("An empty index has no entry point and searches return nothing")
    func empty() throws {
        let index = try HNSWIndex(dimension: 3, metric: .l2)
        Self.verify(index, m: 16)
        #expect(index.count == 0)
        #expect(try index.search([1, 2, 3], k: 5) == [])
    }

    @Test("Invariants hold with many duplicate vectors", arguments: [2, 4, 16], [Metric.l2, .cosine])
    func duplicates(m: Int, metric: Metric) throws {
        // 400 copies of one vector, interleaved with 200 distinct ones: zero
        // distances and ties everywhere.
        let distinct = uniformRows(count: 200, dimension: 6, seed: 77)
        var values: [Float] = []
        for i in 0..<600 {
            values += i % 3 == 0 ? distinct[i / 3] : [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
        }
        let rows = Rows(dimension: 6, values: values)
        let index = try makeHNSW(rows, metric: metric, m: m, efConstruction: 64)
        Self.verify(index, m: m)
        // Asking for all copies returns 400 distinct ids at distance 0.
        let r = try index.search([0.5, 0.5, 0.5, 0.5, 0.5, 0.5], k: 400, ef: 1000)
        expectWellFormed(r, count: index.count)
        let copies = r.filter { abs($0.distance) < 1e-5 }.count
        #expect(copies == 400, "found \(copies) of the 400 copies")
    }

    @Test("An exact copy links to an earlier copy, plus at most its tree parent", arguments: [Metric.l2, .cosine])
    func exactCopyLinks(metric: Metric) throws {
        // The selection keeps a candidate only if it is closer to the new node
        // than to every kept one; once a copy is kept, nothing else is (and
        // the insert stops looking). A copy is the nearest candidate under l2
        // and cosine, so the heuristic keeps exactly one; the tree may add
        // the parent.
        let rows = uniformRows(count: 300, dimension: 24, seed: 5)
        let index = try makeHNSW(rows, metric: metric, m: 8, efConstruction: 64)
        var stored = (0..<rows.count).map { rows[$0] }
        for source in [0, 17, 150, 299, 17] {
            let id = Int(try index.add(rows[source]))
            stored.append(rows[source])
            let list = index.neighbors(of: id, layer: 0)
            let copies = list.filter { stored[$0] == rows[source] }
            #expect(!copies.isEmpty && list.count <= 2, "copy of \(source): neighbours \(list)")
        }
        // A vector with no copy gets the heuristic's usual spread.
        let fresh = Int(try index.add(uniformRows(count: 1, dimension: 24, seed: 6)[0]))
        #expect(index.neighbors(of: fresh, layer: 0).count > 2)
        Self.verify(index, m: 8)
    }

    @Test("Invariants hold on a one-dimensional line (many equal distances)")
    func line() throws {
        var values: [Float] = []
        for i in 0..<1500 { values.append(Float(i % 500)) }
        let index = try makeHNSW(Rows(dimension: 1, values: values), metric: .l2, m: 2, efConstruction: 20)
        Self.verify(index, m: 2)
        let r = try index.search([250.2], k: 3, ef: 100)
        #expect(r.count == 3)
        #expect(r.allSatisfy { abs($0.distance - 0.04) < 1e-3 }, "\(r)")
        #expect(Set(r.map { $0.id % 500 }) == [250])
    }

    @Test("Levels follow the geometric distribution roughly (P(level ≥ 1) ≈ 1/M)")
    func levelDistribution() throws {
        let rows = uniformRows(count: 4000, dimension: 4, seed: 9)
        let index = try makeHNSW(rows, metric: .l2, m: 4, efConstruction: 16)
        let upper = (0..<index.count).filter { index.level(of: $0) >= 1 }.count
        let fraction = Double(upper) / Double(index.count)
        // Expected 0.25; 4000 draws give a standard deviation below 0.007.
        #expect(fraction > 0.21 && fraction < 0.29, "fraction with level ≥ 1: \(fraction)")
        let twoUp = (0..<index.count).filter { index.level(of: $0) >= 2 }.count
        #expect(twoUp > 150 && twoUp < 360, "nodes with level ≥ 2: \(twoUp)")
        #expect(index.maxLevel >= 3)
    }
}
