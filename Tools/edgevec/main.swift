import ArgumentParser

/// `edgevec`: build, query and inspect EdgeVec index files from the shell.
struct EdgeVecTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edgevec",
        abstract: "Build, search and inspect EdgeVec vector indexes.",
        discussion: """
            Vectors are read from .fvecs files (per vector a little-endian int32 \
            dimension, then that many float32); search results and ground truth \
            are .ivecs (int32 ids, 0-based).
            """,
        subcommands: [BuildCommand.self, SearchCommand.self, InfoCommand.self, RemoveCommand.self, BenchCommand.self]
    )
}

EdgeVecTool.main()
