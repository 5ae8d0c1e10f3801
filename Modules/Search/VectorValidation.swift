import EdgeVecConcurrency
import EdgeVecAllocators
import EdgeVecStorage
import EdgeVecFormat

extension Limits {
    /// Threads a batch operation may ask for (more than cores only oversubscribes).
    static let maxThreads = 1024
}

/// Checks shared by every index type. They run before anything is changed,
/// which is what keeps rejected calls side-effect free.
@usableFromInline
enum _Validation {
    /// Largest squared norm accepted for l2 and dot: keeps every distance
    /// between accepted vectors finite in Float (‖a − b‖² ≤ 4·max‖·‖²).
    @inlinable static var maxSquaredNorm: Double { Double(Float.greatestFiniteMagnitude) / 8 }

    /// Rows of `dimension` floats in `values` (whose length the caller
    /// checked): every value finite; for cosine no zero row; for l2 and dot
    /// no row so large that distances would overflow. Throws the first problem.
    ///
    /// Runs a vectorised pass first: a finite Float sum of squares proves
    /// every value of its row finite (a NaN or ∞ makes the sum NaN or ∞),
    /// a positive one that the row is not zero, and one at most half the
    /// bound that the exact (Double) norm is under it, since the Float sum's
    /// relative error is below n·2⁻²⁴. Only a row that leaves this doubt
    /// (or is bad) sends the whole buffer to the exact checks, which find
    /// the first problem in the same order as before.
    /// - Complexity: O(`values.count`).
    @inlinable
    static func checkRows(_ values: UnsafeBufferPointer<Float>, dimension: Int, metric: Metric) throws(EdgeVecError) {
        let base = values.baseAddress!
        var row = 0
        while row &* dimension < values.count {
            let s = squaredNormFloat(base + row &* dimension, dimension)
            let ok = metric == .cosine ? s.isFinite && s > 0 : Double(s) <= maxSquaredNorm / 2
            if !ok { return try _checkRowsExactly(values, dimension: dimension, metric: metric) }
            row &+= 1
        }
    }

    /// The exact checks of `checkRows`, value by value and in Double.
    @inline(never) @usableFromInline
    static func _checkRowsExactly(_ values: UnsafeBufferPointer<Float>, dimension: Int,
                                  metric: Metric) throws(EdgeVecError) {
        for i in 0..<values.count where !values[i].isFinite {
            throw .nonFiniteValue(position: i)
        }
        var row = 0
        while row * dimension < values.count {
            let squared = squaredNorm(values.baseAddress! + row * dimension, dimension)
            if metric == .cosine {
                if squared == 0 { throw .zeroVector(row: row) }
            } else if squared > maxSquaredNorm {
                throw .vectorTooLarge(row: row)
            }
            row += 1
        }
    }

    /// Σ vᵢ² in Float, 16 lanes at a time: NaN or ∞ when any value is, or
    /// when the sum overflows; may round tiny rows to 0.
    @inlinable
    static func squaredNormFloat(_ v: UnsafePointer<Float>, _ dimension: Int) -> Float {
        var s = SIMD16<Float>()
        var i = 0
        while i &+ 16 <= dimension {
            let x = _load16(v, i)
            s += x * x
            i &+= 16
        }
        var tail: Float = 0
        while i < dimension {
            tail += v[i] * v[i]
            i &+= 1
        }
        return _sumTree(s) + tail
    }

    /// Σ vᵢ² in Double: exact enough and never overflowing for Float input.
    @inlinable
    static func squaredNorm(_ v: UnsafePointer<Float>, _ dimension: Int) -> Double {
        var sum: Double = 0
        for i in 0..<dimension {
            let x = Double(v[i])
            sum += x * x
        }
        return sum
    }

    /// The factor a vector is stored or searched with: 1/‖v‖ for cosine (in
    /// Double, so tiny vectors normalise without overflowing), 1 otherwise.
    @inlinable
    static func scale(_ v: UnsafePointer<Float>, _ dimension: Int, _ metric: Metric) -> Double {
        metric == .cosine ? 1 / squaredNorm(v, dimension).squareRoot() : 1
    }

    /// How far a stored cosine vector's squared norm may be from 1. Stored
    /// vectors are normalised in Double and rounded per component, so theirs
    /// is within ~1e-7 of 1; anything beyond this was not written by `add`.
    static let unitLengthTolerance = 1e-4

    /// Why a vector read from bytes would not be one `add` stores, or nil:
    /// every value finite; l2 and dot within the norm bound; cosine non-zero
    /// and unit length (stored vectors are normalised).
    /// - Complexity: O(`dimension`).
    static func storedVectorProblem(_ v: UnsafePointer<Float>, _ dimension: Int,
                                    _ metric: Metric) -> EdgeVecError.VectorProblem? {
        for i in 0..<dimension where !v[i].isFinite { return .nonFinite }
        let squared = squaredNorm(v, dimension)
        switch metric {
        case .cosine:
            if squared == 0 { return .zero }
            if abs(squared - 1) > unitLengthTolerance { return .notUnitLength }
        case .l2, .dot:
            if squared > maxSquaredNorm { return .tooLarge }
        }
        return nil
    }

    /// Reads `count` vectors of `dimension` floats into `storage`, checking
    /// each as `storedVectorProblem` does.
    /// - Throws: `corrupt(.invalidVector)` for the first bad one.
    static func readStoredVectors(_ r: inout _ByteReader, into storage: inout VectorStorage, count: Int,
                                  metric: Metric) throws(EdgeVecError) {
        let dimension = storage.dimension
        for row in 0..<count {
            let p = storage.pointer(at: row)
            r.floats(into: p, dimension)
            if let problem = storedVectorProblem(p, dimension, metric) {
                throw .corrupt(.invalidVector(row: row, problem))
            }
        }
        storage._setCount(count)
    }

    @inlinable
    static func checkK(_ k: Int) throws(EdgeVecError) {
        if k < 1 { throw .invalidK(k) }
    }

    @inlinable
    static func checkEf(_ ef: Int, _ parameter: EdgeVecError.Parameter) throws(EdgeVecError) {
        if ef < 1 || ef > Limits.maxEf { throw .invalidParameter(parameter, value: ef) }
    }

    /// `dimension` within 1...`Limits.maxDimension`: what an index holds until
    /// `checkDimension` refuses a dimension outside it.
    static func clampedDimension(_ dimension: Int) -> Int { Swift.min(Swift.max(dimension, 1), Limits.maxDimension) }

    @inlinable
    static func checkDimension(_ dimension: Int) throws(EdgeVecError) {
        if dimension < 1 || dimension > Limits.maxDimension { throw .invalidParameter(.dimension, value: dimension) }
    }

    /// A `reserveCapacity` argument: not negative, at most the index limit.
    /// The thread count `threads` asks for (nil: every core), at most one per item of `work`.
    static func threads(_ threads: Int?, work: Int) throws(EdgeVecError) -> Int {
        if let threads {
            guard threads >= 1 && threads <= Limits.maxThreads else { throw .invalidParameter(.threads, value: threads) }
        }
        return threadCount(threads ?? 0, work: work)
    }

    static func checkCapacity(_ capacity: Int) throws(EdgeVecError) {
        guard capacity >= 0 else { throw .invalidParameter(.capacity, value: capacity) }
        guard capacity <= Limits.maxCount else { throw .capacityExceeded }
    }

    /// Copies a validated query into the zero-padded scratch buffer, scaled
    /// as stored vectors are.
    @inlinable
    static func prepareQuery(_ query: UnsafeBufferPointer<Float>, into q: UnsafeMutablePointer<Float>, metric: Metric) {
        let scale = Self.scale(query.baseAddress!, query.count, metric)
        if scale == 1 {
            _copyElements(query.count, from: query.baseAddress!, to: q)
        } else {
            for i in 0..<query.count { q[i] = Float(Double(query[i]) * scale) }
        }
    }
}
