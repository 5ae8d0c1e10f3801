import EdgeVec
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Temporary files of killed saves: a save of `T` writes
/// `<basename(T)>.tmp-<pid>-<hex>`; the next save or load of `T` removes those
/// whose process is gone, and nothing else.
@Suite("Temporary files")
struct TempFileTests {
    /// Pids no process can have: Linux pids stay below 2²² (PID_MAX_LIMIT),
    /// macOS's below 100,000.
    static let deadPIDs = [4_194_305, 2_147_483_647]

    static let data = ClusteredData(count: 300, queries: 5, dimension: 8, clusters: 4, seed: 1900)

    /// Names of stale temporary files of `index.evx` (dead pids, well formed).
    static let stale = [
        "index.evx.tmp-\(deadPIDs[0])-0123abcd",
        "index.evx.tmp-\(deadPIDs[1])-0123456789abcdef",
        "index.evx.tmp-\(deadPIDs[0])-ffffffffff",
    ]

    /// Names that must survive every save and load of `index.evx`.
    static var kept: [String] {
        let dead = deadPIDs[0]
        return [
            "index.evx.tmp-\(getpid())-0123abcd",          // live pid: this very process
            "other.evx.tmp-\(dead)-0123abcd",              // another target
            "xindex.evx.tmp-\(dead)-0123abcd",             // another target, same suffix
            "index.ev.tmp-\(dead)-0123abcd",               // another target, a prefix of ours
            "index.evx.tmp-\(dead)",                       // old scheme: no nonce
            "index.evx.tmp-\(dead)-0123ABCD",              // uppercase hex
            "index.evx.tmp-\(dead)-0123abc",               // 7 hex digits
            "index.evx.tmp-\(dead)-0123456789abcdef0",     // 17 hex digits
            "index.evx.tmp-\(dead)-0123abcg",              // not hex
            "index.evx.tmp-\(dead)-0123abcd.bak",          // trailing text
            "index.evx.tmp--0123abcd",                     // no pid
            "index.evx.tmp-0-0123abcd",                    // pid 0 (the process group)
            "index.evx.tmp-2147483648-0123abcd",           // pid beyond pid_t
            "index.evx.tmp-12345678901-0123abcd",          // 11 digits
            "index.evx.tmp-+\(dead)-0123abcd",             // sign
            "index.evx.tmp-\(dead)-0123abcd-0123abcd",     // two nonces
            "index.evx.TMP-\(dead)-0123abcd",              // case of the marker
            "index.evx.tmp-\(dead)-",                      // empty nonce
        ]
    }

    static func touch(_ path: String, _ text: String = "debris") throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// A directory holding an index at `index.evx`, every stale and kept name.
    static func withDebris(_ body: (String, HNSWIndex) throws -> Void) throws {
        try FileTests.withDirectory { dir in
            let index = try makeHNSW(data.data, metric: .l2, m: 6, efConstruction: 30)
            try index.save(toFile: dir + "/index.evx")
            for name in stale + kept { try touch(dir + "/" + name) }
            #expect(try FileTests.contents(dir).count == 1 + stale.count + kept.count)
            try body(dir, index)
        }
    }

    static func expectOnlyKept(_ dir: String, plus extra: [String] = [],
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try FileTests.contents(dir) == (kept + ["index.evx"] + extra).sorted(),
                sourceLocation: sourceLocation)
        // The kept files are untouched.
        for name in kept {
            #expect(try String(contentsOfFile: dir + "/" + name, encoding: .utf8) == "debris",
                    sourceLocation: sourceLocation)
        }
    }

    @Test("A save removes stale temporary files of its target and nothing else")
    func saveRemovesStale() throws {
        try Self.withDebris { dir, index in
            let other = try makeHNSW(Rows(dimension: 8, values: Array(Self.data.data.values.prefix(8 * 50))),
                                     metric: .l2, m: 4, efConstruction: 20)
            try other.save(toFile: dir + "/index.evx")
            try Self.expectOnlyKept(dir)
            #expect(try FileTests.fileBytes(dir + "/index.evx") == other.serialized())
            // Flat indexes and the LoadedIndex enum save the same way.
            for name in Self.stale { try Self.touch(dir + "/" + name) }
            let flat = try FlatIndex(dimension: 8, metric: .dot)
            try flat.addBatch(Self.data.data.values)
            try flat.save(toFile: dir + "/index.evx")
            try Self.expectOnlyKept(dir)
            for name in Self.stale { try Self.touch(dir + "/" + name) }
            try LoadedIndex.hnsw(index).save(toFile: dir + "/index.evx")
            try Self.expectOnlyKept(dir)
            #expect(try FileTests.fileBytes(dir + "/index.evx") == index.serialized())
        }
    }

    @Test("A load removes stale temporary files of its target and nothing else")
    func loadRemovesStale() throws {
        try Self.withDebris { dir, index in
            let loaded = try HNSWIndex(contentsOfFile: dir + "/index.evx")
            #expect(loaded.serialized() == index.serialized())
            try Self.expectOnlyKept(dir)
            for name in Self.stale { try Self.touch(dir + "/" + name) }
            let viaEnum = try LoadedIndex.load(fromFile: dir + "/index.evx")
            guard case .hnsw(let hnsw) = viaEnum else {
                Issue.record("loaded as \(viaEnum)")
                return
            }
            #expect(hnsw.serialized() == index.serialized())
            try Self.expectOnlyKept(dir)
            #expect(try FileTests.fileBytes(dir + "/index.evx") == index.serialized())
        }
    }

    @Test("A failed load or save still cleans up; cleanup failures are ignored")
    func cleanupIsBestEffort() throws {
        try Self.withDebris { dir, index in
            // A stale-looking directory cannot be unlinked: ignored.
            let blocked = "index.evx.tmp-\(Self.deadPIDs[0])-deadbeef"
            try FileManager.default.createDirectory(atPath: dir + "/" + blocked, withIntermediateDirectories: false)
            let loaded = try HNSWIndex(contentsOfFile: dir + "/index.evx")
            #expect(loaded.serialized() == index.serialized())
            try Self.expectOnlyKept(dir, plus: [blocked])
            try index.save(toFile: dir + "/index.evx")
            try Self.expectOnlyKept(dir, plus: [blocked])
            try FileManager.default.removeItem(atPath: dir + "/" + blocked)

            // The target missing or not an index: the load fails as before, after the cleanup.
            for name in Self.stale { try Self.touch(dir + "/" + name) }
            try FileManager.default.removeItem(atPath: dir + "/index.evx")
            #expect(throws: EdgeVecError.io(errno: ENOENT)) { try LoadedIndex.load(fromFile: dir + "/index.evx") }
            #expect(try FileTests.contents(dir) == Self.kept.sorted())
            for name in Self.stale { try Self.touch(dir + "/" + name) }
            try Self.touch(dir + "/index.evx", "not an index")
            #expect(throws: EdgeVecError.corrupt(.badMagic)) { try HNSWIndex(contentsOfFile: dir + "/index.evx") }
            try Self.expectOnlyKept(dir)
        }
    }

    @Test("A load from a read-only directory works and leaves its debris",
          .enabled(if: getuid() != 0, "root ignores directory permissions"))
    func readOnlyDirectory() throws {
        try Self.withDebris { dir, index in
            #expect(chmod(dir, 0o555) == 0)
            defer { chmod(dir, 0o755) }
            let loaded = try LoadedIndex.load(fromFile: dir + "/index.evx")
            guard case .hnsw(let hnsw) = loaded else {
                Issue.record("loaded as \(loaded)")
                return
            }
            #expect(hnsw.serialized() == index.serialized())
            #expect(try FileTests.contents(dir).count == 1 + Self.stale.count + Self.kept.count)
        }
    }

    @Test("Concurrent saves of one target in one process all succeed and leave no temporary file")
    func concurrentSaves() throws {
        try FileTests.withDirectory { dir in
            let indexes = try (0..<4).map { i in
                try makeHNSW(Rows(dimension: 8, values: Array(Self.data.data.values.prefix(8 * (40 + 20 * i)))),
                             metric: .l2, m: 4, efConstruction: 20)
            }
            let expected = Set(indexes.map { $0.serialized() })
            let failures = Failures()
            // Each index is used by one thread only (an index is not thread-safe).
            let shared = Unchecked(value: indexes)
            DispatchQueue.concurrentPerform(iterations: indexes.count) { i in
                for _ in 0..<25 {
                    do { try shared.value[i].save(toFile: dir + "/index.evx") } catch { failures.add("\(error)") }
                }
            }
            #expect(failures.all.isEmpty)
            #expect(try FileTests.contents(dir) == ["index.evx"])
            #expect(expected.contains(try FileTests.fileBytes(dir + "/index.evx")))
        }
    }
}

/// Indexes handed to threads that each use a different one.
private struct Unchecked<Value>: @unchecked Sendable {
    let value: Value
}

/// Errors collected from several threads.
private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []

    func add(_ item: String) { lock.withLock { items.append(item) } }
    var all: [String] { lock.withLock { items } }
}
