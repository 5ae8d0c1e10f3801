import ArgumentParser
import EdgeVec
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `edgevec bench`: insert throughput of the native Swift API, the native
/// side of the wasm-overhead comparison (the same workload runs through the
/// JavaScript API on the wasm module).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time N inserts into an empty HNSW index through the Swift API.",
        discussion: """
            Each run creates an empty l2 index and inserts the N generated vectors in \
            order: `single` calls add() N times, `batch100` calls addBatch() with 100 \
            rows at a time, `batch1000` with 1000 rows (one call for N = 1000; the last \
            call takes the remainder when N is not a multiple). Only the inserts are \
            timed; the data is generated once, before the first run. With --reserve, \
            each run first reserves room for the N vectors (untimed), as hnswlib's \
            max_elements does. `--api all` runs \
            single, batch100 and batch1000 in turn within every repetition. After each \
            run the graph invariants are checked (untimed). Prints µs per vector for \
            every run and the median per API; with --json, one JSON object per line \
            (kind "run", then kind "summary" per API). Under the allocation counter \
            (LD_PRELOAD=malloc_count.so, see bench/report/malloc_count.c) every run also \
            reports the allocation calls its inserts made and the bytes they asked for.
            """
    )

    enum DataKind: String, CaseIterable, ExpressibleByArgument {
        /// Every value 0.5: all vectors identical.
        case constant
        /// Uniform [0, 1) from a fixed seed.
        case uniform
    }

    enum API: String, CaseIterable, ExpressibleByArgument {
        case single, batch100, batch1000, all

        /// Rows per call (`single`: 1).
        var rows: Int {
            switch self {
            case .single, .all: return 1
            case .batch100: return 100
            case .batch1000: return 1000
            }
        }
    }

    @Option(help: "Floats per vector (1...65536).")
    var dimensions: Int = 128

    @Option(name: .customLong("n"), help: "Vectors inserted per run.")
    var n: Int = 1000

    @Option(help: "constant (every value 0.5, all vectors identical) or uniform ([0, 1), fixed seed).")
    var data: DataKind = .uniform

    @Option(help: "single, batch100, batch1000, or all (the three interleaved in each repetition).")
    var api: API = .single

    @Option(name: .customLong("m"), help: "HNSW links per node on upper layers (2...128).")
    var m: Int = 16

    @Option(name: .customLong("ef-construction"), help: "HNSW beam width while inserting (1...65536).")
    var efConstruction: Int = 200

    @Option(help: "Runs per API.")
    var repetitions: Int = 5

    @Option(name: .customLong("warm-up"), help: """
        Untimed runs per API before the timed ones, on constant data of the same N whatever --data says \
        (the fastest to insert): the memory a run uses is faulted in and the runtime's metadata instantiated \
        before the first timed run. Not printed.
        """)
    var warmUp: Int = 0

    @Option(help: "Seed of the HNSW level generator.")
    var seed: UInt64 = 42

    @Option(name: .customLong("data-seed"), help: "Seed of the uniform data (SplitMix64).")
    var dataSeed: UInt64 = 1

    @Flag(help: "Reserve room for the N vectors (reserveCapacity, untimed) before each run's inserts.")
    var reserve = false

    @Flag(help: "One JSON object per line instead of text.")
    var json = false

    func validate() throws {
        if dimensions < 1 || dimensions > 65536 {
            throw ValidationError("--dimensions must be in 1...65536, got \(dimensions)")
        }
        if n < 1 || n > 100_000_000 { throw ValidationError("--n must be in 1...100000000, got \(n)") }
        if repetitions < 1 || repetitions > 1000 {
            throw ValidationError("--repetitions must be in 1...1000, got \(repetitions)")
        }
        if warmUp < 0 || warmUp > 1000 { throw ValidationError("--warm-up must be in 0...1000, got \(warmUp)") }
        let (bytes, overflow) = n.multipliedReportingOverflow(by: dimensions * 4)
        if overflow || bytes > 1 << 34 {
            throw ValidationError("--n × --dimensions is too large (\(n) × \(dimensions) floats)")
        }
        do {
            try HNSWConfiguration(m: m, efConstruction: efConstruction, seed: seed).validate()
        } catch {
            guard case .invalidParameter(let parameter, let value) = error else { throw ValidationError(describe(error)) }
            let option = parameter == .m ? "--m" : parameter == .efConstruction ? "--ef-construction" : "\(parameter)"
            throw ValidationError("\(option) must be in \(parameter.range), got \(value)")
        }
    }

    func run() throws {
        let values = makeData()
        let apis: [API] = api == .all ? [.single, .batch100, .batch1000] : [api]
        let configuration = HNSWConfiguration(m: m, efConstruction: efConstruction, seed: seed)
        var timings: [API: [Double]] = [:]

        if !json {
            print("edgevec bench: n \(n), dimensions \(dimensions), data \(data.rawValue), M \(m), "
                + "efConstruction \(efConstruction), \(reserve ? "capacity reserved, " : "")allocator \(allocatorName(RawAllocator.defaultKind)), "
                + "kernels \(DistanceKernels.instructionSet)")
        }
        if warmUp > 0 {
            let constant = makeData(.constant)
            for _ in 0 ..< warmUp {
                for api in apis { _ = try runOnce(api, values: constant, configuration: configuration) }
            }
        }
        for repetition in 1...repetitions {
            for api in apis {
                let result = try runOnce(api, values: values, configuration: configuration)
                timings[api, default: []].append(result.microsecondsPerVector)
                if json {
                    print(jsonLine([
                        ("kind", .text("run")), ("api", .text(api.rawValue)), ("repetition", .int(repetition)),
                    ] + commonFields() + [
                        ("seconds", .number(result.seconds, 6)),
                        ("us_per_vector", .number(result.microsecondsPerVector, 3)),
                        ("count", .int(result.count)),
                        ("allocated_bytes", .int(result.allocatedBytes)),
                    ] + (result.allocatorBytes.map { [($0.key, JSONValue.int($0.bytes))] } ?? [])
                      + (result.allocations.map { [("allocation_calls", JSONValue.int($0.calls)),
                                                   ("allocation_bytes", JSONValue.int($0.bytes))] } ?? []) + [
                        ("peak_rss_bytes", .int(result.peakRSS.bytes)),
                        ("peak_rss_source", .text(result.peakRSS.source)),
                        ("invariants", .text(result.invariants)),
                    ]))
                } else {
                    print("  rep \(repetition)  \(pad(api.rawValue, 9))  \(pad(fixed(result.microsecondsPerVector, 2), 9, right: true)) µs/vector"
                        + "  \(fixed(result.seconds, 3)) s  index \(megabytes(result.allocatedBytes)) MiB"
                        + (result.allocatorBytes.map { " (\($0.key.replacingUnderscores) \(megabytes($0.bytes)) MiB)" } ?? "")
                        + (result.allocations.map { "  \($0.calls) allocations (\(megabytes($0.bytes)) MiB)" } ?? "")
                        + "  peak RSS \(megabytes(result.peakRSS.bytes)) MiB  invariants \(result.invariants)")
                }
            }
        }
        for api in apis {
            let samples = timings[api] ?? []
            let middle = median(samples)
            if json {
                print(jsonLine([("kind", .text("summary")), ("api", .text(api.rawValue))] + commonFields() + [
                    ("repetitions", .int(samples.count)),
                    ("median_us_per_vector", .number(middle, 3)),
                    ("min_us_per_vector", .number(samples.min() ?? 0, 3)),
                    ("max_us_per_vector", .number(samples.max() ?? 0, 3)),
                ]))
            } else {
                print("median \(pad(api.rawValue, 9))  \(pad(fixed(middle, 2), 9, right: true)) µs/vector"
                    + "  (min \(fixed(samples.min() ?? 0, 2)), max \(fixed(samples.max() ?? 0, 2)), \(samples.count) runs)")
            }
        }
    }

    struct RunResult {
        var seconds: Double
        var microsecondsPerVector: Double
        var count: Int
        var allocatedBytes: Int
        var allocatorBytes: (key: String, bytes: Int)?
        /// What the inserts allocated, when the allocation counter is preloaded.
        var allocations: (calls: Int, bytes: Int)?
        var peakRSS: (bytes: Int, source: String)
        var invariants: String
    }

    /// One run: an empty index, N inserts through `api` (timed), then the
    /// untimed checks. The index is freed before the next run.
    func runOnce(_ api: API, values: [Float], configuration: HNSWConfiguration) throws -> RunResult {
        let peakReset = resetPeakRSS()
        let index: HNSWIndex
        // Kept to read the arena's statistics; the index owns and releases it.
        let allocator = RawAllocator.makeDefault()
        do {
            index = try HNSWIndex(dimension: dimensions, metric: .l2, configuration: configuration,
                                  allocator: allocator)
        } catch {
            throw CLIError("cannot create the index", error)
        }
        if reserve {
            do { try index.reserveCapacity(n) } catch { throw CLIError("cannot reserve room for \(n) vectors", error) }
        }
        let d = dimensions
        let total = n
        let rowsPerCall = api.rows
        let probe = AllocationProbe.shared
        let allocationsBefore = probe?.totals()
        let start = monotonicNanoseconds()
        try values.withUnsafeBufferPointer { (all) throws(CLIError) in
            var row = 0
            do throws(EdgeVecError) {
                if rowsPerCall == 1 {
                    while row < total {
                        try index.add(UnsafeBufferPointer(rebasing: all[row * d ..< (row + 1) * d]))
                        row += 1
                    }
                } else {
                    while row < total {
                        let rows = min(rowsPerCall, total - row)
                        try index.addBatch(UnsafeBufferPointer(rebasing: all[row * d ..< (row + rows) * d]))
                        row += rows
                    }
                }
            } catch {
                throw CLIError("insert failed at row \(row)", error)
            }
        }
        let seconds = Double(monotonicNanoseconds() - start) / 1e9
        var allocations: (calls: Int, bytes: Int)?
        if let probe, let before = allocationsBefore {
            let after = probe.totals()
            allocations = (after.calls - before.calls, after.bytes - before.bytes)
        }
        let peak = peakRSS(resetWorked: peakReset)
        // Memory behind the index as the allocator sees it: the bump arena's
        // chunks (it never reuses what growth gave back), or everything
        // jemalloc has handed out in the process (the data included).
        var allocatorBytes: (key: String, bytes: Int)?
        if let arena = BumpArena.statistics(allocator) { allocatorBytes = ("arena_reserved_bytes", arena.reserved) }
        #if Jemalloc
        allocatorBytes = ("jemalloc_allocated_bytes", RawAllocator.jemallocAllocatedBytes())
        #endif
        let violation = index.checkInvariants()
        let invariants = violation.map { "violated: \($0)" } ?? "ok"
        guard index.count == total else { throw CLIError("the index holds \(index.count) vectors, expected \(total)") }
        if violation != nil { throw CLIError("graph invariants violated after \(api.rawValue): \(invariants)") }
        return RunResult(seconds: seconds, microsecondsPerVector: seconds * 1e6 / Double(total), count: index.count,
                         allocatedBytes: index.allocatedBytes, allocatorBytes: allocatorBytes,
                         allocations: allocations, peakRSS: peak,
                         invariants: invariants)
    }

    /// N × dimensions floats, row after row.
    func makeData(_ kind: DataKind? = nil) -> [Float] {
        switch kind ?? data {
        case .constant:
            return [Float](repeating: 0.5, count: n * dimensions)
        case .uniform:
            var state = dataSeed
            return (0 ..< n * dimensions).map { _ in
                // SplitMix64, top 24 bits → [0, 1).
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return Float((z ^ (z >> 31)) >> 40) * 0x1p-24
            }
        }
    }

    func commonFields() -> [(String, JSONValue)] {
        [
            ("n", .int(n)), ("dimensions", .int(dimensions)), ("data", .text(data.rawValue)),
            ("m", .int(m)), ("ef_construction", .int(efConstruction)), ("seed", .raw(String(seed))),
            ("reserved", .raw(reserve ? "true" : "false")),
            ("allocator", .text(allocatorName(RawAllocator.defaultKind))),
            ("instruction_set", .text(DistanceKernels.instructionSet)),
        ]
    }
}

// MARK: - Helpers

extension String {
    var replacingUnderscores: String { String(map { $0 == "_" ? " " : $0 }) }
}

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

func megabytes(_ bytes: Int) -> String { fixed(Double(bytes) / 1_048_576, 1) }

func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(width - text.count, 0))
    return right ? fill + text : text + fill
}

/// Resets the kernel's peak-RSS mark (VmHWM) to the current RSS by writing
/// "5" to /proc/self/clear_refs (Linux 4.0+), so each run reports its own
/// peak. Returns whether it worked.
func resetPeakRSS() -> Bool {
    #if os(Linux)
    let fd = open("/proc/self/clear_refs", O_WRONLY)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return write(fd, "5", 1) == 1
    #else
    return false
    #endif
}

/// Peak resident set size in bytes: VmHWM from /proc/self/status (since the
/// last reset when `resetWorked`), else getrusage's ru_maxrss (process peak).
func peakRSS(resetWorked: Bool) -> (bytes: Int, source: String) {
    #if os(Linux)
    if let file = fopen("/proc/self/status", "r") {
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("VmHWM:") else { continue }
            let digits = text.dropFirst(6).filter { $0.isNumber }
            if let kilobytes = Int(digits) {
                return (kilobytes * 1024, resetWorked ? "VmHWM since run start" : "VmHWM of process")
            }
        }
    }
    #endif
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #if os(Linux)
    return (Int(usage.ru_maxrss) * 1024, "ru_maxrss of process")
    #else
    return (Int(usage.ru_maxrss), "ru_maxrss of process")
    #endif
}

// MARK: - JSON lines

enum JSONValue {
    case text(String)
    case int(Int)
    case number(Double, Int)
    /// Already JSON (an unsigned number).
    case raw(String)
}

/// One JSON object on one line, keys in the given order (no Foundation).
func jsonLine(_ fields: [(String, JSONValue)]) -> String {
    var out = "{"
    for (i, (key, value)) in fields.enumerated() {
        if i > 0 { out += "," }
        out += jsonString(key) + ":"
        switch value {
        case .text(let text): out += jsonString(text)
        case .int(let number): out += String(number)
        case .number(let number, let digits): out += number.isFinite ? fixed(number, digits) : "null"
        case .raw(let text): out += text
        }
    }
    return out + "}"
}

func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}
