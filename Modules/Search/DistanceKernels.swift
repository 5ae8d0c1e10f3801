import EdgeVecFormat
import _EdgeVecSearchKernels

/// Distance kernels over zero-padded vectors whose length is a multiple of 16
/// floats (see `VectorStorage.stride`); padding is zero, so it adds nothing.
///
/// On x86_64 Linux they call the C kernels of `_EdgeVecSearchKernels`, which
/// the loader binds to AVX-512, AVX2+FMA or SSE code for the CPU at hand.
/// Elsewhere (wasm32 with simd128, arm64) they are Swift: 16-float blocks
/// into one SIMD16 accumulator, which the compiler maps to four f32x4 / NEON
/// registers, and a pairwise sum of the lanes at the end.
@usableFromInline
protocol _DistanceKernel {
    /// Distance between `a` and `b`, `count` floats each (a multiple of 16).
    static func distance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float
    /// No distance this kernel computes is below this (−∞ where rounding or
    /// the metric leaves no bound).
    static var floor: Float { get }
}

/// One 16-float block as one load: LLVM splits it into four f32x4 loads at
/// constant offsets from one address, where separate loads at `p + i + 4k`
/// each cost V8 an address computation (wasm: 2% fewer µs per insert).
@inlinable @inline(__always)
func _load16(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD16<Float> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
}

/// The lanes' sum, added pairwise: `sum()` adds them in order, a chain of
/// dependent adds that V8 runs as scalar code (wasm: a fifth of the l2
/// kernel's time at 128-d); halving three times is three vector adds and
/// one scalar.
@inlinable @inline(__always)
func _sumTree(_ v: SIMD16<Float>) -> Float {
    let e = v.lowHalf + v.highHalf
    let h = e.lowHalf + e.highHalf
    let q = h.lowHalf + h.highHalf
    return q[0] + q[1]
}

/// Σ aᵢ·bᵢ.
@inlinable
func _dotProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
    #if arch(x86_64) && os(Linux)
    return _ev_dot(a, b, count)
    #else
    return _dotProductSIMD(a, b, count)
    #endif
}

@inlinable
func _dotProductSIMD(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
    var s = SIMD16<Float>()
    var i = 0
    while i < count {
        s += _load16(a, i) * _load16(b, i)
        i &+= 16
    }
    return _sumTree(s)
}

/// Squared Euclidean distance.
@usableFromInline
enum _L2Kernel: _DistanceKernel {
    /// A sum of squares is never negative, in floating point too.
    @inlinable static var floor: Float { 0 }

    @inlinable
    static func distance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        #if arch(x86_64) && os(Linux)
        return _ev_l2sq(a, b, count)
        #else
        return simd(a, b, count)
        #endif
    }

    @inlinable
    static func simd(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        var s = SIMD16<Float>()
        var i = 0
        while i < count {
            let d = _load16(a, i) - _load16(b, i)
            s += d * d
            i &+= 16
        }
        return _sumTree(s)
    }
}

/// Negative inner product.
@usableFromInline
enum _DotKernel: _DistanceKernel {
    @inlinable static var floor: Float { -.infinity }

    @inlinable
    static func distance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        -_dotProduct(a, b, count)
    }
}

/// 1 − cosine, for vectors already normalised to unit length.
@usableFromInline
enum _CosineKernel: _DistanceKernel {
    /// 1 − cos can round a little below 0 for (near-)identical unit vectors.
    @inlinable static var floor: Float { -.infinity }

    @inlinable
    static func distance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        1 - _dotProduct(a, b, count)
    }
}

#if hasFeature(Embedded)
/// The one kernel of the wasm module, for all three metrics: the metric is a
/// module-wide variable that every dispatch on an index's metric sets right
/// before calling the generic code (`switch metric` in HNSWIndex), so
/// `_link`, `_searchLayer` and the rest are compiled once instead of once per
/// kernel (docs/PERFORMANCE.md, wasm size: 2.9 KB of the gzipped module, for
/// a switch per distance: 16-d searches 1.5-2.5 % slower, 128-d within
/// noise). The wasm module is single-threaded and no operation calls into
/// another index mid-way, so the variable always holds the metric of the
/// index at work. Distances are the per-metric kernels' own: bit for bit the
/// same, and so are the index files.
@usableFromInline
enum _MetricKernel: _DistanceKernel {
    @usableFromInline nonisolated(unsafe) static var metric = Metric.l2

    @inlinable static var floor: Float { metric == .l2 ? _L2Kernel.floor : -.infinity }

    @inlinable @inline(__always)
    static func distance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        switch metric {
        case .l2: return _L2Kernel.distance(a, b, count)
        case .cosine: return _CosineKernel.distance(a, b, count)
        case .dot: return _DotKernel.distance(a, b, count)
        }
    }
}
#endif

extension Metric {
    /// The distance between two raw vectors of `dimension` floats under this
    /// metric, computed without SIMD padding (for tests and the flat check).
    /// Cosine normalises both sides; a zero vector gives distance 1.
    /// - Complexity: O(`dimension`).
    public func distance(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Float {
        precondition(a.count == b.count, "vectors of different lengths")
        var dot: Float = 0, na: Float = 0, nb: Float = 0, l2: Float = 0
        for i in 0..<a.count {
            let x = a[i], y = b[i]
            dot += x * y
            na += x * x
            nb += y * y
            l2 += (x - y) * (x - y)
        }
        switch self {
        case .l2: return l2
        case .dot: return -dot
        case .cosine:
            let denominator = (na * nb).squareRoot()
            return denominator > 0 ? 1 - dot / denominator : 1
        }
    }
}

/// Which distance code this process runs, for reports.
public enum DistanceKernels {
    /// `"avx512"`, `"avx2+fma"` or `"sse"` (x86_64 Linux, chosen by the loader
    /// for this CPU), or `"swift-simd"` elsewhere.
    public static var instructionSet: String {
        #if arch(x86_64) && os(Linux)
        switch _ev_kernel_level() {
        case 3: return "avx512"
        case 2: return "avx2+fma"
        default: return "sse"
        }
        #else
        return "swift-simd"
        #endif
    }
}

extension Metric {
    /// Distance between two zero-padded vectors of `paddedCount` floats (a
    /// multiple of 16) with the kernel searches use, or with the portable
    /// Swift SIMD kernel when `portable` is true. Cosine expects unit vectors.
    /// For tests that check the two agree.
    package func _kernelDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, paddedCount: Int,
                                 portable: Bool) -> Float {
        switch self {
        case .l2: return portable ? _L2Kernel.simd(a, b, paddedCount) : _L2Kernel.distance(a, b, paddedCount)
        case .dot: return -(portable ? _dotProductSIMD(a, b, paddedCount) : _dotProduct(a, b, paddedCount))
        case .cosine: return 1 - (portable ? _dotProductSIMD(a, b, paddedCount) : _dotProduct(a, b, paddedCount))
        }
    }
}
