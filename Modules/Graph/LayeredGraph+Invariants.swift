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

extension LayeredGraph {
    /// Checks degree bounds, self-loops, duplicates, that every neighbour
    /// exists on that layer, and (with `checkReachability`) that every node is
    /// reachable on layer 0 from `entryPoint` (when there are nodes).
    /// - Returns: the first violation found, or `nil`.
    /// - Complexity: O(nodes · M · log M) time and O(nodes) memory.
    public func checkInvariants(entryPoint: Int, checkReachability: Bool = true) -> GraphInvariantViolation? {
        let allocator = RawAllocator.system
        var seen = _UnsafeGrowableBuffer<UInt8>()
        var stack = _UnsafeGrowableBuffer<UInt32>()
        defer { seen.release(using: allocator); stack.release(using: allocator) }
        guard seen.reserve(count + 1, preserving: 0, using: allocator),
              stack.reserve(count + 1, preserving: 0, using: allocator) else { return nil }
        for id in 0..<count {
            for layer in 0...level(of: id) {
                let b = block(of: id, layer: layer)
                let n = Int(b[0])
                if n > capacity(layer: layer) { return .degreeExceeded(node: id, layer: layer) }
                for i in 0..<n {
                    let e = Int(b[1 + i])
                    if e == id { return .selfLoop(node: id, layer: layer) }
                    if e >= count { return .neighborOutOfRange(node: id, layer: layer) }
                    if level(of: e) < layer { return .neighborBelowLayer(node: id, layer: layer) }
                    for j in 0..<i where b[1 + j] == b[1 + i] {
                        return .duplicateNeighbor(node: id, layer: layer)
                    }
                }
            }
        }
        if count == 0 { return nil }
        guard entryPoint >= 0 && entryPoint < count else { return .badEntryPoint }
        if !checkReachability { return nil }
        // Depth-first walk of layer 0 from the entry point.
        var top = 0
        stack[0] = UInt32(entryPoint)
        top = 1
        seen[entryPoint] = 1
        while top > 0 {
            top -= 1
            let v = Int(stack[top])
            for e in neighbors(of: v, layer: 0) where seen[Int(e)] == 0 {
                seen[Int(e)] = 1
                stack[top] = e
                top += 1
            }
        }
        for id in 0..<count where seen[id] == 0 { return .unreachable(node: id) }
        return nil
    }
}
