// Fuzz target `filter`: the filter parser on arbitrary bytes (docs/FUZZING.md).
//
// Each input is filter text. Parsing must not trap or read out of bounds
// (ASan), and must either
//  - throw `invalidFilter` with a column in 1...(Unicode scalars of the
//    input + 1), the column counting only lead bytes; or
//  - give a tree that prints (canonically, below) to text that parses to the
//    same tree (doubles within 1e-14 relative: the number reader is exact only
//    on its fast path), and that evaluates without trapping, and the same
//    way as the reparsed tree, on fixed metadata rows of every type.
// `-write_seeds=DIR` writes the seed corpus and exits.
#if canImport(Glibc)
import EdgeVecFilter
import EdgeVecSearch
import Glibc

@_cdecl("LLVMFuzzerTestOneInput")
public func filterTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = UnsafeBufferPointer(start: data, count: size)
    let filter: Filter
    do throws(EdgeVecError) {
        filter = try Filter(utf8: text)
    } catch {
        guard case .invalidFilter(let column, _) = error else { fail("parse threw \(error.message)") }
        let scalars = text.reduce(0) { $0 + ($1 & 0xC0 != 0x80 ? 1 : 0) }
        check(column >= 1 && column <= scalars + 1, "error column \(column) of \(scalars) scalars")
        return 0
    }
    let printed = canonical(filter.root)
    let again: Filter
    do throws(EdgeVecError) {
        again = try printed.withUnsafeBufferPointer { (bytes) throws(EdgeVecError) in try Filter(utf8: bytes) }
    } catch {
        fail("printed filter does not parse: \(error.message): \(String(decoding: printed, as: UTF8.self))")
    }
    check(same(filter.root, again.root), "print and parse changed the tree: \(String(decoding: printed, as: UTF8.self))")
    for row in rows { check(filter.matches(row) == again.matches(row), "reparsed filter evaluates differently") }
    #if FUZZ_PLANTED_BUG
    // The self-check (Fuzz/run.sh): a condition on the field "FUZZ", which a comparison-guided
    // build finds from the seeds' four-letter fields in seconds. (A function of its own, so
    // that SanitizerCoverage traces the comparison.)
    if case .compare(let field, _, _) = filter.root, field.count == 4,
       isPlanted(field.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }) {
        fail("planted bug reached (FUZZ_PLANTED_BUG)")
    }
    #endif
    return 0
}

#if FUZZ_PLANTED_BUG
@inline(never) func isPlanted(_ bits: UInt32) -> Bool { bits == 0x5A5A_5546 }
#endif

/// Metadata of every type, with the field names the seeds use.
let rows: [Metadata] = [
    ["size": 120, "section": "games", "free": true, "tags": ["a", "b"], "ratio": 0.5],
    ["size": .double(120), "section": "été", "free": false, "tags": []],
    ["size": "big", "ratio": -1e300],
    [:],
    ["size": .integer(MetadataValue.maxInteger), "section": "", "tags": ["日本"]],
]

// MARK: Canonical printing

func canonical(_ node: FilterNode) -> [UInt8] {
    var out: [UInt8] = []
    write(node, into: &out)
    return out
}

func write(_ node: FilterNode, into out: inout [UInt8]) {
    func text(_ s: String) { out += Array(s.utf8) }
    func group(_ terms: [FilterNode], _ word: String) {
        for (i, term) in terms.enumerated() {
            if i > 0 { text(" \(word) ") }
            text("(")
            write(term, into: &out)
            text(")")
        }
    }
    switch node {
    case .and(let terms): group(terms, "AND")
    case .or(let terms): group(terms, "OR")
    case .not(let inner):
        text("NOT (")
        write(inner, into: &out)
        text(")")
    case .compare(let field, let op, let literal):
        out += field
        text([" = ", " != ", " < ", " <= ", " > ", " >= "][Int(op.rawValue)])
        write(literal, into: &out)
    case .isIn(let field, let literals, let negated):
        out += field
        text(negated ? " NOT IN (" : " IN (")
        for (i, literal) in literals.enumerated() {
            if i > 0 { text(", ") }
            write(literal, into: &out)
        }
        text(")")
    case .between(let field, let low, let high):
        out += field
        text(" BETWEEN ")
        write(low, into: &out)
        text(" AND ")
        write(high, into: &out)
    case .contains(let field, let string):
        out += field
        text(" CONTAINS ")
        write(.string(string), into: &out)
    case .isNull(let field, let negated):
        out += field
        text(negated ? " IS NOT NULL" : " IS NULL")
    }
}

func write(_ literal: FilterLiteral, into out: inout [UInt8]) {
    switch literal {
    case .string(let bytes):
        out.append(UInt8(ascii: "\""))
        for b in bytes {
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
            out.append(b)
        }
        out.append(UInt8(ascii: "\""))
    case .number(.integer(let x)): out += Array(String(x).utf8)
    case .number(.double(let x)): out += Array("\(x)".utf8)
    case .bool(let b): out += Array((b ? "TRUE" : "FALSE").utf8)
    }
}

/// Tree equality with doubles compared to 1e-14 relative (integers and everything else exactly).
func same(_ a: FilterNode, _ b: FilterNode) -> Bool {
    switch (a, b) {
    case (.and(let x), .and(let y)), (.or(let x), .or(let y)):
        return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
    case (.not(let x), .not(let y)): return same(x, y)
    case (.compare(let f, let o, let l), .compare(let g, let p, let m)): return f == g && o == p && same(l, m)
    case (.isIn(let f, let l, let n), .isIn(let g, let m, let o)):
        return f == g && n == o && l.count == m.count && zip(l, m).allSatisfy { same($0, $1) }
    case (.between(let f, let l, let h), .between(let g, let m, let i)): return f == g && same(l, m) && same(h, i)
    default: return a == b
    }
}

func same(_ a: FilterLiteral, _ b: FilterLiteral) -> Bool {
    if case .number(.double(let x)) = a, case .number(.double(let y)) = b {
        return x == y || abs(x - y) <= 1e-14 * max(abs(x), abs(y))
    }
    return a == b
}

// MARK: Seeds

@_cdecl("LLVMFuzzerInitialize")
public func filterInitialize(_ argc: UnsafeMutablePointer<CInt>?,
                             _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    writeSeedsIfAsked(argc, argv, writeFilterSeeds)
}

/// Every production and a few errors, with the rows' field names.
func writeFilterSeeds(_ dir: String) {
    let seeds = [
        #"section = "games""#, #"size != 120"#, #"size < -1.5e3"#, #"size <= 9007199254740991"#, #"ratio > 0.5"#,
        #"ratio >= 1E-3"#, #"section IN ("a", "été", "日本")"#, #"size NOT IN (1, 2.5, TRUE, "x")"#,
        #"size BETWEEN 100 AND 200"#, #"tags CONTAINS "a""#, #"tags IS NULL"#, #"free IS NOT NULL"#,
        #"free = true AND NOT (size > 1 OR section = "x\"y\\z")"#, #"((a = 1)) or b.c_d = false"#,
        #"not not size = +7"#, #"section = "unterminated"#, #"size = 1e400"#, #"size IN ()"#, #"tags IS 1"#,
        "section\t=\r\n\"games\"",
    ]
    for (i, seed) in seeds.enumerated() { writeFile("\(dir)/seed-\(i)", Array(seed.utf8)) }
}
#endif
