@testable import EdgeVecFilter
import EdgeVec
import Foundation
import Testing

/// The filter language: the shared corpus (Tests/Fixtures/filters), the
/// number reader, a print-and-parse round trip of random filters, limits,
/// and metadata validation.
@Suite("Filters")
struct FilterTests {
    static let directory: String = {
        var path = #filePath
        for _ in 0..<2 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path + "/Fixtures/filters/"
    }()

    static func lines(_ file: String) throws -> [Substring] {
        let text = try String(contentsOfFile: directory + file, encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().filter { !$0.hasPrefix("#") }
    }

    /// rows.txt: NAME=T:VALUE fields separated by tabs.
    static func rows() throws -> [Metadata] {
        try lines("rows.txt").map { line in
            Metadata(line.split(separator: "\t").map { field in
                let eq = field.firstIndex(of: "=")!
                let name = String(field[..<eq])
                let kind = field[field.index(after: eq)]
                let text = String(field[field.index(eq, offsetBy: 3)...])
                let value: MetadataValue
                switch kind {
                case "s": value = .string(text)
                case "i": value = .integer(Int64(text)!)
                case "d": value = .double(Double(text)!)
                case "b": value = .bool(text == "true")
                default: value = .strings(text.isEmpty ? [] : text.split(separator: "|").map(String.init))
                }
                return (name: name, value: value)
            })
        }
    }

    static let expectations: [String: FilterExpectation] = [
        "condition": .condition, "comparison": .comparison, "value": .value, "string": .string,
        "openingParenthesis": .openingParenthesis, "closingParenthesis": .closingParenthesis,
        "commaOrClosingParenthesis": .commaOrClosingParenthesis, "and": .and, "null": .null,
        "inAfterNot": .inAfterNot, "andOrEnd": .andOrEnd, "closingQuote": .closingQuote, "escape": .escape,
        "digit": .digit, "finiteNumber": .finiteNumber, "shallowerNesting": .shallowerNesting,
        "shorterFilter": .shorterFilter, "fewerValues": .fewerValues,
    ]

    @Test("The shared corpus: every filter matches its rows or fails at its column")
    func corpus() throws {
        let rows = try Self.rows()
        #expect(rows.count == 10)
        var seen = Set<String>()
        let lines = try Self.lines("corpus.txt")
        #expect(lines.count > 90)
        for line in lines {
            let tab = line.firstIndex(of: "\t")!
            let expect = line[..<tab].split(separator: " ")
            let text = String(line[line.index(after: tab)...])
            switch expect[0] {
            case "match":
                let wanted = expect[1] == "-" ? [] : expect[1].split(separator: ",").map { Int($0)! }
                let filter = try Filter(text)
                let got = rows.indices.filter { filter.matches(rows[$0]) }
                #expect(got == wanted, "\(text)")
            default:
                let column = Int(expect[1])!, name = String(expect[2])
                let expected = try #require(Self.expectations[name], "unknown expectation \(name)")
                seen.insert(name)
                #expect(throws: EdgeVecError.invalidFilter(column: column, expected: expected), "\(text)") {
                    try Filter(text)
                }
            }
        }
        // Every error but the two size limits (tested below, too long for a corpus line) has a corpus line.
        #expect(seen.union(["shorterFilter", "fewerValues"]) == Set(Self.expectations.keys))
    }

    @Test("Size limits: filter bytes and IN values")
    func limits() throws {
        let values = (0..<FilterLimits.inValues).map(String.init).joined(separator: ",")
        _ = try Filter("x IN (\(values))")
        let prefix = "x IN (" + values + ","
        #expect(throws: EdgeVecError.invalidFilter(column: prefix.count + 1, expected: .fewerValues)) {
            try Filter(prefix + "1)")
        }
        let long = "x = \"" + String(repeating: "a", count: FilterLimits.bytes) + "\""
        #expect(throws: EdgeVecError.invalidFilter(column: FilterLimits.bytes + 1, expected: .shorterFilter)) {
            try Filter(long)
        }
        let deep = String(repeating: "NOT ", count: FilterLimits.nesting) + "x = 1"
        _ = try Filter(deep)
        #expect(throws: EdgeVecError.invalidFilter(column: 4 * FilterLimits.nesting + 1, expected: .shallowerNesting)) {
            try Filter("NOT " + deep)
        }
    }

    @Test("Numbers: integers exact to 2⁵³ − 1, doubles correctly rounded on the fast path")
    func numbers() {
        func parse(_ s: String) -> ParsedNumber? {
            Array(s.utf8).withUnsafeBufferPointer { ParsedNumber.parse($0) }
        }
        #expect(parse("0") == .integer(0))
        #expect(parse("-0") == .integer(0))
        #expect(parse("007") == .integer(7))
        #expect(parse("+42") == .integer(42))
        #expect(parse("9007199254740991") == .integer(9_007_199_254_740_991))
        #expect(parse("-9007199254740991") == .integer(-9_007_199_254_740_991))
        #expect(parse("9007199254740992") == .double(9_007_199_254_740_992))
        #expect(parse("1.0") == .double(1))
        for text in ["0.1", "0.3", "3.14159", "1e22", "1e-22", "123.456e-7", "2.5E+3", "0.000001", "199.99",
                     "4503599627370495", "1e-400", "-2.5"] {
            #expect(parse(text)?.doubleValue == Double(text)!, "\(text)")
        }
        // Off the fast path: within a relative 1e-15 of the correctly rounded value.
        for text in ["123456789012345678901234567890", "1.5e300", "2.2250738585072014e-308", "9.87654321e-200",
                     "4503599627370495.5", "1.7976931348623157e308"] {
            let got = parse(text)!.doubleValue, want = Double(text)!
            #expect(abs(got - want) <= abs(want) * 1e-15, "\(text): \(got) vs \(want)")
        }
        for bad in ["", "-", "1.", ".5", "1e", "1e+", "1x", "--1", "1e400"] { #expect(parse(bad) == nil, "\(bad)") }
    }

    // MARK: Round trip

    /// Random filters, printed with random keyword case and spacing, parse back to the same tree
    /// (the printer puts every AND/OR term and NOT operand in parentheses, which add no node).
    @Test("Random filters print and parse back to the same tree")
    func roundTrip() throws {
        var seeded = TestRandom(seed: 2026)
        for _ in 0..<2_000 {
            let node = Self.randomNode(&seeded, depth: 0)
            let text = Self.print(node, &seeded)
            let parsed = try Filter(text).root
            #expect(parsed == node, "\(text)")
        }
    }

    static let fields = ["a", "b_2", "x.y", "Section", "_k"]
    static let strings = ["", "games", "é\"\\", "日本", "a b"]

    static func randomLiteral(_ g: inout TestRandom, strings: [String], small: Bool) -> FilterLiteral {
        switch Int.random(in: 0..<5, using: &g) {
        case 0: return .string(Array(strings.randomElement(using: &g)!.utf8))
        case 1:
            let bound = small ? 4 : MetadataValue.maxInteger
            return .number(.integer(Int64.random(in: -bound...bound, using: &g)))
        case 2: return .number(.double((small ? [-1.5, 0.5, 2, 2.5] : [0.5, -1.25, 1e-3, 2.5e10, 199.99])
            .randomElement(using: &g)!))
        default: return .bool(Bool.random(using: &g))
        }
    }

    /// A random tree over `fields`, with string literals from `strings`;
    /// `small`: numbers near the ones FilteredSearchTests stores, so that they match.
    static func randomNode(_ g: inout TestRandom, depth: Int, fields: [String] = fields,
                           strings: [String] = strings, small: Bool = false) -> FilterNode {
        let field = Array(fields.randomElement(using: &g)!.utf8)
        let kind = depth > 4 ? Int.random(in: 3..<9, using: &g) : Int.random(in: 0..<9, using: &g)
        func sub() -> FilterNode { randomNode(&g, depth: depth + 1, fields: fields, strings: strings, small: small) }
        func literal() -> FilterLiteral { randomLiteral(&g, strings: strings, small: small) }
        switch kind {
        case 0: return .and((0..<Int.random(in: 2...3, using: &g)).map { _ in sub() })
        case 1: return .or((0..<Int.random(in: 2...3, using: &g)).map { _ in sub() })
        case 2: return .not(sub())
        case 3:
            let op = [FilterComparison.equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual]
                .randomElement(using: &g)!
            return .compare(field: field, op, literal())
        case 4: return .isIn(field: field, (0..<Int.random(in: 1...4, using: &g)).map { _ in literal() },
                             negated: Bool.random(using: &g))
        case 5: return .between(field: field, literal(), literal())
        case 6: return .contains(field: field, Array(strings.randomElement(using: &g)!.utf8))
        default: return .isNull(field: field, negated: Bool.random(using: &g))
        }
    }

    static func keyword(_ word: String, _ g: inout TestRandom) -> String {
        switch Int.random(in: 0..<3, using: &g) {
        case 0: return word.uppercased()
        case 1: return word.lowercased()
        default: return word.prefix(1).uppercased() + word.dropFirst().lowercased()
        }
    }

    static func space(_ g: inout TestRandom) -> String { [" ", "  ", "\t", "\n ", "\r\n"].randomElement(using: &g)! }

    static func print(_ literal: FilterLiteral, _ g: inout TestRandom) -> String {
        switch literal {
        case .string(let bytes):
            return "\"" + String(decoding: bytes, as: UTF8.self)
                .replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .number(.integer(let x)): return String(x)
        case .number(.double(let x)): return "\(x)"
        case .bool(let b): return keyword(b ? "true" : "false", &g)
        }
    }

    static func print(_ node: FilterNode, _ g: inout TestRandom) -> String {
        let s = space(&g)
        switch node {
        case .and(let terms):
            return terms.map { "(" + print($0, &g) + ")" }.joined(separator: s + keyword("and", &g) + s)
        case .or(let terms):
            return terms.map { "(" + print($0, &g) + ")" }.joined(separator: s + keyword("or", &g) + s)
        case .not(let inner): return keyword("not", &g) + " (" + print(inner, &g) + ")"
        case .compare(let field, let op, let literal):
            let symbol = ["=", "!=", "<", "<=", ">", ">="][Int(op.rawValue)]
            return String(decoding: field, as: UTF8.self) + s + symbol + s + print(literal, &g)
        case .isIn(let field, let literals, let negated):
            return String(decoding: field, as: UTF8.self) + s + (negated ? keyword("not", &g) + s : "")
                + keyword("in", &g) + s + "(" + literals.map { print($0, &g) }.joined(separator: "," + s) + ")"
        case .between(let field, let low, let high):
            return String(decoding: field, as: UTF8.self) + s + keyword("between", &g) + s + print(low, &g) + s
                + keyword("and", &g) + s + print(high, &g)
        case .contains(let field, let string):
            return String(decoding: field, as: UTF8.self) + s + keyword("contains", &g) + s + print(.string(string), &g)
        case .isNull(let field, let negated):
            return String(decoding: field, as: UTF8.self) + s + keyword("is", &g) + s
                + (negated ? keyword("not", &g) + s : "") + keyword("null", &g)
        }
    }

    // MARK: Metadata

    @Test("Metadata validation: names, duplicates, numbers, sizes")
    func metadataValidation() {
        let good: Metadata = ["section": "games", "size": 120, "ratio": 0.5, "free": true, "tags": ["a", "b"]]
        #expect(good.validate() == nil)
        #expect(good["size"] == .integer(120) && good["absent"] == nil)
        for name in ["", "1a", "a-b", "and", "NULL", "é", String(repeating: "a", count: MetadataLimits.nameBytes + 1)] {
            #expect(Metadata([(name: name, value: .bool(true))]).validate() == .invalidFieldName(name), "\(name)")
        }
        #expect(Metadata([(name: "a", value: 1), (name: "a", value: 2)]).validate() == .duplicateField("a"))
        #expect(Metadata([(name: "n", value: .integer(MetadataValue.maxInteger + 1))]).validate()
            == .invalidNumber(field: "n"))
        #expect(Metadata([(name: "n", value: .double(.nan))]).validate() == .invalidNumber(field: "n"))
        #expect(Metadata([(name: "n", value: .double(-.infinity))]).validate() == .invalidNumber(field: "n"))
        #expect(Metadata([(name: "s", value: .string(String(repeating: "x", count: MetadataLimits.stringBytes + 1)))])
            .validate() == .tooLarge(field: "s"))
        #expect(Metadata([(name: "l", value: .strings(Array(repeating: "x", count: MetadataLimits.listCount + 1)))])
            .validate() == .tooLarge(field: "l"))
        #expect(MetadataProblem.tooLarge(field: "l").message == "field \"l\" is over its size limit (a string "
            + "\(MetadataLimits.stringBytes) bytes, a list \(MetadataLimits.listCount) strings, a vector's metadata "
            + "\(MetadataLimits.totalBytes) bytes)")
        let many = Metadata((0...MetadataLimits.fieldsPerVector).map { (name: "f\($0)", value: MetadataValue.bool(true)) })
        #expect(many.validate() == .tooManyFields(MetadataLimits.fieldsPerVector + 1))
        let big = Metadata((0..<20).map {
            (name: "f\($0)", value: MetadataValue.string(String(repeating: "x", count: MetadataLimits.stringBytes)))
        })
        #expect(big.validate() == .tooLarge(field: "f15"))
    }
}
