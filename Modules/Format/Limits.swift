/// Ranges checked on every public entry point, and in every header a load
/// reads (`IndexFormat.Header.read`). Threads, which no file holds, are
/// EdgeVecSearch's (`Limits.maxThreads`). Inlinable constants: EdgeVecSearch
/// reads them on every insert and search.
@usableFromInline
package enum Limits {
    @inlinable package static var maxDimension: Int { 65536 }
    @inlinable package static var mRange: ClosedRange<Int> { 2...128 }
    @inlinable package static var maxEf: Int { 65536 }
    /// Ids are `UInt32`; the all-ones value marks "no entry point". Where
    /// `Int` is 32 bits (wasm32), `Int.max` (`Int(UInt32.max)` would trap).
    @inlinable package static var maxCount: Int { Int(clamping: UInt32.max - 1) }
}
