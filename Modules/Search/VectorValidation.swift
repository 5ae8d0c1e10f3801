/// Checks shared by every index type. They run before anything is changed,
/// which is what keeps rejected calls side-effect free.
@usableFromInline
enum _Validation {
    /// Rows of `dimension` floats in `values` (whose length the caller checked):
    /// every value finite and, for cosine, no zero row. Throws the first problem.
    @inlinable
    static func checkRows(_ values: UnsafeBufferPointer<Float>, dimension: Int, metric: Metric) throws(EdgeVecError) {
        for i in 0..<values.count where !values[i].isFinite {
            throw .nonFiniteValue(position: i)
        }
        if metric == .cosine {
            var row = 0
            while row * dimension < values.count {
                if inverseNorm(values.baseAddress! + row * dimension, dimension) == 0 { throw .zeroVector(row: row) }
                row += 1
            }
        }
    }

    /// 1/‖v‖ computed in Double (no overflow for any finite Float input), or 0
    /// for the zero vector.
    @inlinable
    static func inverseNorm(_ v: UnsafePointer<Float>, _ dimension: Int) -> Float {
        var sum: Double = 0
        for i in 0..<dimension {
            let x = Double(v[i])
            sum += x * x
        }
        return sum > 0 ? Float(1 / sum.squareRoot()) : 0
    }

    @inlinable
    static func checkK(_ k: Int) throws(EdgeVecError) {
        if k < 1 { throw .invalidK(k) }
    }

    @inlinable
    static func checkEf(_ ef: Int, _ parameter: EdgeVecError.Parameter) throws(EdgeVecError) {
        if ef < 1 || ef > Limits.maxEf { throw .invalidParameter(parameter, value: ef) }
    }

    @inlinable
    static func checkDimension(_ dimension: Int) throws(EdgeVecError) {
        if dimension < 1 || dimension > Limits.maxDimension { throw .invalidParameter(.dimension, value: dimension) }
    }
}
