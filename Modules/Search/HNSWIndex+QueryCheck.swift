extension HNSWIndex {
    /// Checks `queries`, rows of `dimension` floats (`count` a multiple of
    /// it), as a search checks its query before it starts: every value
    /// finite; cosine: no zero row; l2/dot: no row whose distances would
    /// overflow. For callers that must refuse a whole batch before searching
    /// any of it (the C ABI's `ev_search_batch`). The errors are the ones
    /// `addBatch` reports (`nonFiniteValue` at a position in `queries`,
    /// `zeroVector`/`vectorTooLarge` with the row).
    /// - Complexity: O(`queries.count`).
    package func checkQueries(_ queries: UnsafeBufferPointer<Float>) throws(EdgeVecError) {
        try _Validation.checkRows(queries, dimension: dimension, metric: metric)
    }
}
