import EdgeVecAllocators
import EdgeVecGraph
import EdgeVecStorage

extension HNSWIndex {
    /// Adds one vector and returns its id (0-based, sequential).
    ///
    /// - Precondition: none; bad input throws.
    /// - Throws: `dimensionMismatch`, `nonFiniteValue`, `zeroVector` (cosine),
    ///   `capacityExceeded`, `outOfMemory`. The index is unchanged on any throw.
    /// - Complexity: O(efConstruction · M · log n) distance computations expected.
    @discardableResult
    public func add(_ vector: UnsafeBufferPointer<Float>) throws(EdgeVecError) -> Int {
        guard vector.count == dimension else {
            throw .dimensionMismatch(expected: dimension, actual: vector.count)
        }
        try _Validation.checkRows(vector, dimension: dimension, metric: metric)
        try _reserve(adding: 1)
        return _insertValidated(vector.baseAddress!)
    }

    /// Adds one vector; see `add(_:)` taking a buffer.
    @discardableResult
    public func add(_ vector: [Float]) throws(EdgeVecError) -> Int {
        try vector.withUnsafeBufferPointer { (buffer) throws(EdgeVecError) -> Int in try add(buffer) }
    }

    /// Adds `vectors.count / dimension` vectors stored row after row, all or
    /// nothing, and returns the id of the first (the rest follow in order).
    ///
    /// - Throws: `dimensionMismatch` when the length is not a multiple of the
    ///   dimension (`actual` is the length given), `nonFiniteValue` (position
    ///   across the whole batch), `zeroVector` (cosine, with the row),
    ///   `capacityExceeded`, `outOfMemory`. Nothing is added on any throw.
    /// - Complexity: as `add(_:)` per vector.
    @discardableResult
    public func addBatch(_ vectors: UnsafeBufferPointer<Float>) throws(EdgeVecError) -> Int {
        guard vectors.count % dimension == 0 else {
            throw .dimensionMismatch(expected: dimension, actual: vectors.count)
        }
        let first = count
        let rows = vectors.count / dimension
        if rows == 0 { return first }
        try _Validation.checkRows(vectors, dimension: dimension, metric: metric)
        try _reserve(adding: rows)
        let base = vectors.baseAddress!
        for row in 0..<rows { _insertValidated(base + row * dimension) }
        return first
    }

    /// Adds a batch; see `addBatch(_:)` taking a buffer.
    @discardableResult
    public func addBatch(_ vectors: [Float]) throws(EdgeVecError) -> Int {
        try vectors.withUnsafeBufferPointer { (buffer) throws(EdgeVecError) -> Int in try addBatch(buffer) }
    }

    /// Reserves everything `rows` more inserts need, so that the inserts
    /// themselves cannot fail. Draws the coming levels on a copy of the
    /// generator to size the upper-layer slab exactly.
    func _reserve(adding rows: Int) throws(EdgeVecError) {
        let (newCount, overflow) = count.addingReportingOverflow(rows)
        guard !overflow, newCount <= Limits.maxCount else { throw .capacityExceeded }
        var preview = rng
        var words = graph.upperWords
        for _ in 0..<rows {
            words += graph.upperWords(forLevel: _drawLevel(&preview, m: configuration.m, cap: LayeredGraph.maxLevel))
        }
        guard vectors.reserve(newCount, using: allocator),
              graph.reserve(nodes: newCount, upperWords: words, using: allocator),
              inDegree.reserve(newCount, preserving: count, using: allocator),
              scratch.reserve(nodes: newCount, ef: configuration.efConstruction, degree: graph.maxDegree0,
                              stride: vectors.stride, allocator: allocator)
        else { throw .outOfMemory }
    }

    /// Inserts a validated vector into reserved space. Cannot fail.
    @discardableResult
    func _insertValidated(_ source: UnsafePointer<Float>) -> Int {
        let scale: Float = metric == .cosine ? _Validation.inverseNorm(source, dimension) : 1
        let id = vectors.append(source, scale: scale)
        let level = _drawLevel(&rng, m: configuration.m, cap: LayeredGraph.maxLevel)
        graph.addNode(level: level)
        inDegree[id] = 0
        switch metric {
        case .l2: _link(_L2Kernel.self, id: id, level: level)
        case .cosine: _link(_CosineKernel.self, id: id, level: level)
        case .dot: _link(_DotKernel.self, id: id, level: level)
        }
        return id
    }

    /// Connects the new node `id` (already in storage and graph) to the graph.
    func _link<K: _DistanceKernel>(_ kernel: K.Type, id: Int, level: Int) {
        if entryPoint < 0 {
            entryPoint = id
            maxLevel = level
            return
        }
        let q = UnsafePointer(vectors.pointer(at: id))
        let stride = vectors.stride
        var ep = _Candidate(K.distance(q, vectors.pointer(at: entryPoint), stride), UInt32(entryPoint))
        var layer = maxLevel
        while layer > level {
            ep = _greedy(K.self, q, from: ep, layer: layer)
            layer -= 1
        }
        let m = configuration.m
        while layer >= 0 {
            _searchLayer(K.self, q, from: ep, ef: configuration.efConstruction, layer: layer)
            let found = _drainResultsSorted()
            ep = scratch.sorted[0]
            let chosen = _selectHeuristic(K.self, from: scratch.sorted.base!, count: found, limit: m)
            // Linking back reuses `sorted`, `selected` and `ids`: keep the choice apart.
            let links = scratch.links.base!
            let ids = scratch.ids.base!
            for i in 0..<chosen {
                links[i] = scratch.selected[i]
                ids[i] = links[i].id
            }
            graph.setNeighbors(of: id, layer: layer, UnsafeBufferPointer(start: ids, count: chosen))
            for i in 0..<chosen {
                let e = Int(links[i].id)
                _connect(K.self, from: e, to: UInt32(id), distance: links[i].distance, layer: layer)
                if layer == 0 { inDegree[e] &+= 1 }
            }
            layer -= 1
        }
        if level > maxLevel {
            maxLevel = level
            entryPoint = id
        }
    }

    /// Adds the link `node → newcomer` on `layer`, pruning `node`'s list with
    /// the selection heuristic when it overflows. On layer 0 a node whose only
    /// incoming link would be pruned keeps it, so no node becomes unreachable.
    func _connect<K: _DistanceKernel>(_ kernel: K.Type, from node: Int, to newcomer: UInt32,
                                      distance: Float, layer: Int) {
        if graph.appendNeighbor(newcomer, to: node, layer: layer) {
            if layer == 0 { inDegree[Int(newcomer)] &+= 1 }
            return
        }
        let stride = vectors.stride
        let base = UnsafePointer(vectors.pointer(at: node))
        let list = graph.neighbors(of: node, layer: layer)
        let capacity = list.count
        // Candidates: the current list plus the newcomer, sorted by distance to `node`.
        let sorted = scratch.sorted.base!
        var n = 0
        for e in list {
            _insertSorted(_Candidate(K.distance(base, vectors.pointer(at: Int(e)), stride), e), into: sorted, count: &n)
        }
        _insertSorted(_Candidate(distance, newcomer), into: sorted, count: &n)
        if layer == 0 { inDegree[Int(newcomer)] &+= 1 }   // counted as linked until dropped below
        var kept = _selectHeuristic(K.self, from: sorted, count: n, limit: capacity)
        let selected = scratch.selected.base!
        if layer == 0 {
            // Mark the selection in the visited stamps to find the dropped ones.
            scratch.nextEpoch()
            let stamp = scratch.epoch
            let visited = scratch.visited.base!
            for i in 0..<kept { visited[Int(selected[i].id)] = stamp }
            for i in 0..<n where visited[Int(sorted[i].id)] != stamp {
                let dropped = sorted[i]
                if inDegree[Int(dropped.id)] > 1 {
                    inDegree[Int(dropped.id)] &-= 1
                } else if kept < capacity {
                    selected[kept] = dropped          // its only way in: keep it
                    kept += 1
                } else if let slot = _replaceable(selected, kept) {
                    inDegree[Int(selected[slot].id)] &-= 1
                    selected[slot] = dropped
                } else {
                    inDegree[Int(dropped.id)] &-= 1   // nothing can give way
                }
            }
        }
        let ids = scratch.ids.base!
        for i in 0..<kept { ids[i] = selected[i].id }
        graph.setNeighbors(of: node, layer: layer, UnsafeBufferPointer(start: ids, count: kept))
    }

    /// The farthest selected neighbour that has another incoming link.
    func _replaceable(_ selected: UnsafeMutablePointer<_Candidate>, _ count: Int) -> Int? {
        var i = count - 1
        while i >= 0 {
            if inDegree[Int(selected[i].id)] > 1 { return i }
            i -= 1
        }
        return nil
    }

    func _insertSorted(_ c: _Candidate, into buffer: UnsafeMutablePointer<_Candidate>, count: inout Int) {
        var i = count
        while i > 0 && buffer[i - 1].distance > c.distance {
            buffer[i] = buffer[i - 1]
            i -= 1
        }
        buffer[i] = c
        count += 1
    }

    /// Algorithm 4 of the paper (no extension, no pruned fill): walks
    /// `candidates` in ascending distance to the base and keeps one only if it
    /// is closer to the base than to every neighbour kept so far. Writes the
    /// kept ones to `scratch.selected` and returns how many.
    func _selectHeuristic<K: _DistanceKernel>(_ kernel: K.Type, from candidates: UnsafeMutablePointer<_Candidate>,
                                              count: Int, limit: Int) -> Int {
        let selected = scratch.selected.base!
        let stride = vectors.stride
        var kept = 0
        for i in 0..<count {
            if kept >= limit { break }
            let c = candidates[i]
            let cv = UnsafePointer(vectors.pointer(at: Int(c.id)))
            var good = true
            for j in 0..<kept where K.distance(cv, vectors.pointer(at: Int(selected[j].id)), stride) < c.distance {
                good = false
                break
            }
            if good {
                selected[kept] = c
                kept += 1
            }
        }
        return kept
    }
}
