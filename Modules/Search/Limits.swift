/// Ranges checked on every public entry point.
@usableFromInline
enum Limits {
    @usableFromInline static let maxDimension = 65536
    @usableFromInline static let mRange = 2...128
    @usableFromInline static let maxEf = 65536
    /// Threads a batch operation may ask for (more than cores only oversubscribes).
    static let maxThreads = 1024
    /// Ids are `UInt32`; the all-ones value marks "no entry point". Where
    /// `Int` is 32 bits (wasm32), `Int.max` (`Int(UInt32.max)` would trap).
    @usableFromInline static let maxCount = Int(clamping: UInt32.max - 1)
}
