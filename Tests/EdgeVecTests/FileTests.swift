import EdgeVec
import Foundation
import Testing

/// Saving to and loading from files: atomic replacement, no stray temporary
/// files, errno reporting.
@Suite("Files")
struct FileTests {
    /// A fresh empty directory, removed by `body`'s caller afterwards.
    static func withDirectory(_ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("edgevec-tests-" + UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    static func contents(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    static func fileBytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static let data = ClusteredData(count: 400, queries: 10, dimension: 12, clusters: 6, seed: 600)

    @Test("Save and load an HNSW index")
    func hnswFile() throws {
        try Self.withDirectory { dir in
            let index = try makeHNSW(Self.data.data, metric: .cosine, m: 6, efConstruction: 40)
            let path = dir + "/index.evx"
            try index.save(toFile: path)
            #expect(try Self.fileBytes(path) == index.serialized())
            #expect(try Self.contents(dir) == ["index.evx"])

            let direct = try HNSWIndex(contentsOfFile: path)
            #expect(direct.serialized() == index.serialized())
            #expect(try probe(direct, Self.data.queries) == probe(index, Self.data.queries))

            let loaded = try LoadedIndex.load(fromFile: path)
            guard case .hnsw(let viaEnum) = loaded else {
                Issue.record("loaded as \(loaded)")
                return
            }
            #expect(viaEnum.serialized() == index.serialized())
            // Saving through the enum writes the same bytes.
            try loaded.save(toFile: dir + "/copy.evx")
            #expect(try Self.fileBytes(dir + "/copy.evx") == index.serialized())
            #expect(try Self.contents(dir) == ["copy.evx", "index.evx"])
        }
    }

    @Test("Save and load a flat index")
    func flatFile() throws {
        try Self.withDirectory { dir in
            let index = try FlatIndex(dimension: 12, metric: .dot)
            try index.addBatch(Self.data.data.values)
            let path = dir + "/flat.evx"
            try index.save(toFile: path)
            #expect(try Self.fileBytes(path) == index.serialized())
            let loaded = try LoadedIndex.load(fromFile: path)
            guard case .flat(let flat) = loaded else {
                Issue.record("loaded as \(loaded)")
                return
            }
            #expect(flat.serialized() == index.serialized())
            #expect(try Self.contents(dir) == ["flat.evx"])
        }
    }

    @Test("Saving over an existing file replaces it and leaves no temporary files")
    func atomicReplace() throws {
        try Self.withDirectory { dir in
            let path = dir + "/index.evx"
            // An unrelated, larger file at the destination.
            try Data(repeating: 0x5A, count: 200_000).write(to: URL(fileURLWithPath: path))
            let small = try makeHNSW(Rows(dimension: 12, values: Array(Self.data.data.values.prefix(12 * 20))),
                                     metric: .l2, m: 4, efConstruction: 20)
            try small.save(toFile: path)
            #expect(try Self.fileBytes(path) == small.serialized())
            #expect(try Self.contents(dir) == ["index.evx"])
            // Replace again with a bigger index, then with a smaller one.
            let big = try makeHNSW(Self.data.data, metric: .l2, m: 4, efConstruction: 20)
            try big.save(toFile: path)
            #expect(try Self.fileBytes(path) == big.serialized())
            try small.save(toFile: path)
            #expect(try Self.fileBytes(path) == small.serialized())
            #expect(try HNSWIndex(contentsOfFile: path).serialized() == small.serialized())
            #expect(try Self.contents(dir) == ["index.evx"])
            // A relative path in the current directory is not needed; a path with "./" works.
            let flat = try FlatIndex(dimension: 12, metric: .l2)
            try flat.save(toFile: dir + "/./flat.evx")
            #expect(try Self.contents(dir) == ["flat.evx", "index.evx"])
        }
    }

    @Test("File errors report errno and leave nothing behind")
    func fileErrors() throws {
        try Self.withDirectory { dir in
            let index = try HNSWIndex(dimension: 12, metric: .l2)
            try index.add(Self.data.data[0])
            // Missing files and directories.
            #expect(throws: EdgeVecError.io(errno: ENOENT)) { try LoadedIndex.load(fromFile: dir + "/missing.evx") }
            #expect(throws: EdgeVecError.io(errno: ENOENT)) { try HNSWIndex(contentsOfFile: dir + "/missing.evx") }
            #expect(throws: EdgeVecError.io(errno: ENOENT)) { try index.save(toFile: dir + "/no/such/dir/index.evx") }
            #expect(try Self.contents(dir) == [])
            // A directory where the file should be.
            try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: false)
            #expect(throws: EdgeVecError.self) { try index.save(toFile: dir + "/sub") }
            #expect(try Self.contents(dir) == ["sub"], "a temporary file was left behind")
            #expect(throws: EdgeVecError.io(errno: EISDIR)) { try LoadedIndex.load(fromFile: dir + "/sub") }
            // A file that is not an index.
            try Data("not an index".utf8).write(to: URL(fileURLWithPath: dir + "/text.txt"))
            #expect(throws: EdgeVecError.corrupt(.badMagic)) { try LoadedIndex.load(fromFile: dir + "/text.txt") }
            // An empty file.
            #expect(FileManager.default.createFile(atPath: dir + "/empty.evx", contents: Data()))
            #expect(throws: EdgeVecError.corrupt(.badMagic)) { try LoadedIndex.load(fromFile: dir + "/empty.evx") }
            // A truncated index file.
            let bytes = index.serialized()
            try Data(bytes.dropLast(3)).write(to: URL(fileURLWithPath: dir + "/short.evx"))
            #expect(throws: EdgeVecError.corrupt(.truncated)) { try LoadedIndex.load(fromFile: dir + "/short.evx") }
        }
    }

    @Test("A failed file load releases the allocator")
    func failedLoadReleases() throws {
        try Self.withDirectory { dir in
            let memory = TestAllocator()
            #expect(throws: EdgeVecError.io(errno: ENOENT)) {
                try LoadedIndex.load(fromFile: dir + "/missing.evx", allocator: memory.allocator)
            }
            #expect(memory.releases == 1)
            let other = TestAllocator()
            #expect(throws: EdgeVecError.io(errno: ENOENT)) {
                try HNSWIndex(contentsOfFile: dir + "/missing.evx", allocator: other.allocator)
            }
            #expect(other.releases == 1)
            #expect(memory.liveBlocks == 0 && other.liveBlocks == 0)
        }
    }
}
