/// SplitMix64: a tiny, fast, seedable generator. Deterministic across
/// targets, so the same seed and inserts build the same graph everywhere.
/// `package`: the fuzz targets draw their choices from it too.
@usableFromInline
package struct _SplitMix64 {
    @usableFromInline var state: UInt64

    @inlinable package init(seed: UInt64) { state = seed }

    @inlinable
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1]: never 0, so the level draw below terminates.
    @inlinable
    mutating func nextUnitInterval() -> Double {
        Double((next() >> 11) &+ 1) * (1.0 / 9_007_199_254_740_992.0)
    }
}

/// HNSW level for a new node: ⌊−ln(U) · mL⌋ with mL = 1/ln M, computed without
/// a logarithm as the number of powers M⁻ˡ that exceed U (identical result:
/// P(level ≥ l) = M⁻ˡ). Capped at `cap`.
@inlinable
func _drawLevel(_ rng: inout _SplitMix64, m: Int, cap: Int) -> Int {
    let u = rng.nextUnitInterval()
    let inverseM = 1.0 / Double(m)
    var threshold = inverseM
    var level = 0
    while u < threshold && level < cap {
        level += 1
        threshold *= inverseM
    }
    return level
}
