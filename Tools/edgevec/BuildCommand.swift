import ArgumentParser
import EdgeVec

/// `edgevec build`: index the vectors of a .fvecs file and save the index.
struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build an index from a .fvecs file and save it.",
        discussion: """
            Inserts the vectors in file order (vector i gets id i), on --threads \
            threads, then writes the index atomically. Prints one summary line on \
            stdout. With --threads 1 the same input and seed give the same bytes every \
            time; with more threads the index has the same quality, not the same bytes.

            --part-times adds a second line, `part seconds: s1 s2 ...`: the insert \
            time of each part of max(10000, n/20) vectors in file order (the last \
            one may be shorter), so that benchmarks can pair two builds part by part.

            --metadata META.tsv attaches metadata for filtered searches (`edgevec search \
            --filter`): a tab-separated UTF-8 file whose first line names the fields \
            ([A-Za-z_][A-Za-z0-9_.]*, not a keyword of the filter language) and whose \
            line i + 2 holds the cells of vector i, as many as the header has (no \
            quoting; an empty cell is a missing field). A column is integer if every \
            non-empty cell is an integer within ±(2^53 - 1), double if every one is a \
            number, bool if every one is true or false (any case), and string otherwise. \
            The whole file is checked before anything is built; an error names its line \
            and column.
            """
    )

    @Option(help: ArgumentHelp("Vectors to index (.fvecs).", valueName: "base.fvecs"))
    var input: String

    @Option(help: ArgumentHelp("Where to write the index.", valueName: "index"))
    var output: String

    @Option(help: ArgumentHelp("Metadata per vector: tab-separated, a header line of field names, then line "
        + "i + 2 for vector i (see below).", valueName: "meta.tsv"))
    var metadata: String?

    @Option(name: .customLong("metric"),
            help: "Distance: l2 (squared Euclidean), cosine (1 - cos) or dot (-inner product).")
    var metricArgument: MetricArgument = .l2

    var metric: Metric { metricArgument.metric }

    @Option(name: .customLong("m"), help: "HNSW links per node on upper layers (2...128; layer 0 keeps 2·M).")
    var m: Int = 16

    @Option(name: .customLong("ef-construction"), help: "HNSW beam width while inserting (1...65536).")
    var efConstruction: Int = 200

    @Option(name: .customLong("ef-search"),
            help: "Default search beam width stored in the index (1...65536).")
    var efSearch: Int = 64

    @Option(help: "Seed of the HNSW level generator (same seed and input give the same index).")
    var seed: UInt64 = 42

    @Option(help: "Threads that insert at once (1...1024; default: every core). --threads 1 is reproducible bit for bit.")
    var threads: Int?

    @Flag(help: "Build an exact flat (brute-force) index instead of HNSW; HNSW options are ignored.")
    var flat = false

    @Flag(help: "No progress bar.")
    var quiet = false

    @Flag(name: .customLong("part-times"),
          help: "Also print the insert seconds of each part of max(10000, n/20) vectors (see below).")
    var partTimes = false

    func validate() throws {
        if let threads, !(1...1024).contains(threads) {
            throw ValidationError("--threads must be in 1...1024, got \(threads)")
        }
        do {
            try HNSWConfiguration(m: m, efConstruction: efConstruction, efSearch: efSearch, seed: seed).validate()
        } catch {
            throw ValidationError(optionMessage(error))
        }
    }

    func run() throws {
        try checkReadable(input, what: "input")
        if let metadata { try checkReadable(metadata, what: "metadata") }
        try checkWritable(output, what: "index")
        try checkDistinct(output: output, from: input, what: "input")
        if let metadata { try checkDistinct(output: output, from: metadata, what: "metadata") }
        let base = try VecsFile.readFvecs(input)
        let dimension = base.dimension
        // Every line and cell is checked before the (long) build starts.
        let table = try metadata.map { (path) throws(CLIError) in
            try MetadataTable.read(path, vectors: base.rows, base: input)
        }

        let index: BuildTarget
        do {
            if flat {
                index = .flat(try FlatIndex(dimension: dimension, metric: metric))
            } else {
                let configuration = HNSWConfiguration(m: m, efConstruction: efConstruction,
                                                      efSearch: efSearch, seed: seed)
                index = .hnsw(try HNSWIndex(dimension: dimension, metric: metric, configuration: configuration))
            }
        } catch {
            throw CLIError("cannot index \(input)", error)
        }

        var progress = ProgressBar(label: "building", unit: "vectors", total: base.rows, quiet: quiet)
        let start = monotonicNanoseconds()
        do {
            try index.reserveCapacity(base.rows)    // exact sizes, no growth copies
        } catch {
            throw CLIError("cannot index \(input)", error)
        }
        // Parts: the threaded build's batches (for the progress bar), and what --part-times times.
        let chunk = max(10_000, base.rows / 20)
        var partEnds: [UInt64] = []
        try base.values.withUnsafeBufferPointer { (values) throws(CLIError) in
            let pointer = values.baseAddress!
            if case .hnsw(let hnsw) = index, threads != 1 {
                // A batch per part, linked on every thread.
                for first in stride(from: 0, to: base.rows, by: chunk) {
                    let rows = min(chunk, base.rows - first)
                    do throws(EdgeVecError) {
                        try hnsw.addBatch(UnsafeBufferPointer(start: pointer + first * dimension, count: rows * dimension),
                                          threads: threads)
                        if let table {
                            for row in first ..< first + rows { try hnsw.setMetadata(table.rows[row], for: UInt64(row)) }
                        }
                    } catch {
                        progress.finish(first)
                        switch error {
                        case .nonFiniteValue(let position):
                            let row = first + position / dimension
                            throw CLIError("\(input): row \(row): "
                                + rowMessage(.nonFiniteValue(position: position % dimension)))
                        case .zeroVector(let row):
                            throw CLIError("\(input): row \(first + row): " + rowMessage(error))
                        default:
                            throw CLIError("\(input): rows \(first)..<\(first + rows): " + rowMessage(error))
                        }
                    }
                    progress.update(first + rows)
                    partEnds.append(monotonicNanoseconds())
                }
                return
            }
            for row in 0..<base.rows {
                let vector = UnsafeBufferPointer(start: pointer + row * dimension, count: dimension)
                do throws(EdgeVecError) {
                    if let table {
                        try index.add(vector, metadata: table.rows[row])
                    } else {
                        try index.add(vector)
                    }
                } catch {
                    progress.finish(row)
                    throw CLIError("\(input): row \(row): " + rowMessage(error))
                }
                progress.update(row + 1)
                if (row + 1) % chunk == 0 || row + 1 == base.rows { partEnds.append(monotonicNanoseconds()) }
            }
        }
        let seconds = Double(monotonicNanoseconds() - start) / 1e9
        progress.finish(base.rows)

        do {
            try index.save(toFile: output)
        } catch {
            throw CLIError("cannot save index to \(output)", error)
        }
        let bytes = fileSize(output) ?? 0
        let rate = seconds > 0 ? Double(base.rows) / seconds : 0
        print("built \(index.kind) index: \(base.rows) vectors, dimension \(dimension), metric \(metric.name), "
            + "\(fixed(seconds, 3)) s, \(fixed(rate, 1)) vectors/s, \(bytes) bytes -> \(output); "
            + "index memory \(index.allocatedBytes) bytes"
            + (table.map { "; metadata \($0.names.count) fields (\($0.summary))" } ?? ""))
        if partTimes {
            print("part seconds: " + zip([start] + partEnds, partEnds).map { fixed(Double($1 - $0) / 1e9, 4) }
                .joined(separator: " "))
        }
    }
}

/// The index under construction.
private enum BuildTarget {
    case hnsw(HNSWIndex)
    case flat(FlatIndex)

    var kind: String {
        switch self {
        case .hnsw: return "hnsw"
        case .flat: return "flat"
        }
    }

    var allocatedBytes: Int {
        switch self {
        case .hnsw(let index): return index.allocatedBytes
        case .flat(let index): return index.allocatedBytes
        }
    }

    func reserveCapacity(_ capacity: Int) throws(EdgeVecError) {
        switch self {
        case .hnsw(let index): try index.reserveCapacity(capacity)
        case .flat(let index): try index.reserveCapacity(capacity)
        }
    }

    func add(_ vector: UnsafeBufferPointer<Float>) throws(EdgeVecError) {
        switch self {
        case .hnsw(let index): _ = try index.add(vector)
        case .flat(let index): _ = try index.add(vector)
        }
    }

    func add(_ vector: UnsafeBufferPointer<Float>, metadata: Metadata) throws(EdgeVecError) {
        switch self {
        case .hnsw(let index): _ = try index.add(vector, metadata: metadata)
        case .flat(let index): _ = try index.add(vector, metadata: metadata)
        }
    }

    func save(toFile path: String) throws(EdgeVecError) {
        switch self {
        case .hnsw(let index): try index.save(toFile: path)
        case .flat(let index): try index.save(toFile: path)
        }
    }
}

/// An out-of-range option, named as on the command line.
private func optionMessage(_ error: EdgeVecError) -> String {
    guard case .invalidParameter(let parameter, let value) = error else { return describe(error) }
    let option: String
    switch parameter {
    case .m: option = "--m"
    case .efConstruction: option = "--ef-construction"
    case .efSearch: option = "--ef-search"
    case .ef: option = "--ef"
    default: return describe(error)
    }
    return "\(option) must be in \(parameter.range), got \(value)"
}
