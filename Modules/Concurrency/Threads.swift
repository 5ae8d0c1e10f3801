#if !hasFeature(Embedded)
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
#endif

/// Cores this process may run on (1 in the wasm module).
package var processorCount: Int {
    #if hasFeature(Embedded)
    return 1
    #else
    return Swift.max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    #endif
}

/// The thread count a `threads:` argument asks for: 0 means every core;
/// never more than `work` (items to share out), never less than 1; always
/// 1 in the wasm module.
package func threadCount(_ requested: Int, work: Int) -> Int {
    #if hasFeature(Embedded)
    return 1
    #else
    return Swift.max(1, Swift.min(requested == 0 ? processorCount : requested, work))
    #endif
}

/// Runs `body(0)`, …, `body(threads − 1)` at once, `body(0)` on the calling
/// thread and the others on new threads, and returns when all have. The
/// body must be safe to run concurrently with itself. In the wasm module, or
/// if a thread cannot be started, the remaining bodies run one after another
/// on the calling thread instead (same results, no parallelism).
package func runInParallel(threads: Int, _ body: (Int) -> Void) {
    #if hasFeature(Embedded)
    for worker in 0..<Swift.max(threads, 1) { body(worker) }
    #else
    if threads <= 1 {
        body(0)
        return
    }
    withoutActuallyEscaping(body) { escapable in
        let job = _Job(escapable)
        var started: [pthread_t] = []
        var stragglers: [Int] = []
        for worker in 1..<threads {
            let context = Unmanaged.passRetained(_Work(job, worker)).toOpaque()
            var thread = pthread_t()
            if pthread_create(&thread, nil, { context in
                let work = Unmanaged<_Work>.fromOpaque(context!).takeRetainedValue()
                work.job.body(work.worker)
                return nil
            }, context) == 0 {
                started.append(thread)
            } else {
                Unmanaged<_Work>.fromOpaque(context).release()
                stragglers.append(worker)
            }
        }
        body(0)
        for worker in stragglers { body(worker) }
        for thread in started { pthread_join(thread, nil) }
    }
    #endif
}

#if !hasFeature(Embedded)
private final class _Job: @unchecked Sendable {
    let body: (Int) -> Void
    init(_ body: @escaping (Int) -> Void) { self.body = body }
}

private final class _Work: @unchecked Sendable {
    let job: _Job
    let worker: Int
    init(_ job: _Job, _ worker: Int) { (self.job, self.worker) = (job, worker) }
}
#endif

#if !hasFeature(Embedded)
import Synchronization
#endif

/// Hands out `0..<count` in chunks to the threads of `runInParallel`, first
/// come first served, so a thread the machine slows down takes fewer.
package final class WorkQueue: @unchecked Sendable {
    private let count: Int
    private let chunk: Int
    #if hasFeature(Embedded)
    private var start = 0
    #else
    private let start = Atomic<Int>(0)
    #endif

    /// - Precondition: `chunk >= 1`.
    package init(count: Int, chunk: Int) {
        self.count = count
        self.chunk = chunk
    }

    /// The next chunk, or nil when all are handed out.
    package func next() -> Range<Int>? {
        #if hasFeature(Embedded)
        let first = start
        start += chunk
        #else
        let first = start.wrappingAdd(chunk, ordering: .relaxed).oldValue
        #endif
        return first < count ? first ..< Swift.min(first + chunk, count) : nil
    }
}
