#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The allocation totals of `bench/report/malloc_count.c` when that library
/// is preloaded (`LD_PRELOAD=malloc_count.so edgevec bench …`): calls to
/// malloc & co. (jemalloc's mallocx/rallocx included) and the bytes they
/// asked for, process-wide. `edgevec bench` reads them around its timed
/// inserts; without the library `shared` is nil and nothing is reported.
struct AllocationProbe {
    typealias Reader = @convention(c) (UnsafeMutablePointer<UInt64>, UnsafeMutablePointer<UInt64>) -> Void

    let reader: Reader

    static let shared: AllocationProbe? = {
        #if os(Linux)
        let everywhere = UnsafeMutableRawPointer(bitPattern: 0)      // RTLD_DEFAULT
        #else
        let everywhere = UnsafeMutableRawPointer(bitPattern: -2)     // RTLD_DEFAULT on Darwin
        #endif
        guard let symbol = dlsym(everywhere, "malloc_count_read") else { return nil }
        return AllocationProbe(reader: unsafeBitCast(symbol, to: Reader.self))
    }()

    /// Calls and bytes so far.
    func totals() -> (calls: Int, bytes: Int) {
        var calls: UInt64 = 0, bytes: UInt64 = 0
        reader(&calls, &bytes)
        return (Int(truncatingIfNeeded: calls), Int(truncatingIfNeeded: bytes))
    }
}
