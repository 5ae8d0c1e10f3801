// Native file persistence. Not compiled for Embedded/wasm targets, whose hosts
// keep the bytes themselves (see `serialize(into:)`).
#if canImport(Glibc) || canImport(Darwin)
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

#if canImport(Glibc)
private let _sysWrite = Glibc.write
private let _sysRead = Glibc.read
#else
private let _sysWrite = Darwin.write
private let _sysRead = Darwin.read
#endif

/// Atomic whole-file writes and whole-file reads over POSIX calls.
///
/// Temporary files: a save of `T` writes `<basename(T)>.tmp-<pid>-<nonce>` in
/// T's directory (`pid` the saving process's decimal id, `nonce` 16 lowercase
/// hex digits drawn per save), created with `O_CREAT | O_EXCL` and mode 0644,
/// then fsync, rename over `T`, fsync of the directory; on failure it is
/// unlinked. A process killed mid-save leaves it behind, so every save and
/// every file load of `T` first removes the entries named exactly
/// `<basename(T)>.tmp-<digits>-<hex>` whose pid is not a live process (see
/// `removeStaleTemporaries(of:)`). The JS wrapper's `saveFile`/`loadFile` use
/// the same scheme.
package enum _IndexFile {
    /// A file operation failed with this `errno` (EdgeVecSearch throws it as `io(errno:)`).
    package struct Failure: Error {
        package var errno: Int32
    }

    /// Writes `byteCount` bytes produced by `fill` to `path` atomically: a
    /// temporary file in the same directory, fsync, rename over `path`, fsync
    /// of the directory. A crash leaves either the old file or the new one
    /// (and possibly the temporary file, removed by the next save or load).
    package static func write(path: String, byteCount: Int,
                              _ fill: (UnsafeMutableRawBufferPointer) -> Void) throws(Failure) {
        removeStaleTemporaries(of: path)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(byteCount, 1), alignment: 16)
        defer { buffer.deallocate() }
        fill(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<byteCount]))
        // O_EXCL: never truncate someone else's file; a taken name (a nonce
        // collision or a planted file) is retried with a new nonce.
        let prefix = path + ".tmp-" + String(getpid()) + "-"
        var temporary = ""
        var fd: Int32 = -1
        for attempt in 0..<16 {
            temporary = prefix + _hex16(_nonce(attempt: attempt))
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 || errno != EEXIST { break }
        }
        if fd < 0 { throw Failure(errno: errno) }
        var failure: Int32 = 0
        var offset = 0
        while offset < byteCount && failure == 0 {
            let n = _sysWrite(fd, buffer.baseAddress! + offset, byteCount - offset)
            if n > 0 { offset += n } else if n < 0 && errno != EINTR { failure = errno }
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        if close(fd) != 0 && failure == 0 { failure = errno }
        if failure == 0 && rename(temporary, path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary)
            throw Failure(errno: failure)
        }
        // Persist the rename itself.
        let directory = _directory(of: path)
        let dfd = open(directory, O_RDONLY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }

    /// Removes the temporary files of saves of `path` whose process is gone:
    /// the entries of path's directory named exactly
    /// `<basename(path)>.tmp-<pid>-<hex>` (pid: 1–10 decimal digits, at most
    /// `Int32.max`; hex: 8–16 lowercase hex digits) for which
    /// `kill(pid, 0)` fails with `ESRCH`. A file whose pid is alive is kept,
    /// the own process's included (a concurrent save may be writing it), even
    /// when the pid now belongs to an unrelated process: it is removed by a
    /// later save or load, once that process has exited too. Files of other
    /// targets and other names are never touched.
    ///
    /// Pids are only meaningful on this machine and in this pid namespace: in
    /// a directory shared with other machines or containers, a live save
    /// elsewhere can lose its temporary file, and that save then fails with
    /// `io(errno: ENOENT)` (its target stays intact).
    ///
    /// Best effort: errors while scanning or unlinking are ignored, so a
    /// read-only or unreadable directory does not make a load fail.
    package static func removeStaleTemporaries(of path: String) {
        let base = Array(_basename(of: path).utf8)
        if base.isEmpty { return }
        guard let directory = opendir(_directory(of: path)) else { return }
        defer { closedir(directory) }
        let descriptor = dirfd(directory)
        let marker = Array(".tmp-".utf8)
        while let entry = readdir(directory) {
            withUnsafePointer(to: &entry.pointee.d_name) { field in
                let name = UnsafeRawPointer(field).assumingMemoryBound(to: UInt8.self)
                let length = strlen(UnsafeRawPointer(field).assumingMemoryBound(to: CChar.self))
                let bytes = UnsafeBufferPointer(start: name, count: length)
                guard let pid = _stalePID(bytes, base: base, marker: marker) else { return }
                if kill(pid, 0) == -1 && errno == ESRCH {
                    _ = unlinkat(descriptor, UnsafeRawPointer(field).assumingMemoryBound(to: CChar.self), 0)
                }
            }
        }
    }

    /// The pid in `name` if it is `base` + `marker` + 1–10 digits (a value in
    /// 1...Int32.max) + "-" + 8–16 lowercase hex digits, else nil.
    static func _stalePID(_ name: UnsafeBufferPointer<UInt8>, base: [UInt8], marker: [UInt8]) -> pid_t? {
        let head = base.count + marker.count
        guard name.count > head, name.starts(with: base),
              name[base.count..<head].elementsEqual(marker) else { return nil }
        var i = head
        var pid: Int64 = 0
        while i < name.count, name[i] >= 0x30, name[i] <= 0x39, i - head < 10 {
            pid = pid * 10 + Int64(name[i] - 0x30)
            i += 1
        }
        guard i > head, pid >= 1, pid <= Int64(Int32.max), i < name.count, name[i] == 0x2D else { return nil }
        i += 1
        let hexCount = name.count - i
        guard (8...16).contains(hexCount) else { return nil }
        for c in name[i...] where !((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)) { return nil }
        return pid_t(pid)
    }

    /// A nonce for a temporary file name: the real-time clock, the address of
    /// a stack slot (distinct per thread) and the attempt number, mixed. Not
    /// secret; `O_EXCL` makes a collision a retry, never an overwrite.
    static func _nonce(attempt: Int) -> UInt64 {
        var now = timespec()
        _ = clock_gettime(CLOCK_REALTIME, &now)
        var slot = 0
        let address = withUnsafeMutablePointer(to: &slot) { UInt64(UInt(bitPattern: $0)) }
        var z = UInt64(truncatingIfNeeded: now.tv_sec) &* 1_000_000_007
            ^ UInt64(truncatingIfNeeded: now.tv_nsec) ^ (address &<< 20) ^ (UInt64(attempt) &<< 56)
        // MurmurHash3's 64-bit finaliser: every input bit moves every output bit.
        z = (z ^ (z >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        z = (z ^ (z >> 33)) &* 0xC4CE_B9FE_1A85_EC53
        return z ^ (z >> 33)
    }

    /// `value` as 16 lowercase hex digits.
    static func _hex16(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Reads a whole file, after removing stale temporary files of it.
    package static func read(path: String) throws(Failure) -> [UInt8] {
        removeStaleTemporaries(of: path)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw Failure(errno: errno) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 { throw Failure(errno: errno) }
        let size = Int(info.st_size)
        // Not through `unsafeUninitializedCapacity`: at capacity 0 it writes the count into the
        // empty-array singleton that every thread shares (ThreadSanitizer reported it).
        if size == 0 { return [] }
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var offset = 0
            while offset < size {
                let n = _sysRead(fd, buffer.baseAddress! + offset, size - offset)
                if n > 0 {
                    offset += n
                } else if n == 0 {
                    break
                } else if errno != EINTR {
                    failure = errno
                    break
                }
            }
            initialized = offset
        }
        if failure != 0 { throw Failure(errno: failure) }
        return bytes
    }

    static func _directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func _basename(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

#endif
