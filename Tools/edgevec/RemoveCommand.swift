import ArgumentParser
import EdgeVec

/// `edgevec remove`: remove vectors from a saved index by id.
struct RemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove vectors from a saved index by id.",
        discussion: """
            Removes the given ids in the order given, then writes the index atomically \
            (over itself unless --output names another file). Every id must be present \
            and given once: otherwise nothing is removed or written. Prints one summary \
            line on stdout.
            """
    )

    @Option(help: ArgumentHelp("Index file to edit.", valueName: "index"))
    var index: String

    @Option(help: ArgumentHelp("Where to write the edited index (default: over --index).", valueName: "index"))
    var output: String?

    @Argument(help: ArgumentHelp("Ids to remove (0 … 2⁵³ − 1).", valueName: "id"))
    var ids: [UInt64]

    func validate() throws {
        if ids.isEmpty { throw ValidationError("give at least one id to remove") }
    }

    func run() throws {
        let target = output ?? index
        try checkReadable(index, what: "index")
        try checkWritable(target, what: "index")
        let loaded: LoadedIndex
        do {
            loaded = try LoadedIndex.load(fromFile: index)
        } catch {
            throw CLIError("cannot load index \(index)", error)
        }
        var seen = Set<UInt64>()
        for id in ids {
            guard seen.insert(id).inserted else { throw CLIError("id \(id) is given twice; nothing removed") }
            guard loaded.contains(id) else { throw CLIError("no vector has id \(id) in \(index); nothing removed") }
        }
        for id in ids { loaded.remove(id) }
        do {
            try loaded.save(toFile: target)
        } catch {
            throw CLIError("cannot save index to \(target)", error)
        }
        print("removed \(ids.count) vectors: \(loaded.count) live, \(loaded.removedCount) removed slots; wrote \(target)")
    }
}
