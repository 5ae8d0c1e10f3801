// Shared by every fuzz target (compiled into each target's module by Fuzz/build.sh):
// failing loudly, reading the input as a stream of choices, the reference distances
// the brute-force models use, CRC-32C for re-sealing mutated index files, and writing
// seed files. Nothing here depends on the code under test.
#if canImport(Glibc)
import EdgeVecSearch
import Glibc
#endif

// MARK: - Findings

/// A finding: prints the reason and traps, so libFuzzer writes the input as crash-<sha1>.
func fail(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fputs("FUZZ FINDING: \(message)\n", stderr)
    fatalError(message, file: file, line: line)
}

func check(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    if !condition { fail(message(), file: file, line: line) }
}

// MARK: - The input as a stream of choices

/// Reads the fuzzer's bytes front to back; past the end every read gives 0.
struct FuzzBytes {
    let base: UnsafePointer<UInt8>?
    let count: Int
    var position = 0

    init(_ data: UnsafePointer<UInt8>?, _ count: Int) {
        base = data
        self.count = count
    }

    var atEnd: Bool { position >= count }

    mutating func byte() -> UInt8 {
        guard position < count, let base else { return 0 }
        defer { position += 1 }
        return base[position]
    }

    mutating func u16() -> UInt16 { UInt16(byte()) | UInt16(byte()) << 8 }
    mutating func u32() -> UInt32 { UInt32(u16()) | UInt32(u16()) << 16 }
    mutating func u64() -> UInt64 { UInt64(u32()) | UInt64(u32()) << 32 }

    /// One of `choices`, picked by the next byte.
    mutating func pick<T>(_ choices: [T]) -> T { choices[Int(byte()) % choices.count] }

    /// One of `choices`, or (for 1 byte value in 64) one of `rare`.
    mutating func pick<T>(_ choices: [T], rare: [T]) -> T {
        let b = byte()
        return b >= 252 ? rare[Int(b - 252) % rare.count] : choices[Int(b) % choices.count]
    }
}

/// SplitMix64, for choices derived from a hash of the input (the loader target, whose
/// input is an index file and has no room for choices of its own).
/// (The core's generator, `package` for this.)
struct FuzzRandom {
    var generator: _SplitMix64
    init(seed: UInt64) { generator = _SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

    mutating func below(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(next() % UInt64(bound)) }
}

/// FNV-1a over the bytes.
func fnv1a(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
    return h
}

// MARK: - Values

/// Float values the targets draw: mostly small multiples of 1/4 (many exact ties and
/// duplicates), plus the values validation must catch or survive.
let specialFloats: [Float] = [
    0, -0.0, 1, -1, .nan, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
    1e19, -1e19,         // squared norm above Float.max / 8: vectorTooLarge under l2/dot
    1e18, 3e18,          // large but accepted (up to a few per vector)
    1e-30, -1e-30, .leastNonzeroMagnitude, .leastNormalMagnitude, 1e-20,
    65504, 0.1, -0.3, 1e6, -7e5, 2.5e-3, 1.5, 1e10, -1e10, 123456.789, 0.999999, 1.000001, 3, -3,
]

func floatValue(_ b: UInt8) -> Float {
    b < 224 ? Float(Int(b % 32) - 16) / 4 : specialFloats[Int(b - 224) % specialFloats.count]
}

// MARK: - Reference distances

/// The metric codes of the format and the C ABI.
enum RefMetric: Int32 {
    case l2 = 0, cosine = 1, dot = 2
}

/// Σ x² in Double, in index order: what the library's exact validation computes.
func squaredNorm(_ v: UnsafeBufferPointer<Float>) -> Double {
    var s: Double = 0
    for x in v { s += Double(x) * Double(x) }
    return s
}

func squaredNorm(_ v: [Float]) -> Double { v.withUnsafeBufferPointer { squaredNorm($0) } }

/// What `add` refuses, as the C ABI's error code, or nil: -2 non-finite (anywhere in the
/// rows first), then per row -3 (cosine zero) or -10 (l2/dot, ‖v‖² > Float.max / 8).
func validationError(_ values: [Float], dimension: Int, metric: RefMetric) -> Int32? {
    if values.contains(where: { !$0.isFinite }) { return -2 }
    var row = 0
    while row * dimension < values.count {
        let s = values.withUnsafeBufferPointer {
            squaredNorm(UnsafeBufferPointer(rebasing: $0[row * dimension ..< (row + 1) * dimension]))
        }
        if metric == .cosine {
            if s == 0 { return -3 }
        } else if s > Double(Float.greatestFiniteMagnitude) / 8 {
            return -10
        }
        row += 1
    }
    return nil
}

/// A vector as the library stores it (and prepares a query): cosine vectors scaled by
/// 1/‖v‖ computed in Double, rounded to Float.
func storedForm(_ v: [Float], metric: RefMetric) -> [Float] {
    guard metric == .cosine else { return v }
    let scale = 1 / squaredNorm(v).squareRoot()
    return v.map { Float(Double($0) * scale) }
}

/// Distance of two stored-form vectors, in Double.
func refDistance(_ a: [Float], _ b: [Float], metric: RefMetric) -> Double {
    var s: Double = 0
    switch metric {
    case .l2:
        for i in 0..<a.count { let d = Double(a[i]) - Double(b[i]); s += d * d }
        return s
    case .cosine:
        for i in 0..<a.count { s += Double(a[i]) * Double(b[i]) }
        return 1 - s
    case .dot:
        for i in 0..<a.count { s += Double(a[i]) * Double(b[i]) }
        return -s
    }
}

/// How far the library's Float32 distance may be from `refDistance`: a rigorous bound for
/// a sum of `dimension` rounded products in any order (and with FMA), (n + 2)·2⁻²⁴ per
/// unit of Σ|terms| ≤ ‖a‖² + ‖b‖² (doubled for l2's (a − b)²), plus cosine's 1 − x.
func refTolerance(_ a: [Float], _ b: [Float], metric: RefMetric) -> Double {
    let mass = squaredNorm(a) + squaredNorm(b)
    let perUnit = Double(a.count + 2) * 0x1p-24 * 2
    return perUnit * mass * (metric == .l2 ? 2 : 1) + 0x1p-22
}

/// Checks a search answer against the brute-force model: `ids`/`distances` (count `n`)
/// for `query` (stored form) over `vectors` (stored form).
/// - n == min(k, count), every id in range and distinct, distances ascending, each
///   within `refTolerance` of its id's true distance;
/// - `exhaustive` (ef ≥ count): the hits are the k nearest, up to rounding: no vector
///   left out is nearer than a hit by more than both their tolerances. (Not position by
///   position: one vector whose float32 distance is far off, within its own large
///   tolerance, e.g. by cancellation between huge components, moves the others' ranks.)
func checkSearchAnswer(_ what: @autoclosure () -> String, query: [Float], vectors: [[Float]], metric: RefMetric, k: Int,
                       n: Int, ids: UnsafePointer<Int32>, distances: UnsafePointer<Float>, exhaustive: Bool) {
    check(n == min(k, vectors.count), "\(what()): \(n) hits for k \(k) over \(vectors.count) vectors")
    var seen = Set<Int32>()
    var previous = -Float.infinity
    var farthestHit = -Double.infinity   // max over hits of (true distance − tolerance)
    for i in 0..<n {
        let id = ids[i], d = distances[i]
        check(id >= 0 && Int(id) < vectors.count, "\(what()): hit \(i) has id \(id), size \(vectors.count)")
        check(seen.insert(id).inserted, "\(what()): id \(id) returned twice")
        check(!d.isNaN, "\(what()): hit \(i) distance is NaN")
        check(d >= previous, "\(what()): distances not ascending at hit \(i): \(previous) then \(d)")
        previous = d
        let ref = refDistance(query, vectors[Int(id)], metric: metric)
        let tol = refTolerance(query, vectors[Int(id)], metric: metric)
        check(abs(Double(d) - ref) <= tol, "\(what()): hit \(i) id \(id) distance \(d), expected \(ref) ± \(tol)")
        farthestHit = max(farthestHit, ref - tol)
    }
    guard exhaustive else { return }
    for id in vectors.indices where !seen.contains(Int32(id)) {
        let ref = refDistance(query, vectors[id], metric: metric)
        let tol = refTolerance(query, vectors[id], metric: metric)
        if ref + tol < farthestHit {
            let hits = (0..<n).map { "\(ids[$0]):\(distances[$0])" }.joined(separator: " ")
            let truth = vectors.indices.map { ($0, refDistance(query, vectors[$0], metric: metric)) }.sorted { $0.1 < $1.1 }
            fail("\(what()): exhaustive search (ef ≥ size) left out id \(id) at \(ref) ± \(tol), nearer than a hit "
                 + "(\(farthestHit) after tolerance)\n  query \(query)\n  hits (id:distance) \(hits)"
                 + "\n  brute force \(truth.map { "\($0.0):\($0.1)" }.joined(separator: " "))")
        }
    }
}

// MARK: - CRC-32C

let crc32cTable: [UInt32] = (0..<256).map { i -> UInt32 in
    var c = UInt32(i)
    for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
    return c
}

func crc32c(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    crc32cTable.withUnsafeBufferPointer { table in
        for b in bytes { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
    }
    return crc ^ 0xFFFF_FFFF
}

extension Array where Element == UInt8 {
    func u32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) | UInt32(self[offset + 1]) << 8 | UInt32(self[offset + 2]) << 16 | UInt32(self[offset + 3]) << 24
    }

    func u64(at offset: Int) -> UInt64 { UInt64(u32(at: offset)) | UInt64(u32(at: offset + 4)) << 32 }

    mutating func setU32(_ value: UInt32, at offset: Int) {
        for i in 0..<4 { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }

    func crc32c(_ range: Range<Int>) -> UInt32 {
        withUnsafeBytes { Fuzz_crc32c(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }
}

/// Module-level alias so the Array extension can call the free function.
@inline(__always) func Fuzz_crc32c(_ bytes: UnsafeRawBufferPointer) -> UInt32 { crc32c(bytes) }

// MARK: - Seed files

/// Writes `bytes` to `path` (for the targets' -write_seeds mode).
func writeFile(_ path: String, _ bytes: [UInt8]) {
    guard let f = fopen(path, "wb") else { fail("cannot write \(path)") }
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
    fclose(f)
    print("wrote \(path) (\(bytes.count) bytes)")
}

/// The value of `-name=value` among libFuzzer's arguments (LLVMFuzzerInitialize), or nil.
func fuzzerFlag(_ name: String, _ argc: UnsafeMutablePointer<CInt>?,
                _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> String? {
    guard let argc, let argv, let args = argv.pointee else { return nil }
    for i in 0..<Int(argc.pointee) {
        guard let a = args[i] else { continue }
        let s = String(cString: a)
        if s.hasPrefix("-\(name)=") { return String(s.dropFirst(name.count + 2)) }
    }
    return nil
}

/// The body of each target's LLVMFuzzerInitialize: with `-write_seeds=DIR`
/// (Fuzz/run.sh seeds), writes the target's seed files there and exits.
func writeSeedsIfAsked(_ argc: UnsafeMutablePointer<CInt>?,
                       _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?,
                       _ write: (String) -> Void) -> CInt {
    if let dir = fuzzerFlag("write_seeds", argc, argv) {
        write(dir)
        exit(0)
    }
    return 0
}
