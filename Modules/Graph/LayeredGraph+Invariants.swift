import EdgeVecAllocators

/// A broken graph invariant, as found by `LayeredGraph.checkInvariants`.
public enum GraphInvariantViolation: Equatable, Sendable {
    case degreeExceeded(node: Int, layer: Int)
    case selfLoop(node: Int, layer: Int)
    case duplicateNeighbor(node: Int, layer: Int)
    case neighborOutOfRange(node: Int, layer: Int)
    case neighborBelowLayer(node: Int, layer: Int)
    case unreachable(node: Int)
    case badEntryPoint
}

extension GraphInvariantViolation {
    /// A sentence for people (a corrupt file's reason names it).
    public var message: String { String(writing: write) }

    /// Writes `message`.
    public func write(to m: inout MessageBuffer) {
        func list(_ node: Int, _ layer: Int, _ problem: StaticString) {
            m.text("neighbour list of node ")
            m.number(node)
            m.text(" on layer ")
            m.number(layer)
            m.text(": ")
            m.text(problem)
        }
        switch self {
        case .degreeExceeded(let node, let layer): list(node, layer, "more neighbours than the layer allows")
        case .selfLoop(let node, let layer): list(node, layer, "links to itself")
        case .duplicateNeighbor(let node, let layer): list(node, layer, "lists a neighbour twice")
        case .neighborOutOfRange(let node, let layer): list(node, layer, "links to a node that does not exist")
        case .neighborBelowLayer(let node, let layer): list(node, layer, "links to a node below this layer")
        case .unreachable(let node):
            m.text("node ")
            m.number(node)
            m.text(" is unreachable on layer 0")
        case .badEntryPoint: m.text("the entry point is not a node on the top layer")
        }
    }
}

extension LayeredGraph {
    /// Checks degree bounds, self-loops, duplicates, that every neighbour
    /// exists on that layer, and (with `checkReachability`) that every node is
    /// reachable on layer 0 from `entryPoint` (when there are nodes).
    ///
    /// Safe on lists read from untrusted bytes: counts and ids are compared
    /// as the stored `UInt32` before any becomes an `Int` (32 bits on wasm32).
    /// - Returns: the first violation found, or `nil`.
    /// - Complexity: O(nodes · M²) time (the duplicate scan is quadratic per
    ///   list); O(nodes) memory for the reachability walk.
    public func checkInvariants(entryPoint: Int, checkReachability: Bool = true) -> GraphInvariantViolation? {
        let nodes = UInt32(truncatingIfNeeded: count)
        for id in 0..<count {
            for layer in 0...level(of: id) {
                let b = block(of: id, layer: layer)
                if b[0] > UInt32(capacity(layer: layer)) { return .degreeExceeded(node: id, layer: layer) }
                let n = Int(b[0])
                for i in 0..<n {
                    let e = b[1 + i]
                    if e >= nodes { return .neighborOutOfRange(node: id, layer: layer) }
                    if Int(e) == id { return .selfLoop(node: id, layer: layer) }
                    if level(of: Int(e)) < layer { return .neighborBelowLayer(node: id, layer: layer) }
                    for j in 0..<i where b[1 + j] == e {
                        return .duplicateNeighbor(node: id, layer: layer)
                    }
                }
            }
        }
        if count == 0 { return nil }
        guard entryPoint >= 0 && entryPoint < count else { return .badEntryPoint }
        if !checkReachability { return nil }
        // Depth-first walk of layer 0 from the entry point. Plain arrays: a
        // diagnostic, so running out of memory traps rather than passing.
        var seen = [Bool](repeating: false, count: count)
        var stack: [UInt32] = [UInt32(entryPoint)]
        seen[entryPoint] = true
        while let v = stack.popLast() {
            for e in neighbors(of: Int(v), layer: 0) where !seen[Int(e)] {
                seen[Int(e)] = true
                stack.append(e)
            }
        }
        if let id = seen.firstIndex(of: false) { return .unreachable(node: id) }
        return nil
    }
}
