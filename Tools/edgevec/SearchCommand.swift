import ArgumentParser
import EdgeVec

/// `edgevec search`: run every query of a .fvecs file against a saved index.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search a saved index with the queries of a .fvecs file.",
        discussion: """
            Runs the queries one at a time, timing each with a monotonic clock, and \
            prints queries/s, p50 and p99 latency and, with --groundtruth, recall@k: \
            the fraction of the first k ground-truth ids of each query found among \
            its k results, averaged over the queries.
            """
    )

    @Option(help: ArgumentHelp("Index file written by `edgevec build`.", valueName: "index"))
    var index: String

    @Option(help: ArgumentHelp("Query vectors (.fvecs), of the index dimension.", valueName: "queries.fvecs"))
    var queries: String

    @Option(help: "Neighbours per query (1...65536).")
    var k: Int = 10

    @Option(help: ArgumentHelp("Search beam width (1...65536; raised to k when smaller; ignored by flat indexes). "
        + "Default: the efSearch stored in the index (64 unless set at build).", valueName: "ef"))
    var ef: Int?

    @Option(help: ArgumentHelp("Write k ids per query here (.ivecs, 0-based; -1 pads rows when the index "
        + "holds fewer than k vectors).", valueName: "results.ivecs"))
    var output: String?

    @Option(help: ArgumentHelp("Exact neighbours (.ivecs, one row of at least k ids per query) to compute "
        + "recall@k against.", valueName: "groundtruth.ivecs"))
    var groundtruth: String?

    @Option(name: .customLong("ef-sweep"),
            help: ArgumentHelp("Comma-separated beam widths, e.g. 10,16,32,64: loads the index once, runs an "
                + "untimed warm-up of up to 100 queries, then all queries once per value, one output line per "
                + "value. Not with --ef or --output.", valueName: "ef,ef,..."))
    var efSweep: EfList?

    @Flag(help: "No progress bar.")
    var quiet = false

    static let maxK = 65536

    func validate() throws {
        if k < 1 || k > Self.maxK { throw ValidationError("--k must be in 1...\(Self.maxK), got \(k)") }
        if let ef, ef < 1 || ef > 65536 { throw ValidationError("--ef must be in 1...65536, got \(ef)") }
        if let efSweep {
            if ef != nil { throw ValidationError("--ef-sweep and --ef exclude each other") }
            if output != nil { throw ValidationError("--ef-sweep and --output exclude each other") }
            if let bad = efSweep.values.first(where: { $0 < 1 || $0 > 65536 }) {
                throw ValidationError("--ef-sweep values must be in 1...65536, got \(bad)")
            }
        }
    }

    func run() throws {
        try checkReadable(index, what: "index")
        try checkReadable(queries, what: "queries")
        if let groundtruth { try checkReadable(groundtruth, what: "ground truth") }
        if let output {
            try checkWritable(output, what: "results")
            try checkDistinct(output: output, from: index, what: "index")
            try checkDistinct(output: output, from: queries, what: "queries")
            if let groundtruth { try checkDistinct(output: output, from: groundtruth, what: "ground truth") }
        }

        let loaded: LoadedIndex
        do {
            loaded = try LoadedIndex.load(fromFile: index)
        } catch {
            throw CLIError("cannot load index \(index)", error)
        }
        let query = try VecsFile.readFvecs(queries)
        if query.dimension != loaded.dimension {
            throw CLIError("\(queries): queries have dimension \(query.dimension), "
                + "but the index has dimension \(loaded.dimension)")
        }
        // Read and check the ground truth before spending time on the search.
        var truth: VecsMatrix<Int32>? = nil
        if let groundtruth {
            let gt = try VecsFile.readIvecs(groundtruth)
            if gt.rows != query.rows {
                throw CLIError("\(groundtruth): \(gt.rows) ground-truth rows, but \(query.rows) queries")
            }
            if gt.dimension < k {
                throw CLIError("\(groundtruth): rows hold \(gt.dimension) ids, fewer than k = \(k)")
            }
            truth = gt
        }

        if let efSweep {
            try sweep(efSweep.values, loaded: loaded, query: query, truth: truth)
            return
        }

        let pass = try runQueries(loaded, query, ef: ef, count: query.rows, label: "searching", quiet: quiet)
        if let output {
            try VecsFile.writeIvecs(output, values: pass.results, dimension: k)
        }
        printSummary(pass, loaded: loaded, shownEf: effectiveEf(loaded), truth: truth)
    }

    /// The beam width the searches used, for the report.
    private func effectiveEf(_ loaded: LoadedIndex) -> String {
        switch loaded {
        case .flat: return "exact"
        case .hnsw(let hnsw): return String(max(ef ?? hnsw.configuration.efSearch, k))
        }
    }
}

/// `--ef-sweep` values: positive integers separated by commas.
struct EfList: ExpressibleByArgument {
    var values: [Int]

    init?(argument: String) {
        var values: [Int] = []
        for part in argument.split(separator: ",", omittingEmptySubsequences: false) {
            guard let value = Int(String(part.filter { $0 != " " })) else { return nil }
            values.append(value)
        }
        if values.isEmpty { return nil }
        self.values = values
    }
}

extension SearchCommand {
    /// `--ef-sweep`: the index is loaded once; every query runs once per ef, each
    /// timed alone, one line per ef in the format of a plain search.
    fileprivate func sweep(_ efs: [Int], loaded: LoadedIndex, query: VecsMatrix<Float>,
                           truth: VecsMatrix<Int32>?) throws(CLIError) {
        // Untimed warm-up: page in the index and the queries.
        _ = try runQueries(loaded, query, ef: efs[0], count: min(query.rows, 100), label: "warm-up", quiet: true)
        for ef in efs {
            let pass = try runQueries(loaded, query, ef: ef, count: query.rows, label: "searching ef \(ef)",
                                      quiet: quiet)
            let shown: String
            switch loaded {
            case .flat: shown = "exact"
            case .hnsw: shown = String(max(ef, k))
            }
            printSummary(pass, loaded: loaded, shownEf: shown, truth: truth)
        }
    }

    /// One pass over the first `count` queries, each timed alone with the
    /// allocation-free search: k ids per query (-1 padded) and latencies.
    fileprivate func runQueries(_ loaded: LoadedIndex, _ query: VecsMatrix<Float>, ef: Int?, count: Int,
                                label: String, quiet: Bool) throws(CLIError) -> QueryPass {
        let dimension = query.dimension
        let k = self.k
        var pass = QueryPass(results: [Int32](repeating: -1, count: count * k),
                             latencies: [UInt64](repeating: 0, count: count), seconds: 0)
        var distances = [Float](repeating: 0, count: k)
        // Ids are 64-bit; .ivecs holds int32 (indexes built by `edgevec build` use row numbers).
        var keys = [UInt64](repeating: 0, count: k)
        var progress = ProgressBar(label: label, unit: "queries", total: count, quiet: quiet, delay: 1)
        let start = monotonicNanoseconds()
        try query.values.withUnsafeBufferPointer { (values) throws(CLIError) in
            try pass.results.withUnsafeMutableBufferPointer { (ids) throws(CLIError) in
                try distances.withUnsafeMutableBufferPointer { (dist) throws(CLIError) in
                    try keys.withUnsafeMutableBufferPointer { (found) throws(CLIError) in
                        for row in 0..<count {
                            let vector = UnsafeBufferPointer(start: values.baseAddress! + row * dimension, count: dimension)
                            let t0 = monotonicNanoseconds()
                            let n: Int
                            do throws(EdgeVecError) {
                                n = try loaded.search(vector, k: k, ef: ef, ids: found.baseAddress!, distances: dist.baseAddress!)
                            } catch {
                                progress.finish(row)
                                throw CLIError("\(queries): query \(row): " + rowMessage(error))
                            }
                            let t1 = monotonicNanoseconds()
                            for i in 0..<n {
                                guard found[i] <= UInt64(Int32.max) else {
                                    progress.finish(row)
                                    throw CLIError("\(queries): query \(row): id \(found[i]) does not fit .ivecs (int32)")
                                }
                                ids[row * k + i] = Int32(found[i])
                            }
                            pass.latencies[row] = t1 - t0
                            progress.update(row + 1, now: t1)
                        }
                    }
                }
            }
        }
        pass.seconds = Double(monotonicNanoseconds() - start) / 1e9
        progress.finish(count)
        return pass
    }

    /// The one-line summary: queries/s, p50/p99 latency, recall@k with ground truth.
    fileprivate func printSummary(_ pass: QueryPass, loaded: LoadedIndex, shownEf: String,
                                  truth: VecsMatrix<Int32>?) {
        let rows = pass.latencies.count
        let sorted = pass.latencies.sorted()
        let qps = pass.seconds > 0 ? Double(rows) / pass.seconds : 0
        var line = "\(rows) queries, k \(k), ef \(shownEf): \(fixed(qps, 1)) queries/s, "
            + "p50 \(fixed(percentile(sorted, 0.50), 1)) µs, p99 \(fixed(percentile(sorted, 0.99), 1)) µs"
        if let truth {
            line += ", recall@\(k) \(fixed(recall(pass.results, truth, k: k, count: loaded.count), 4))"
        }
        print(line)
    }
}

/// What one pass over the queries produced.
struct QueryPass {
    var results: [Int32]
    var latencies: [UInt64]
    var seconds: Double
}

/// Nearest-rank percentile of sorted nanosecond latencies, in microseconds.
private func percentile(_ sorted: [UInt64], _ q: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((q * Double(sorted.count)).rounded(.up))
    return Double(sorted[min(max(rank, 1), sorted.count) - 1]) / 1000
}

/// Mean over queries of |first k ground-truth ids ∩ our k ids| / k.
private func recall(_ results: [Int32], _ truth: VecsMatrix<Int32>, k: Int, count: Int) -> Double {
    let rows = truth.rows
    guard rows > 0 else { return 0 }
    // stamp[id] == row + 1 marks the ids returned for `row`: O(k) per query.
    var stamp = [Int32](repeating: 0, count: max(count, 1))
    var found = 0
    for row in 0..<rows {
        let mark = Int32(truncatingIfNeeded: row + 1)
        for i in 0..<k {
            let id = Int(results[row * k + i])
            if id >= 0 && id < count { stamp[id] = mark }
        }
        let gt = row * truth.dimension
        for i in 0..<k {
            let id = Int(truth.values[gt + i])
            if id >= 0 && id < count && stamp[id] == mark { found += 1 }
        }
    }
    return Double(found) / Double(rows * k)
}
