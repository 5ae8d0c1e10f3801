import EdgeVecConcurrency
import EdgeVecFilter
import EdgeVecFormat
import EdgeVecStorage

// Batch search for both index kinds: many queries under one read lock, on
// several threads natively (one in wasm), into caller buffers or arrays.

extension _SearchableIndex {
    /// Searches every row of `queries` on up to `threads` threads (nil:
    /// every core) under one read lock, calling `finish(row, scratch, n)`
    /// from the thread that searched the row. Every row is validated and
    /// every thread's scratch sized before the first search, so an error
    /// leaves `finish` uncalled.
    func _searchingBatch(_ queries: UnsafeBufferPointer<Float>, k: Int, ef: Int?, filter: Filter?, threads: Int?,
                         _ finish: (Int, inout _SearchScratch, Int) -> Void) throws(EdgeVecError) {
        try lock.withReadLock { () throws(EdgeVecError) in
            guard queries.count % dimension == 0 else {
                throw .dimensionMismatch(expected: dimension, actual: queries.count)
            }
            let rows = queries.count / dimension
            let beam = try _checkSearch(k: k, ef: ef)
            let workers = try _Validation.threads(threads, work: rows)
            try _Validation.checkRows(queries, dimension: dimension, metric: metric)
            if rows == 0 { return }
            let base = queries.baseAddress!
            let dimension = dimension
            #if hasFeature(Embedded)
            // One thread (`workers` is 1): the rows in order, in the pool's one scratch.
            _ = workers
            guard let s = searchScratch.take({ _reserve(&$0, beam: beam) }) else { throw .outOfMemory }
            defer { searchScratch.give(s) }
            for row in 0..<rows {
                let query = UnsafeBufferPointer(start: base + row * dimension, count: dimension)
                finish(row, &s.pointee, _search(query, k: k, beam: beam, filter: filter, in: &s.pointee))
            }
            #else
            try withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<_SearchScratch>.self, capacity: workers) {
                (scratch) throws(EdgeVecError) in
                var taken = 0
                defer { for w in 0..<taken { searchScratch.give(scratch[w]) } }
                while taken < workers {
                    guard let s = searchScratch.take({ _reserve(&$0, beam: beam) }) else { throw .outOfMemory }
                    scratch[taken] = s
                    taken += 1
                }
                // Chunks of 4 rows: a thread's share follows the time each row takes.
                let queue = WorkQueue(count: rows, chunk: 4)
                runInParallel(threads: workers) { worker in
                    let s = scratch[worker]
                    while let chunk = queue.next() {
                        for row in chunk {
                            let query = UnsafeBufferPointer(start: base + row * dimension, count: dimension)
                            finish(row, &s.pointee, _search(query, k: k, beam: beam, filter: filter, in: &s.pointee))
                        }
                    }
                }
            }
            #endif
        }
    }

    /// The batch search of both kinds into caller buffers; see `HNSWIndex.searchBatch(_:k:ef:filter:threads:ids:distances:)`.
    func _searchBatch(_ queries: UnsafeBufferPointer<Float>, k: Int, ef: Int?, filter: Filter?, threads: Int?,
                      ids: UnsafeMutablePointer<UInt64>, distances: UnsafeMutablePointer<Float>) throws(EdgeVecError) -> Int {
        // Every search returns min(k, matching live vectors): the same count for each row.
        var found = 0
        try _searchingBatch(queries, k: k, ef: ef, filter: filter, threads: threads) { row, s, n in
            if row == 0 { found = n }
            _ = s.copySortedResults(n, slots: slots, ids: ids + row &* k, distances: distances + row &* k)
        }
        return found
    }

    /// The batch search of both kinds as arrays.
    func _searchBatch(_ queries: [[Float]], k: Int, ef: Int?, filter: Filter?,
                      threads: Int?) throws(EdgeVecError) -> [[SearchResult]] {
        for query in queries where query.count != dimension {
            throw .dimensionMismatch(expected: dimension, actual: query.count)
        }
        let rows = queries.flatMap { $0 }
        var results = [[SearchResult]](repeating: [], count: queries.count)
        try rows.withUnsafeBufferPointer { (rows) throws(EdgeVecError) in
            try results.withUnsafeMutableBufferPointer { (results) throws(EdgeVecError) in
                try _searchingBatch(rows, k: k, ef: ef, filter: filter, threads: threads) { row, s, n in
                    results[row] = s.sortedResults(n, slots: slots)
                }
            }
        }
        return results
    }
}

extension HNSWIndex {
    /// The `k` nearest vectors to each of many queries, searched on several
    /// threads at once (one in the wasm module) under one read lock.
    ///
    /// - Parameters:
    ///   - queries: rows of `dimension` floats, back to back.
    ///   - k, ef, filter: as `search(_:k:ef:filter:)`, the same for every row.
    ///   - threads: threads to search on, 1...1024; nil: every core. Never
    ///     more than the rows.
    ///   - ids, distances: room for rows × `k` each; row `i`'s results go to
    ///     `[i·k, i·k + n)`, nearest first.
    /// - Returns: n, the results of each row: min(k, live vectors that match
    ///   the filter), the same for every row.
    /// - Throws: as `search(_:k:ef:)` (a non-finite value's position counts
    ///   across the whole batch; a zero vector names its row), and
    ///   `invalidParameter(.threads)`. Nothing is written on a throw.
    /// - Complexity: rows × a search, shared among the threads.
    @discardableResult
    public func searchBatch(_ queries: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil, filter: Filter? = nil,
                            threads: Int? = nil, ids: UnsafeMutablePointer<UInt64>,
                            distances: UnsafeMutablePointer<Float>) throws(EdgeVecError) -> Int {
        try _searchBatch(queries, k: k, ef: ef, filter: filter, threads: threads, ids: ids, distances: distances)
    }

    /// Searches many queries at once; see the buffer variant. Returns each
    /// query's results, in the order of `queries`.
    public func searchBatch(_ queries: [[Float]], k: Int, ef: Int? = nil, filter: Filter? = nil,
                            threads: Int? = nil) throws(EdgeVecError) -> [[SearchResult]] {
        try _searchBatch(queries, k: k, ef: ef, filter: filter, threads: threads)
    }
}

extension FlatIndex {
    /// Exact searches of many queries at once; see `HNSWIndex.searchBatch(_:k:ef:filter:threads:ids:distances:)`.
    @discardableResult
    public func searchBatch(_ queries: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil, filter: Filter? = nil,
                            threads: Int? = nil, ids: UnsafeMutablePointer<UInt64>,
                            distances: UnsafeMutablePointer<Float>) throws(EdgeVecError) -> Int {
        try _searchBatch(queries, k: k, ef: ef, filter: filter, threads: threads, ids: ids, distances: distances)
    }

    /// Exact searches of many queries at once; see `HNSWIndex.searchBatch(_:k:ef:filter:threads:)`.
    public func searchBatch(_ queries: [[Float]], k: Int, ef: Int? = nil, filter: Filter? = nil,
                            threads: Int? = nil) throws(EdgeVecError) -> [[SearchResult]] {
        try _searchBatch(queries, k: k, ef: ef, filter: filter, threads: threads)
    }
}

extension LoadedIndex {
    /// See `HNSWIndex.searchBatch(_:k:ef:filter:threads:ids:distances:)`.
    @discardableResult
    public func searchBatch(_ queries: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil, filter: Filter? = nil,
                            threads: Int? = nil, ids: UnsafeMutablePointer<UInt64>,
                            distances: UnsafeMutablePointer<Float>) throws(EdgeVecError) -> Int {
        switch self {
        case .hnsw(let index): return try index._searchBatch(queries, k: k, ef: ef, filter: filter, threads: threads,
                                                             ids: ids, distances: distances)
        case .flat(let index): return try index._searchBatch(queries, k: k, ef: ef, filter: filter, threads: threads,
                                                             ids: ids, distances: distances)
        }
    }
}
