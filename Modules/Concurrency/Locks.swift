// Locks for native hosts; in Embedded Swift (the wasm module, one thread)
// they are empty structs whose methods run the body, so the single-threaded
// build pays nothing for them.

#if hasFeature(Embedded)

/// A reader–writer lock: any number of readers or one writer. (Embedded: no threads, no lock.)
package struct ReadWriteLock {
    package init() {}
    @inline(__always)
    package func withReadLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R { try body() }
    @inline(__always)
    package func withWriteLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R { try body() }
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

    @inline(__always)
    package func withWriteLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
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
