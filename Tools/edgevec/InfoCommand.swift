import ArgumentParser
import EdgeVec
import EdgeVecAllocators

/// `edgevec info`: describe a saved index.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print the parameters of a saved index.",
        discussion: """
            One `key: value` per line; HNSW-only fields are `-` for a flat index. Then \
            `metadata fields: N` and, per metadata field, `field NAME: TYPE (C vectors)`, \
            TYPE one of string, integer, double, bool, strings (a list of strings) and C \
            the live vectors holding the field; a field whose values have several types \
            lists each with its count, e.g. `field size: integer 90, double 10 (100 vectors)`.
            """
    )

    @Option(help: ArgumentHelp("Index file written by `edgevec build`.", valueName: "index"))
    var index: String

    func run() throws {
        try checkReadable(index, what: "index")
        let loaded: LoadedIndex
        do {
            loaded = try LoadedIndex.load(fromFile: index)
        } catch {
            throw CLIError("cannot load index \(index)", error)
        }
        var fields: [(String, String)] = []
        switch loaded {
        case .hnsw(let hnsw):
            let c = hnsw.configuration
            fields = [
                ("kind", "hnsw"),
                ("metric", hnsw.metric.name),
                ("dimension", String(hnsw.dimension)),
                ("count", String(hnsw.count)),
                ("removed", String(hnsw.removedCount)),
                ("M", String(c.m)),
                ("efConstruction", String(c.efConstruction)),
                ("efSearch", String(c.efSearch)),
                ("seed", String(c.seed)),
                ("max level", String(hnsw.maxLevel)),
                ("file bytes", String(fileSize(index) ?? 0)),
                ("allocator", allocatorName(hnsw.allocatorKind)),
            ]
        case .flat(let flat):
            fields = [
                ("kind", "flat"),
                ("metric", flat.metric.name),
                ("dimension", String(flat.dimension)),
                ("count", String(flat.count)),
                ("removed", String(flat.removedCount)),
                ("M", "-"),
                ("efConstruction", "-"),
                ("efSearch", "-"),
                ("seed", "-"),
                ("max level", "-"),
                ("file bytes", String(fileSize(index) ?? 0)),
                ("allocator", allocatorName(flat.allocatorKind)),
            ]
        }
        let metadata = loaded.metadataFields
        fields.append(("metadata fields", String(metadata.count)))
        for field in metadata {
            let types = field.types.count == 1
                ? field.types[0].name
                : field.types.map { "\($0.name) \(field.count(of: $0))" }.joined(separator: ", ")
            fields.append(("field \(field.name)", "\(types) (\(field.count) \(field.count == 1 ? "vector" : "vectors"))"))
        }
        for (key, value) in fields { print("\(key): \(value)") }
    }
}

/// The allocator kind as `info` and `bench` print it.
func allocatorName(_ kind: RawAllocator.Kind) -> String {
    switch kind {
    case .system: return "system"
    case .jemalloc: return "jemalloc"
    case .bumpArena: return "bump-arena"
    }
}
