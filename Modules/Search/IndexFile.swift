// Native file persistence. Not compiled for Embedded/wasm targets, whose hosts
// keep the bytes themselves (see `serialize(into:)`).
#if canImport(Glibc) || canImport(Darwin)
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import EdgeVecAllocators

#if canImport(Glibc)
private let _sysWrite = Glibc.write
private let _sysRead = Glibc.read
#else
private let _sysWrite = Darwin.write
private let _sysRead = Darwin.read
#endif

/// Atomic whole-file writes and whole-file reads over POSIX calls.
enum _IndexFile {
    /// Writes `byteCount` bytes produced by `fill` to `path` atomically: a
    /// temporary file in the same directory, fsync, rename over `path`, fsync
    /// of the directory. A crash leaves either the old file or the new one.
    static func write(path: String, byteCount: Int,
                      _ fill: (UnsafeMutableRawBufferPointer) -> Void) throws(EdgeVecError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(byteCount, 1), alignment: 16)
        defer { buffer.deallocate() }
        fill(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<byteCount]))
        let temporary = path + ".tmp-" + String(getpid())
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw .io(errno: errno) }
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
            throw .io(errno: failure)
        }
        // Persist the rename itself.
        let directory = _directory(of: path)
        let dfd = open(directory, O_RDONLY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }

    /// Reads a whole file.
    static func read(path: String) throws(EdgeVecError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .io(errno: errno) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 { throw .io(errno: errno) }
        let size = Int(info.st_size)
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
        if failure != 0 { throw .io(errno: failure) }
        return bytes
    }

    static func _directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

extension HNSWIndex {
    /// Saves the index to `path` atomically (temporary file, fsync, rename).
    /// - Throws: `io(errno:)`.
    public func save(toFile path: String) throws(EdgeVecError) {
        try _IndexFile.write(path: path, byteCount: serializedByteCount) { serialize(into: $0) }
    }

    /// Loads an index saved with `save(toFile:)`.
    /// - Throws: `io(errno:)`, `corrupt(_)`, `outOfMemory`.
    public convenience init(contentsOfFile path: String, allocator: RawAllocator = .makeDefault()) throws(EdgeVecError) {
        let bytes: [UInt8]
        do throws(EdgeVecError) { bytes = try _IndexFile.read(path: path) } catch {
            allocator.release()
            throw error
        }
        try self.init(serialized: bytes, allocator: allocator)
    }
}

extension FlatIndex {
    /// Saves the index to `path` atomically. - Throws: `io(errno:)`.
    public func save(toFile path: String) throws(EdgeVecError) {
        try _IndexFile.write(path: path, byteCount: serializedByteCount) { serialize(into: $0) }
    }
}

extension LoadedIndex {
    /// Loads an index file of either kind.
    /// - Throws: `io(errno:)`, `corrupt(_)`, `outOfMemory`.
    public static func load(fromFile path: String, allocator: RawAllocator = .makeDefault()) throws(EdgeVecError) -> LoadedIndex {
        let bytes: [UInt8]
        do throws(EdgeVecError) { bytes = try _IndexFile.read(path: path) } catch {
            allocator.release()
            throw error
        }
        return try _withBytes(bytes) { (raw) throws(EdgeVecError) in try load(serialized: raw, allocator: allocator) }
    }

    /// Saves either kind atomically.
    public func save(toFile path: String) throws(EdgeVecError) {
        switch self {
        case .hnsw(let index): try index.save(toFile: path)
        case .flat(let index): try index.save(toFile: path)
        }
    }
}
#endif
