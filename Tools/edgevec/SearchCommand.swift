import ArgumentParser
import EdgeVec
import EdgeVecConcurrency

/// `edgevec search`: run every query of a .fvecs file against a saved index.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search a saved index with the queries of a .fvecs file.",
        discussion: """
            Runs the queries on --threads threads (default: every core), each query \
            timed alone with a monotonic clock, and prints queries/s (all queries over \
            the wall time), p50 and p99 latency and, with --groundtruth, recall@k: \
            the fraction of the first k ground-truth ids of each query found among \
            its k results, averaged over the queries.

            --filter EXPR restricts every query to the vectors whose metadata (from \
            `edgevec build --metadata`) satisfies EXPR, in the filter language of \
            docs/FILTERS.md, e.g. 'section = "games" AND installed_size_kib < 200'; \
            --filters FILE gives one expression per query, line i for query i. Each \
            query then returns exactly min(k, matching vectors) results; rows with \
            fewer are padded with -1 in --output. A filter that does not parse is an \
            error naming its column (and, with --filters, its line). Timings include \
            evaluating the filter.

            --json prints one JSON object as the last line of standard output, after \
            the summary line: {"queries", "k", "ef", "qps", "p50_us", "p99_us"} and \
            "recall" (recall@k) with --groundtruth; qps is queries/s, p50_us and p99_us \
            latencies in microseconds, ef is null for a flat (exact) index. With \
            --ef-sweep the object is still one line: "ef", "qps", "p50_us", "p99_us" and \
            "recall" are then arrays with one entry per swept ef, in order.
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

    @Option(help: ArgumentHelp("Write k ids per query here (.ivecs, 0-based; -1 pads the rows of queries "
        + "with fewer than k results: fewer vectors in the index, or fewer matching the filter).", valueName: "results.ivecs"))
    var output: String?

    @Option(help: ArgumentHelp("Exact neighbours (.ivecs, one row of at least k ids per query) to compute "
        + "recall@k against.", valueName: "groundtruth.ivecs"))
    var groundtruth: String?

    @Option(name: .customLong("ef-sweep"),
            help: ArgumentHelp("Comma-separated beam widths, e.g. 10,16,32,64: loads the index once, runs an "
                + "untimed warm-up of up to 100 queries (--warm-up), then all queries once per value, one output line per "
                + "value. Not with --ef or --output.", valueName: "ef,ef,..."))
    var efSweep: EfList?

    @Option(name: .customLong("warm-up"),
            help: ArgumentHelp("Untimed searches over the first n queries before the timed pass (paging in the "
                + "index; default 0, and 100 with --ef-sweep).", valueName: "n"))
    var warmUp: Int?

    @Option(help: ArgumentHelp("Metadata filter applied to every query (see below).", valueName: "expr"))
    var filter: String?

    @Option(help: ArgumentHelp("One filter expression per query line (as many lines as queries). "
        + "Not with --filter.", valueName: "filters.txt"))
    var filters: String?

    @Option(help: "Threads searching at once, sharing the queries (1...1024; default: every core).")
    var threads: Int?

    @Flag(help: "Also print one JSON object as the last line of standard output (see below).")
    var json = false

    @Flag(help: "No progress bar.")
    var quiet = false

    static let maxK = 65536

    func validate() throws {
        if filter != nil && filters != nil { throw ValidationError("--filter and --filters exclude each other") }
        if let threads, !(1...1024).contains(threads) {
            throw ValidationError("--threads must be in 1...1024, got \(threads)")
        }
        if let warmUp, warmUp < 0 { throw ValidationError("--warm-up must be 0 or more, got \(warmUp)") }
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
        if let filters { try checkReadable(filters, what: "filters") }
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
        let compiled = try compileFilters(queries: query.rows)

        if let efSweep {
            try sweep(efSweep.values, loaded: loaded, query: query, filters: compiled, truth: truth)
            return
        }

        if let warmUp, warmUp > 0 {
            _ = try runQueries(loaded, query, ef: ef, filters: compiled, count: min(query.rows, warmUp),
                               label: "warm-up", quiet: true)
        }
        let pass = try runQueries(loaded, query, ef: ef, filters: compiled, count: query.rows, label: "searching",
                                  quiet: quiet)
        if let output {
            try VecsFile.writeIvecs(output, values: pass.results, dimension: k)
        }
        let summary = printSummary(pass, loaded: loaded, shownEf: effectiveEf(loaded), truth: truth)
        if json {
            let efValue: String
            switch loaded {
            case .flat: efValue = "null"
            case .hnsw(let hnsw): efValue = String(max(ef ?? hnsw.configuration.efSearch, k))
            }
            printJSON(queries: query.rows, ef: efValue, summaries: [summary], arrays: false)
        }
    }

    /// The filter of each query: none, `--filter` once for all, or one
    /// per line of `--filters` (compiled once per distinct line).
    private func compileFilters(queries: Int) throws(CLIError) -> [Filter]? {
        if let filter {
            do {
                return [try Filter(filter)]
            } catch {
                throw CLIError("--filter: " + filterMessage(error, text: filter))
            }
        }
        guard let filters else { return nil }
        let file = try VecsFile.readFile(filters)
        defer { file.deallocate() }
        let bytes = UnsafeBufferPointer(start: file.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                        count: file.count)
        let lines = MetadataTable.splitLines(bytes)
        if lines.count != queries {
            throw CLIError("\(filters): \(lines.count) filter lines, but \(self.queries) holds \(queries) queries "
                + "(line i is the filter of query i)")
        }
        var compiled: [Filter] = []
        compiled.reserveCapacity(queries)
        var seen: [[UInt8]: Filter] = [:]
        for (i, line) in lines.enumerated() {
            let text = Array(bytes[line])
            if let known = seen[text] {
                compiled.append(known)
                continue
            }
            do {
                let f = try text.withUnsafeBufferPointer { (b) throws(EdgeVecError) in try Filter(utf8: b) }
                seen[text] = f
                compiled.append(f)
            } catch {
                throw CLIError("\(filters): line \(i + 1): "
                    + filterMessage(error, text: String(decoding: text, as: UTF8.self)))
            }
        }
        return compiled
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
    fileprivate func sweep(_ efs: [Int], loaded: LoadedIndex, query: VecsMatrix<Float>, filters: [Filter]?,
                           truth: VecsMatrix<Int32>?) throws(CLIError) {
        // Untimed warm-up: page in the index and the queries.
        let warmUp = self.warmUp ?? 100
        if warmUp > 0 {
            _ = try runQueries(loaded, query, ef: efs[0], filters: filters, count: min(query.rows, warmUp),
                               label: "warm-up", quiet: true)
        }
        var summaries: [Summary] = []
        var shownEfs: [String] = []
        for ef in efs {
            let pass = try runQueries(loaded, query, ef: ef, filters: filters, count: query.rows,
                                      label: "searching ef \(ef)", quiet: quiet)
            let shown: String
            switch loaded {
            case .flat: shown = "exact"; shownEfs.append("null")
            case .hnsw: shown = String(max(ef, k)); shownEfs.append(shown)
            }
            summaries.append(printSummary(pass, loaded: loaded, shownEf: shown, truth: truth))
        }
        if json {
            printJSON(queries: query.rows, ef: "[" + shownEfs.joined(separator: ", ") + "]", summaries: summaries,
                      arrays: true)
        }
    }

    /// The `--json` line: one object, scalars for one pass, arrays (one entry
    /// per pass) for a sweep. `ef` is already JSON.
    fileprivate func printJSON(queries: Int, ef: String, summaries: [Summary], arrays: Bool) {
        func field(_ values: [String]) -> String { arrays ? "[" + values.joined(separator: ", ") + "]" : values[0] }
        var line = "{\"queries\": \(queries), \"k\": \(k), \"ef\": \(ef), "
            + "\"qps\": \(field(summaries.map { jsonNumber($0.qps) })), "
            + "\"p50_us\": \(field(summaries.map { jsonNumber($0.p50) })), "
            + "\"p99_us\": \(field(summaries.map { jsonNumber($0.p99) }))"
        if truth(summaries) {
            line += ", \"recall\": \(field(summaries.map { jsonNumber($0.recall ?? 0) }))"
        }
        print(line + "}")
    }

    private func truth(_ summaries: [Summary]) -> Bool { summaries.first?.recall != nil }

    /// One pass over the first `count` queries, shared among `--threads`
    /// threads, each query timed alone with the allocation-free search: k ids
    /// per query (-1 padded) and latencies.
    fileprivate func runQueries(_ loaded: LoadedIndex, _ query: VecsMatrix<Float>, ef: Int?, filters: [Filter]?,
                                count: Int, label: String, quiet: Bool) throws(CLIError) -> QueryPass {
        let dimension = query.dimension
        let k = self.k
        var pass = QueryPass(results: [Int32](repeating: -1, count: count * k),
                             latencies: [UInt64](repeating: 0, count: count), seconds: 0)
        var distances = [Float](repeating: 0, count: k)
        // Ids are 64-bit; .ivecs holds int32 (indexes built by `edgevec build` use row numbers).
        var keys = [UInt64](repeating: 0, count: k)
        var progress = ProgressBar(label: label, unit: "queries", total: count, quiet: quiet, delay: 1)
        let workers = threadCount(threads ?? 0, work: count)
        let failure = Lock()
        var firstError: (row: Int, message: String)? = nil
        let queue = WorkQueue(count: count, chunk: 1)
        let start = monotonicNanoseconds()
        query.values.withUnsafeBufferPointer { values in
            pass.results.withUnsafeMutableBufferPointer { ids in
                pass.latencies.withUnsafeMutableBufferPointer { latencies in
                    runInParallel(threads: workers) { worker in
                        var found = [UInt64](repeating: 0, count: k)
                        var dist = [Float](repeating: 0, count: k)
                        var short = 0
                        while let next = queue.next(), failure.withLock({ firstError == nil }) {
                            let row = next.lowerBound
                            let vector = UnsafeBufferPointer(start: values.baseAddress! + row * dimension, count: dimension)
                            let t0 = monotonicNanoseconds()
                            var message: String? = nil
                            do throws(EdgeVecError) {
                                let n = try found.withUnsafeMutableBufferPointer { (f) throws(EdgeVecError) -> Int in
                                    try dist.withUnsafeMutableBufferPointer { (d) throws(EdgeVecError) -> Int in
                                        if let filters {
                                            return try loaded.search(vector, k: k, ef: ef,
                                                                     filter: filters[filters.count == 1 ? 0 : row],
                                                                     ids: f.baseAddress!, distances: d.baseAddress!)
                                        }
                                        return try loaded.search(vector, k: k, ef: ef, ids: f.baseAddress!,
                                                                 distances: d.baseAddress!)
                                    }
                                }
                                let t1 = monotonicNanoseconds()
                                for i in 0..<n {
                                    guard found[i] <= UInt64(Int32.max) else {
                                        message = "id \(found[i]) does not fit .ivecs (int32)"
                                        break
                                    }
                                    ids[row * k + i] = Int32(found[i])
                                }
                                if n < k { short += 1 }
                                latencies[row] = t1 - t0
                            } catch {
                                message = rowMessage(error)
                            }
                            if let message {
                                failure.withLock { if firstError == nil || row < firstError!.row { firstError = (row, message) } }
                            }
                            if worker == 0 { progress.update(row + 1, now: monotonicNanoseconds()) }
                        }
                        failure.withLock { pass.short += short }
                    }
                }
            }
        }
        if let firstError {
            progress.finish(firstError.row)
            throw CLIError("\(queries): query \(firstError.row): " + firstError.message)
        }
        pass.seconds = Double(monotonicNanoseconds() - start) / 1e9
        progress.finish(count)
        return pass
    }

    /// The one-line summary: queries/s, p50/p99 latency, recall@k with ground
    /// truth, and how many queries had fewer than k results when any did.
    @discardableResult
    fileprivate func printSummary(_ pass: QueryPass, loaded: LoadedIndex, shownEf: String,
                                  truth: VecsMatrix<Int32>?) -> Summary {
        let rows = pass.latencies.count
        let sorted = pass.latencies.sorted()
        let summary = Summary(
            qps: pass.seconds > 0 ? Double(rows) / pass.seconds : 0,
            p50: percentile(sorted, 0.50), p99: percentile(sorted, 0.99),
            recall: truth.map { recall(pass.results, $0, k: k, count: loaded.count) })
        var line = "\(rows) queries, k \(k), ef \(shownEf): \(fixed(summary.qps, 1)) queries/s, "
            + "p50 \(fixed(summary.p50, 1)) µs, p99 \(fixed(summary.p99, 1)) µs"
        if let value = summary.recall {
            line += ", recall@\(k) \(fixed(value, 4))"
        }
        if pass.short > 0 {
            line += ", \(pass.short) \(pass.short == 1 ? "query" : "queries") with fewer than \(k) results"
        }
        print(line)
        return summary
    }
}

/// What one pass over the queries produced.
struct QueryPass {
    var results: [Int32]
    var latencies: [UInt64]
    var seconds: Double
    /// Queries that returned fewer than k results.
    var short = 0
}

/// The figures of one pass, as printed.
struct Summary {
    var qps: Double
    /// Latency percentiles, microseconds.
    var p50: Double
    var p99: Double
    var recall: Double?
}

/// A finite number as JSON (Swift's shortest round-trip digits; non-finite as 0,
/// which the figures never are).
func jsonNumber(_ value: Double) -> String {
    guard value.isFinite else { return "0" }
    if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
    return String(value)
}

/// An invalid filter's message, with the text and a caret under the column.
func filterMessage(_ error: EdgeVecError, text: String) -> String {
    guard case .invalidFilter(let column, _) = error else { return describe(error) }
    let before = text.unicodeScalars.prefix(max(column - 1, 0)).map { $0 == "\t" ? "\t" : " " }.joined()
    return describe(error) + "\n  " + text + "\n  " + before + "^"
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
