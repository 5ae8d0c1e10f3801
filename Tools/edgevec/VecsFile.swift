#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A row-major matrix read from a `.fvecs` / `.ivecs` file: `rows` vectors of
/// `dimension` elements each, stored contiguously.
struct VecsMatrix<Element> {
    var values: [Element]
    var rows: Int
    var dimension: Int
}

/// Reading and writing the TEXMEX `.fvecs` / `.ivecs` formats: per vector a
/// little-endian int32 dimension, then that many little-endian float32
/// (`.fvecs`) or int32 (`.ivecs`) values. Every row must have the same
/// dimension.
enum VecsFile {
    /// Reads a whole `.fvecs` file. Throws `CLIError` for a missing or
    /// unreadable file, an empty file, a non-positive dimension, rows of
    /// different dimensions or a truncated last row.
    static func readFvecs(_ path: String) throws(CLIError) -> VecsMatrix<Float> {
        try load(path, as: Float.self, kind: "fvecs")
    }

    /// Reads a whole `.ivecs` file; see `readFvecs`.
    static func readIvecs(_ path: String) throws(CLIError) -> VecsMatrix<Int32> {
        try load(path, as: Int32.self, kind: "ivecs")
    }

    /// Writes `values.count / dimension` rows of `dimension` int32 values as `.ivecs`.
    static func writeIvecs(_ path: String, values: [Int32], dimension: Int) throws(CLIError) {
        precondition(dimension > 0 && values.count % dimension == 0)
        let rows = values.count / dimension
        let rowBytes = 4 + 4 * dimension
        var bytes = [UInt8](repeating: 0, count: rows * rowBytes)
        bytes.withUnsafeMutableBytes { out in
            values.withUnsafeBytes { src in
                for row in 0..<rows {
                    let dst = out.baseAddress! + row * rowBytes
                    dst.storeBytes(of: Int32(dimension).littleEndian, as: Int32.self)
                    let payload = dst + 4
                    payload.copyMemory(from: src.baseAddress! + row * dimension * 4, byteCount: dimension * 4)
                    #if _endian(big)
                    for i in 0..<dimension {
                        let p = payload + 4 * i
                        p.storeBytes(of: p.loadUnaligned(as: UInt32.self).byteSwapped, as: UInt32.self)
                    }
                    #endif
                }
            }
        }
        try writeFile(path, bytes)
    }

    // MARK: - Implementation

    private static func load<T>(_ path: String, as type: T.Type, kind: String) throws(CLIError) -> VecsMatrix<T> {
        precondition(MemoryLayout<T>.size == 4)
        let file = try readFile(path)
        defer { file.deallocate() }
        let total = file.count
        if total == 0 { throw CLIError("\(path): empty file (no vectors)") }
        let base = UnsafeRawPointer(file.baseAddress!)
        if total < 4 { throw CLIError("\(path): truncated .\(kind) file (\(total) bytes)") }

        let dim = Int(Int32(littleEndian: base.loadUnaligned(as: Int32.self)))
        if dim <= 0 {
            throw CLIError("\(path): row 0 has non-positive dimension \(dim); not a valid .\(kind) file")
        }
        let rowBytes = 4 + 4 * dim
        let rows = total / rowBytes
        // Check every row header before copying anything, so a mismatched row is
        // reported as such rather than as a truncated file.
        var offset = 0
        var row = 0
        while offset < total {
            if total - offset < 4 {
                throw CLIError("\(path): truncated .\(kind) file: \(total - offset) stray bytes after row \(row - 1)")
            }
            let d = Int(Int32(littleEndian: (base + offset).loadUnaligned(as: Int32.self)))
            if d != dim {
                if d <= 0 {
                    throw CLIError("\(path): row \(row) has non-positive dimension \(d); not a valid .\(kind) file")
                }
                throw CLIError("\(path): row \(row) has dimension \(d), but row 0 has \(dim)")
            }
            if total - offset < rowBytes {
                throw CLIError("\(path): truncated .\(kind) file: row \(row) needs \(rowBytes) bytes, "
                    + "only \(total - offset) remain")
            }
            offset += rowBytes
            row += 1
        }
        assert(row == rows)

        let values = [T](unsafeUninitializedCapacity: rows * dim) { buffer, initialized in
            let dst = UnsafeMutableRawPointer(buffer.baseAddress!)
            for r in 0..<rows {
                (dst + r * dim * 4).copyMemory(from: base + r * rowBytes + 4, byteCount: dim * 4)
            }
            #if _endian(big)
            let words = dst.assumingMemoryBound(to: UInt32.self)
            for i in 0..<(rows * dim) { words[i] = words[i].byteSwapped }
            #endif
            initialized = rows * dim
        }
        return VecsMatrix(values: values, rows: rows, dimension: dim)
    }

    /// Reads a whole regular file into freshly allocated memory (caller frees).
    static func readFile(_ path: String) throws(CLIError) -> UnsafeMutableRawBufferPointer {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw CLIError.errno("cannot open \(path)") }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw CLIError.errno("cannot stat \(path)") }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw CLIError("\(path) is a directory, not a file") }
        let size = Int(st.st_size)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 16)
        var done = 0
        while done < size {
            let n = read(fd, buffer.baseAddress! + done, min(size - done, 1 << 30))
            if n < 0 {
                if errno == EINTR { continue }
                let e = CLIError.errno("cannot read \(path)")
                buffer.deallocate()
                throw e
            }
            if n == 0 { break }  // the file shrank while we read it
            done += n
        }
        return UnsafeMutableRawBufferPointer(rebasing: buffer[0..<done])
    }

    /// Writes `bytes` to `path` through a temporary file and a rename, so a
    /// failed write never leaves a half-written file behind.
    static func writeFile(_ path: String, _ bytes: [UInt8]) throws(CLIError) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw CLIError.errno("cannot create \(temporary)") }
        var failure: CLIError? = nil
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, min(raw.count - done, 1 << 30))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = CLIError.errno("cannot write \(temporary)")
                    return
                }
                done += n
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = CLIError.errno("cannot write \(temporary)") }
        if close(fd) != 0 && failure == nil { failure = CLIError.errno("cannot write \(temporary)") }
        if failure == nil && rename(temporary, path) != 0 { failure = CLIError.errno("cannot write \(path)") }
        if let failure {
            unlink(temporary)
            throw failure
        }
    }
}
