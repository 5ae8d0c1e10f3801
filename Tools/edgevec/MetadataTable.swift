import EdgeVec

/// The metadata of `edgevec build --metadata META.tsv`: one `Metadata` per
/// vector, read and checked whole before anything is built.
///
/// The file is tab-separated UTF-8: a header line of field names, then one
/// line per vector of the base file, in the same order (row i describes
/// vector i), each with as many tab-separated cells as the header. There is
/// no quoting: a cell is the bytes between two tabs (a trailing CR is
/// dropped, so CRLF files read the same). An empty cell is a missing field.
///
/// Each column gets one type from all its non-empty cells: integer if every
/// one is an integer within ±(2⁵³ − 1) (optional sign, digits), double if
/// every one is a number (the filter grammar's numbers: optional sign,
/// digits, optional fraction and exponent), bool if every one is `true` or
/// `false` (any case), otherwise string.
struct MetadataTable {
    /// The column types `edgevec build` chooses.
    enum ColumnType: String {
        case integer, double, bool, string
    }

    /// Field names, in header order.
    var names: [String]
    /// One per column.
    var types: [ColumnType]
    /// Non-empty cells per column.
    var counts: [Int]
    /// One per data line.
    var rows: [Metadata]

    /// Reads and checks `path`; `vectors` is the number of rows it must have
    /// and `base` names the vectors' file in errors.
    /// - Throws: `CLIError` naming the line (1-based, the header is line 1)
    ///   and the column (1-based, and its name) of the first problem.
    static func read(_ path: String, vectors: Int, base: String) throws(CLIError) -> MetadataTable {
        let file = try VecsFile.readFile(path)
        defer { file.deallocate() }
        let bytes = UnsafeBufferPointer(start: file.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                        count: file.count)
        return try parse(bytes, path: path, vectors: vectors, base: base)
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, path: String, vectors: Int,
                      base: String) throws(CLIError) -> MetadataTable {
        let lines = splitLines(bytes)
        guard let headerLine = lines.first else { throw CLIError("\(path): empty file (no header line)") }

        // Header: field names.
        var names: [String] = []
        let headerCells = splitCells(bytes, headerLine)
        if headerCells.count > MetadataLimits.fieldsPerVector {
            throw CLIError("\(path): line 1: \(headerCells.count) columns, more than "
                + "\(MetadataLimits.fieldsPerVector) (the most fields a vector may have)")
        }
        for (c, cell) in headerCells.enumerated() {
            guard let name = text(bytes, cell) else {
                throw CLIError("\(path): line 1, column \(c + 1): the field name is not valid UTF-8")
            }
            if name.isEmpty { throw CLIError("\(path): line 1, column \(c + 1): empty field name") }
            if case .invalidFieldName? = Metadata([(name: name, value: .bool(true))]).validate() {
                throw CLIError("\(path): line 1, column \(c + 1): invalid field name \"\(name)\": a name is "
                    + "[A-Za-z_][A-Za-z0-9_.]*, at most \(MetadataLimits.nameBytes) bytes, and not a keyword of "
                    + "the filter language (AND, OR, NOT, IN, BETWEEN, CONTAINS, IS, NULL, TRUE, FALSE)")
            }
            if let first = names.firstIndex(of: name) {
                throw CLIError("\(path): line 1, column \(c + 1): field \"\(name)\" named twice "
                    + "(also column \(first + 1))")
            }
            names.append(name)
        }

        // Data lines: one per vector, as many cells as the header.
        let dataLines = lines.count - 1
        if dataLines != vectors {
            throw CLIError("\(path): \(dataLines) data lines after the header, but \(base) holds \(vectors) "
                + "vectors (line i + 2 describes vector i)")
        }
        let width = names.count
        var cells: [Range<Int>] = []
        cells.reserveCapacity(dataLines * width)
        for (i, line) in lines.dropFirst().enumerated() {
            let row = splitCells(bytes, line)
            if row.count != width {
                throw CLIError("\(path): line \(i + 2): \(row.count) cells, but the header has \(width) columns "
                    + "(cells are separated by tabs)")
            }
            cells += row
        }
        @inline(__always) func location(_ row: Int, _ column: Int) -> String {
            "\(path): line \(row + 2), column \(column + 1) (\(names[column]))"
        }

        // Column types from every non-empty cell.
        var types: [ColumnType] = []
        var counts: [Int] = []
        for c in 0..<width {
            var integer = true, number = true, boolean = true
            var present = 0
            for r in 0..<dataLines {
                let cell = cells[r * width + c]
                if cell.isEmpty { continue }
                present += 1
                let value = UnsafeBufferPointer(rebasing: bytes[cell])
                if integer || number {
                    switch ParsedNumber.parse(value) {
                    case .integer?: break
                    case .double?: integer = false
                    case nil: integer = false; number = false
                    }
                }
                if boolean && parseBool(value) == nil { boolean = false }
                if !integer && !number && !boolean { break }
            }
            types.append(present == 0 ? .string : integer ? .integer : number ? .double : boolean ? .bool : .string)
            counts.append(present)
        }

        // The values, each row checked against the metadata limits.
        var rows: [Metadata] = []
        rows.reserveCapacity(dataLines)
        var fields: [(name: String, value: MetadataValue)] = []
        fields.reserveCapacity(width)
        for r in 0..<dataLines {
            fields.removeAll(keepingCapacity: true)
            for c in 0..<width {
                let cell = cells[r * width + c]
                if cell.isEmpty { continue }
                let raw = UnsafeBufferPointer(rebasing: bytes[cell])
                let value: MetadataValue
                switch types[c] {
                case .integer:
                    guard case .integer(let x)? = ParsedNumber.parse(raw) else { preconditionFailure() }
                    value = .integer(x)
                case .double:
                    value = .double(ParsedNumber.parse(raw)!.doubleValue)
                case .bool:
                    value = .bool(parseBool(raw)!)
                case .string:
                    guard let s = text(bytes, cell) else {
                        throw CLIError("\(location(r, c)): not valid UTF-8")
                    }
                    if raw.count > MetadataLimits.stringBytes {
                        throw CLIError("\(location(r, c)): a string of \(raw.count) bytes, more than "
                            + "\(MetadataLimits.stringBytes)")
                    }
                    value = .string(s)
                }
                fields.append((name: names[c], value: value))
            }
            let metadata = Metadata(fields)
            if let problem = metadata.validate() {
                var column = 0
                switch problem {
                case .invalidNumber(let name), .tooLarge(let name): column = names.firstIndex(of: name) ?? 0
                default: break
                }
                if case .tooLarge = problem {
                    throw CLIError("\(location(r, column)): the line's metadata passes "
                        + "\(MetadataLimits.totalBytes) bytes (names, strings, 8 per number or bool)")
                }
                throw CLIError("\(location(r, column)): " + problem.message)
            }
            rows.append(metadata)
        }
        return MetadataTable(names: names, types: types, counts: counts, rows: rows)
    }

    /// `name type` per column, for the build summary.
    var summary: String {
        zip(names, types).map { "\($0) \($1.rawValue)" }.joined(separator: ", ")
    }

    // MARK: - Lines and cells

    /// Byte ranges of the lines, without their LF (and a CR before it); a
    /// final LF ends the last line rather than starting an empty one. A UTF-8
    /// byte-order mark at the start is skipped.
    static func splitLines(_ bytes: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var lines: [Range<Int>] = []
        var start = 0
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { start = 3 }
        var i = start
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\n") {
                lines.append(start..<(i > start && bytes[i - 1] == UInt8(ascii: "\r") ? i - 1 : i))
                start = i + 1
            }
            i += 1
        }
        if start < bytes.count {
            let end = bytes[bytes.count - 1] == UInt8(ascii: "\r") ? bytes.count - 1 : bytes.count
            lines.append(start..<end)
        }
        return lines
    }

    /// The tab-separated cells of `line`.
    static func splitCells(_ bytes: UnsafeBufferPointer<UInt8>, _ line: Range<Int>) -> [Range<Int>] {
        var cells: [Range<Int>] = []
        var start = line.lowerBound
        for i in line where bytes[i] == UInt8(ascii: "\t") {
            cells.append(start..<i)
            start = i + 1
        }
        cells.append(start..<line.upperBound)
        return cells
    }

    /// The bytes as a String, or nil if they are not valid UTF-8.
    static func text(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String? {
        String(validating: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// `true` / `false` in any case.
    static func parseBool(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool? {
        func equals(_ word: StaticString) -> Bool {
            guard bytes.count == word.utf8CodeUnitCount else { return false }
            let w = word.utf8Start
            for i in 0..<bytes.count where bytes[i] | 0x20 != w[i] { return false }
            return true
        }
        if equals("true") { return true }
        if equals("false") { return false }
        return nil
    }
}
