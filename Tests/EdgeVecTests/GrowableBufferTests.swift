import EdgeVec
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `_UnsafeGrowableBuffer`: what growth keeps, what it zeroes, and the huge
/// pages that big buffers ask for natively on Linux.
@Suite("Growable buffers")
struct GrowableBufferTests {
    #if canImport(Glibc)
    /// The system allocator, except that every block it hands out is full of
    /// 0xAB, so a test sees any byte that growth forgot to zero.
    static var dirty: RawAllocator {
        RawAllocator(
        kind: .system, context: nil,
        allocate: { _, size, alignment in
            var p: UnsafeMutableRawPointer?
            let size = Int(max(size, 1))
            guard posix_memalign(&p, max(alignment, 16), size) == 0, let p else { return nil }
            memset(p, 0xAB, size)
            return p
        },
        deallocate: { _, pointer, _ in free(pointer) },
        release: { _ in })
    }

    @Test("Growth keeps the preserved prefix and zeroes every other element")
    func growthZeroesTheRest() throws {
        var buffer = _UnsafeGrowableBuffer<UInt32>()
        defer { buffer.release(using: Self.dirty) }
        let grew = buffer.reserve(100, preserving: 0, using: Self.dirty)
        #expect(grew)
        let first = buffer.capacity
        #expect((0..<first).allSatisfy { buffer[$0] == 0 }, "a new buffer is zeroed")
        for i in 0..<first { buffer[i] = UInt32(i) &+ 1 }
        // Keep the first 40; the rest of the old contents must not come along.
        let grewAgain = buffer.reserve(first * 3, preserving: 40, using: Self.dirty)
        #expect(grewAgain)
        #expect(buffer.capacity >= first * 3)
        #expect((0..<40).allSatisfy { buffer[$0] == UInt32($0) + 1 }, "the preserved prefix survives")
        #expect((40..<buffer.capacity).allSatisfy { buffer[$0] == 0 }, "everything past it is zero")
        // Exact reservation (the loading path) does the same.
        for i in 0..<buffer.capacity { buffer[i] = 7 }
        let old = buffer.capacity
        let grewExactly = buffer.reserveExactly(old + 5, preserving: old, using: Self.dirty)
        #expect(grewExactly)
        #expect(buffer.capacity == old + 5)
        #expect((0..<old).allSatisfy { buffer[$0] == 7 } && (old..<old + 5).allSatisfy { buffer[$0] == 0 })
    }

    @Test("A buffer of 8 MiB is 2 MiB-aligned and asks Linux for huge pages")
    func hugePages() throws {
        var buffer = _UnsafeGrowableBuffer<UInt64>()
        let allocator = RawAllocator.makeDefault()
        defer {
            buffer.release(using: allocator)
            allocator.release()
        }
        let reserved = buffer.reserve(1 << 20, preserving: 0, using: allocator)   // 8 MiB
        #expect(reserved)
        let base = Int(bitPattern: try #require(buffer.base))
        if let value = ProcessInfo.processInfo.environment["EDGEVEC_HUGEPAGES"], value == "0" {
            print("EDGEVEC_HUGEPAGES=0: the huge-page request is off, nothing to check")
            return
        }
        #expect(base % (2 << 20) == 0, "big buffers are aligned for huge pages")
        // Whether the kernel grants them depends on its THP settings.
        let setting = (try? String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/enabled", encoding: .utf8)) ?? ""
        guard setting.contains("[always]") || setting.contains("[madvise]") else {
            print("transparent huge pages are not offered here (\(setting.isEmpty ? "no THP" : setting)): not checked")
            return
        }
        // What we control is the request: madvise(MADV_HUGEPAGE) marks the mapping "hg"
        // in VmFlags. Whether the kernel then grants huge pages depends on free memory
        // and its defrag setting (a busy CI machine granted none), so that is reported only.
        let smaps = try #require(Self.readProcFile("/proc/self/smaps"))
        var inside = false
        var hugeKiB = 0
        var flags: [Substring] = []
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
                let bounds = range.split(separator: "-").compactMap { Int($0, radix: 16) }
                inside = bounds.count == 2 && bounds[0] <= base && base < bounds[1]
            } else if inside, fields.first == "AnonHugePages:", fields.count >= 2 {
                hugeKiB = Int(fields[1]) ?? 0
            } else if inside, fields.first == "VmFlags:" {
                flags = Array(fields.dropFirst())
            }
        }
        #expect(flags.contains("hg"), "the 8 MiB buffer's mapping asks for huge pages (VmFlags: \(flags.joined(separator: " ")))")
        print("the 8 MiB buffer's mapping holds \(hugeKiB) KiB of huge pages (granted by the kernel, not checked)")
    }

    /// A /proc file read to its end (Foundation stops at the size it stats, 0 or one page there).
    static func readProcFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
    #endif
}
