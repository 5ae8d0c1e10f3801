// Native file persistence of both index kinds: EdgeVecFormat's atomic
// whole-file writes and reads (`_IndexFile`) with the index's bytes, lock
// and errors. Not compiled for Embedded/wasm targets, whose hosts keep the
// bytes themselves (see `serialize(into:)`).
#if canImport(Glibc) || canImport(Darwin)
import EdgeVecAllocators
import EdgeVecFormat

extension _Serializable {
    /// `save(toFile:)`: the bytes of one moment (the read lock is held while they are written).
    func _save(toFile path: String) throws(EdgeVecError) {
        try lock.withReadLock { () throws(EdgeVecError) in
            let header = _header
            do throws(_IndexFile.Failure) {
                try _IndexFile.write(path: path, byteCount: header.totalBytes!) { _ = _serializeFramed(into: $0, header: header) }
            } catch {
                throw .io(errno: error.errno)
            }
        }
    }
}

extension _IndexFile {
    /// `read(path:)`, its failure thrown as `io(errno:)` after releasing
    /// `allocator` (the index that would have owned it is never created).
    static func _read(path: String, releasingOnFailure allocator: RawAllocator) throws(EdgeVecError) -> [UInt8] {
        do throws(Failure) { return try read(path: path) } catch {
            allocator.release()
            throw .io(errno: error.errno)
        }
    }
}

extension HNSWIndex {
    /// Saves the index to `path` atomically: a temporary file
    /// `<basename>.tmp-<pid>-<hex>` in the same directory, fsync, rename,
    /// fsync of the directory. Temporary files of earlier saves of `path`
    /// whose process is gone (killed mid-save) are removed first.
    /// - Throws: `io(errno:)`.
    public func save(toFile path: String) throws(EdgeVecError) {
        try _save(toFile: path)
    }

    /// Loads an index saved with `save(toFile:)`. Temporary files of saves
    /// of `path` whose process is gone are removed first (best effort).
    /// - Throws: `io(errno:)`, `corrupt(_)`, `outOfMemory`.
    public convenience init(contentsOfFile path: String, allocator: RawAllocator = .makeDefault()) throws(EdgeVecError) {
        let bytes = try _IndexFile._read(path: path, releasingOnFailure: allocator)
        try self.init(serialized: bytes, allocator: allocator)
    }
}

extension FlatIndex {
    /// Saves the index to `path` atomically, like `HNSWIndex.save(toFile:)`
    /// (stale temporary files of `path` removed first). - Throws: `io(errno:)`.
    public func save(toFile path: String) throws(EdgeVecError) {
        try _save(toFile: path)
    }
}

extension LoadedIndex {
    /// Loads an index file of either kind. Temporary files of saves of
    /// `path` whose process is gone are removed first (best effort).
    /// - Throws: `io(errno:)`, `corrupt(_)`, `outOfMemory`.
    public static func load(fromFile path: String, allocator: RawAllocator = .makeDefault()) throws(EdgeVecError) -> LoadedIndex {
        let bytes = try _IndexFile._read(path: path, releasingOnFailure: allocator)
        return try _withBytes(bytes) { (raw) throws(EdgeVecError) in try load(serialized: raw, allocator: allocator) }
    }

    /// Saves either kind atomically (stale temporary files of `path` removed first).
    public func save(toFile path: String) throws(EdgeVecError) {
        switch self {
        case .hnsw(let index): try index.save(toFile: path)
        case .flat(let index): try index.save(toFile: path)
        }
    }
}
#endif
