// Locks for native hosts; in Embedded Swift (the wasm module, one thread)
// they are empty structs whose methods run the body, so the single-threaded
// build pays nothing for them.

#if !hasFeature(Embedded)
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization
#endif

#if hasFeature(Embedded)

/// A reader–writer lock: any number of readers or one writer. (Embedded: no threads, no lock.)
package final class ReadWriteLock {
    /// Write sections entered so far (see the native lock).
    package private(set) var writes: UInt64 = 0
    package init() {}
    @inline(__always)
    package func withReadLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R { try body() }
    @inline(__always)
    package func withWriteLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        _countWrite()
        return try body()
    }
    /// Not inlined: one call instead of a load, add and store at each of the index's write sections.
    @inline(never)
    func _countWrite() { writes &+= 1 }
}

/// A mutual-exclusion lock. (Embedded: no threads, no lock.)
package struct Lock {
    package init() {}
    @inline(__always)
    package func withLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R { try body() }
}

#else

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A reader–writer lock (pthread): any number of readers or one writer.
///
/// Writers are preferred (glibc's `PREFER_WRITER_NONRECURSIVE`): once a
/// writer waits, new readers wait behind it, so a steady stream of searches
/// cannot starve an insert. The price is that a thread must never take the
/// read lock twice (a writer queued in between would deadlock it): the index
/// takes it once per public call and calls only unlocked internals inside.
package final class ReadWriteLock: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    package init() {
        lock = .allocate(capacity: 1)
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        #if canImport(Glibc)
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        #endif
        let status = pthread_rwlock_init(lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
        precondition(status == 0, "pthread_rwlock_init failed")
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    @inline(__always)
    package func withReadLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    /// Write sections entered so far: unchanged while a reader holds the
    /// lock, so a reader can tell whether anything was written since it last
    /// looked (a filtered search reuses its bitmap on that).
    package private(set) var writes: UInt64 = 0

    @inline(__always)
    package func withWriteLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        writes &+= 1
        return try body()
    }
}

/// A mutual-exclusion lock (pthread mutex).
package final class Lock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    package init() {
        mutex = .allocate(capacity: 1)
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init failed")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always)
    package func withLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

#endif

/// One spin lock per graph node, for a parallel build: a thread holds a
/// node's lock while it reads or rewrites that node's neighbour lists
/// (hnswlib's `link_list_locks_`, a byte each instead of a mutex). Held for
/// at most one list's pruning, so spinning (then yielding) beats sleeping.
/// The owner frees it with `release()`. (Embedded: no threads, no locks.)
package struct NodeLocks {
    #if hasFeature(Embedded)
    package init(count: Int) {}
    @inline(__always) package func lock(_ node: Int) {}
    @inline(__always) package func unlock(_ node: Int) {}
    package func release() {}
    #else
    private let flags: UnsafeMutablePointer<Atomic<UInt8>>
    private let count: Int

    package init(count: Int) {
        self.count = count
        flags = .allocate(capacity: Swift.max(count, 1))
        for i in 0..<count { (flags + i).initialize(to: Atomic(0)) }
    }

    @inline(__always)
    package func lock(_ node: Int) {
        var spins = 0
        while !flags[node].compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged {
            spins &+= 1
            if spins & 63 == 0 { sched_yield() }
        }
    }

    @inline(__always)
    package func unlock(_ node: Int) {
        flags[node].store(0, ordering: .releasing)
    }

    package func release() {
        flags.deinitialize(count: count)
        flags.deallocate()
    }
    #endif
}
