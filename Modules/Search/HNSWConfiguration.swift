import EdgeVecFormat

/// Build and search parameters of an `HNSWIndex`.
public struct HNSWConfiguration: Equatable, Sendable {
    /// Links per node on upper layers (layer 0 keeps up to 2·M). Range 2...128.
    public var m: Int
    /// Beam width while inserting. Range 1...65536.
    public var efConstruction: Int
    /// Default beam width of a search; raised to k when smaller. Range 1...65536.
    public var efSearch: Int
    /// Seed of the level generator: the same seed and inserts give the same graph.
    public var seed: UInt64

    public init(m: Int = 16, efConstruction: Int = 200, efSearch: Int = 64, seed: UInt64 = 42) {
        self.m = m
        self.efConstruction = efConstruction
        self.efSearch = efSearch
        self.seed = seed
    }

    /// Throws `invalidParameter` for the first value out of range.
    public func validate() throws(EdgeVecError) {
        if !Limits.mRange.contains(m) { throw .invalidParameter(.m, value: m) }
        try _Validation.checkEf(efConstruction, .efConstruction)
        try _Validation.checkEf(efSearch, .efSearch)
    }
}
