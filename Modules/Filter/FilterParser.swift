import EdgeVecAllocators

// The filter language: a recursive-descent parser over UTF-8 bytes.
//
//   expr    := or
//   or      := and ( OR and )*
//   and     := unary ( AND unary )*
//   unary   := NOT unary | "(" expr ")" | cond
//   cond    := field op value | field [NOT] IN "(" value ( "," value )* ")"
//            | field BETWEEN value AND value | field CONTAINS string
//            | field IS [NOT] NULL
//   op      := "=" | "!=" | "<" | "<=" | ">" | ">="
//   value   := string | number | TRUE | FALSE
//   string  := '"' characters, with \" and \\ escapes '"'
//   number  := optional sign, digits, optional fraction and exponent
//   field   := [A-Za-z_][A-Za-z0-9_.]*
//
// Keywords are case-insensitive and reserved (not field names). Whitespace
// (space, tab, CR, LF) separates tokens. Bytes, not `String`: no Unicode
// tables in the wasm module; columns count Unicode scalars (UTF-8 lead bytes).

/// Where a filter stops parsing and what the parser expected there.
public struct FilterSyntaxError: Error, Equatable, Sendable {
    /// 1-based, in Unicode scalars of the filter text.
    public let column: Int
    /// What would have been accepted at `column`.
    public let expected: FilterExpectation
}

/// What the parser expected where it stopped.
public enum FilterExpectation: UInt8, Equatable, Sendable, CustomStringConvertible {
    case condition, comparison, value, string, openingParenthesis, closingParenthesis, commaOrClosingParenthesis,
         and, null, inAfterNot, andOrEnd, closingQuote, escape, digit, finiteNumber, shallowerNesting,
         shorterFilter, fewerValues

    public var description: String { String(writing: write) }

    /// Writes `description`.
    @_optimize(size)
    public func write(to m: inout MessageBuffer) {
        switch self {
        case .condition: m.text("a condition (a field name, NOT or \"(\")")
        case .comparison: m.text("=, !=, <, <=, >, >=, IN, NOT IN, BETWEEN, CONTAINS or IS")
        case .value: m.text("a value (a string, a number, TRUE or FALSE)")
        case .string: m.text("a string")
        case .openingParenthesis: m.text("\"(\"")
        case .closingParenthesis: m.text("\")\"")
        case .commaOrClosingParenthesis: m.text("\",\" or \")\"")
        case .and: m.text("AND")
        case .null: m.text("NULL or NOT NULL")
        case .inAfterNot: m.text("IN")
        case .andOrEnd: m.text("AND, OR or the end of the filter")
        case .closingQuote: m.text("a closing '\"'")
        case .escape: m.text("\\\" or \\\\ after a backslash")
        case .digit: m.text("a digit")
        case .finiteNumber: m.text("a number within the range of a double")
        case .shallowerNesting:
            m.text("at most ")
            m.number(FilterLimits.nesting)
            m.text(" nested NOTs and parentheses")
        case .shorterFilter:
            m.text("a filter of at most ")
            m.number(FilterLimits.bytes)
            m.text(" bytes")
        case .fewerValues:
            m.text("at most ")
            m.number(FilterLimits.inValues)
            m.text(" values in an IN list")
        }
    }
}

/// Sizes a filter may have.
public enum FilterLimits {
    /// Bytes of filter text (UTF-8).
    public static let bytes = 65_536
    /// NOTs and parentheses nested in one another.
    public static let nesting = 64
    /// Values in one IN list.
    public static let inValues = 4_096
}

/// A literal of the filter text.
package enum FilterLiteral: Equatable, Sendable {
    case string([UInt8])
    case number(ParsedNumber)
    case bool(Bool)
}

/// A parsed filter.
package indirect enum FilterNode: Equatable, Sendable {
    case and([FilterNode])
    case or([FilterNode])
    case not(FilterNode)
    case compare(field: [UInt8], FilterComparison, FilterLiteral)
    case isIn(field: [UInt8], [FilterLiteral], negated: Bool)
    case between(field: [UInt8], FilterLiteral, FilterLiteral)
    case contains(field: [UInt8], [UInt8])
    case isNull(field: [UInt8], negated: Bool)
}

package enum FilterComparison: UInt8, Equatable, Sendable {
    case equal, notEqual, less, lessOrEqual, greater, greaterOrEqual
}

enum FilterKeyword: UInt8 {
    case and, or, not, `in`, between, contains, `is`, null, `true`, `false`
}

/// Tokens and the byte classes of the grammar.
enum FilterLexer {
    static let keywords: [(StaticString, FilterKeyword)] = [
        ("and", .and), ("or", .or), ("not", .not), ("in", .in), ("between", .between), ("contains", .contains),
        ("is", .is), ("null", .null), ("true", .true), ("false", .false),
    ]

    static func isFieldStart(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || b == UInt8(ascii: "_")
    }

    static func isFieldByte(_ b: UInt8) -> Bool {
        isFieldStart(b) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: ".")
    }

    static func keyword<C: Collection>(_ word: C) -> FilterKeyword? where C.Element == UInt8 {
        // (StaticString bytes, not `String.utf8`: the wasm module then needs
        // no String views for it.)
        let n = word.count
        for (text, keyword) in keywords where text.utf8CodeUnitCount == n {
            // ASCII lower-casing: letters only reach here (field bytes).
            var i = 0
            var same = true
            for b in word where same {
                same = text.utf8Start[i] == b | 0x20
                i += 1
            }
            if same { return keyword }
        }
        return nil
    }

    /// A valid field name: the grammar's `field`, not a keyword, at most
    /// `MetadataLimits.nameBytes` bytes.
    static func isFieldName<C: Collection>(_ name: C) -> Bool where C.Element == UInt8 {
        guard let first = name.first, isFieldStart(first), name.count <= MetadataLimits.nameBytes,
              name.allSatisfy(isFieldByte) else { return false }
        return keyword(name) == nil
    }
}

/// The parser: one token of lookahead over the bytes.
struct FilterParser {
    enum Token: Equatable {
        case field(Range<Int>)
        case keyword(FilterKeyword)
        case string([UInt8])
        case number(ParsedNumber)
        case comparison(FilterComparison)
        case open, close, comma, end
        /// A byte that starts no token.
        case unexpected
    }

    let text: UnsafeBufferPointer<UInt8>
    var position = 0            // start of `token`
    var next = 0                // first byte after `token`
    var token = Token.end
    var depth = 0

    init(_ text: UnsafeBufferPointer<UInt8>) {
        self.text = text
    }

    /// The 1-based column of byte `offset`: Unicode scalars before it, plus one.
    func column(_ offset: Int) -> Int {
        var scalars = 0
        for i in 0..<min(offset, text.count) where text[i] & 0xC0 != 0x80 { scalars += 1 }
        return scalars + 1
    }

    func failure(_ expected: FilterExpectation, at offset: Int? = nil) -> FilterSyntaxError {
        FilterSyntaxError(column: column(offset ?? position), expected: expected)
    }

    @_optimize(size)
    static func parse(_ text: UnsafeBufferPointer<UInt8>) throws(FilterSyntaxError) -> FilterNode {
        var parser = FilterParser(text)
        if text.count > FilterLimits.bytes { throw parser.failure(.shorterFilter, at: FilterLimits.bytes) }
        try parser.advance()
        let node = try parser.parseOr()
        if parser.token != .end { throw parser.failure(.andOrEnd) }
        return node
    }

    /// Reads the token after the current one.
    @_optimize(size)
    mutating func advance() throws(FilterSyntaxError) {
        var i = next
        while i < text.count, text[i] == 0x20 || text[i] == 0x09 || text[i] == 0x0A || text[i] == 0x0D { i += 1 }
        position = i
        guard i < text.count else {
            token = .end
            next = i
            return
        }
        let b = text[i]
        switch b {
        case UInt8(ascii: "("): token = .open; next = i + 1
        case UInt8(ascii: ")"): token = .close; next = i + 1
        case UInt8(ascii: ","): token = .comma; next = i + 1
        case UInt8(ascii: "="): token = .comparison(.equal); next = i + 1
        case UInt8(ascii: "!"):
            if i + 1 < text.count && text[i + 1] == UInt8(ascii: "=") {
                token = .comparison(.notEqual)
                next = i + 2
            } else {
                token = .unexpected
                next = i + 1
            }
        case UInt8(ascii: "<"), UInt8(ascii: ">"):
            let orEqual = i + 1 < text.count && text[i + 1] == UInt8(ascii: "=")
            token = .comparison(b == UInt8(ascii: "<") ? (orEqual ? .lessOrEqual : .less)
                                                       : (orEqual ? .greaterOrEqual : .greater))
            next = i + (orEqual ? 2 : 1)
        case UInt8(ascii: "\""):
            var bytes: [UInt8] = []
            var j = i + 1
            while true {
                guard j < text.count else { throw failure(.closingQuote, at: j) }
                let c = text[j]
                if c == UInt8(ascii: "\"") { break }
                if c == UInt8(ascii: "\\") {
                    guard j + 1 < text.count, text[j + 1] == UInt8(ascii: "\"") || text[j + 1] == UInt8(ascii: "\\")
                    else { throw failure(.escape, at: j + 1) }
                    bytes.append(text[j + 1])
                    j += 2
                } else {
                    bytes.append(c)
                    j += 1
                }
            }
            token = .string(bytes)
            next = j + 1
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            switch ParsedNumber.scan(text, from: i) {
            case .success(let (number, end)):
                token = .number(number)
                next = end
            case .failure(.digitExpected(let at)): throw failure(.digit, at: at)
            case .failure(.notFinite): throw failure(.finiteNumber, at: i)
            }
        default:
            guard FilterLexer.isFieldStart(b) else {
                token = .unexpected
                next = i + 1
                return
            }
            var j = i + 1
            while j < text.count && FilterLexer.isFieldByte(text[j]) { j += 1 }
            token = FilterLexer.keyword(UnsafeBufferPointer(rebasing: text[i..<j])).map { .keyword($0) } ?? .field(i..<j)
            next = j
        }
    }

    @_optimize(size)
    mutating func parseOr() throws(FilterSyntaxError) -> FilterNode {
        var terms = [try parseAnd()]
        while token == .keyword(.or) {
            try advance()
            terms.append(try parseAnd())
        }
        return terms.count == 1 ? terms[0] : .or(terms)
    }

    @_optimize(size)
    mutating func parseAnd() throws(FilterSyntaxError) -> FilterNode {
        var terms = [try parseUnary()]
        while token == .keyword(.and) {
            try advance()
            terms.append(try parseUnary())
        }
        return terms.count == 1 ? terms[0] : .and(terms)
    }

    @_optimize(size)
    mutating func parseUnary() throws(FilterSyntaxError) -> FilterNode {
        switch token {
        case .keyword(.not):
            try nest()
            try advance()
            let inner = try parseUnary()
            depth -= 1
            return .not(inner)
        case .open:
            try nest()
            try advance()
            let inner = try parseOr()
            guard token == .close else { throw failure(.closingParenthesis) }
            try advance()
            depth -= 1
            return inner
        case .field(let range):
            try advance()
            return try parseCondition(Array(text[range]))
        default:
            throw failure(.condition)
        }
    }

    mutating func nest() throws(FilterSyntaxError) {
        depth += 1
        if depth > FilterLimits.nesting { throw failure(.shallowerNesting) }
    }

    @_optimize(size)
    mutating func parseCondition(_ field: [UInt8]) throws(FilterSyntaxError) -> FilterNode {
        switch token {
        case .comparison(let op):
            try advance()
            return .compare(field: field, op, try parseValue())
        case .keyword(.in):
            try advance()
            return .isIn(field: field, try parseList(), negated: false)
        case .keyword(.not):
            try advance()
            guard token == .keyword(.in) else { throw failure(.inAfterNot) }
            try advance()
            return .isIn(field: field, try parseList(), negated: true)
        case .keyword(.between):
            try advance()
            let low = try parseValue()
            guard token == .keyword(.and) else { throw failure(.and) }
            try advance()
            return .between(field: field, low, try parseValue())
        case .keyword(.contains):
            try advance()
            guard case .string(let s) = token else { throw failure(.string) }
            try advance()
            return .contains(field: field, s)
        case .keyword(.is):
            try advance()
            var negated = false
            if token == .keyword(.not) {
                negated = true
                try advance()
            }
            guard token == .keyword(.null) else { throw failure(.null) }
            try advance()
            return .isNull(field: field, negated: negated)
        default:
            throw failure(.comparison)
        }
    }

    @_optimize(size)
    mutating func parseValue() throws(FilterSyntaxError) -> FilterLiteral {
        let literal: FilterLiteral
        switch token {
        case .string(let s): literal = .string(s)
        case .number(let x): literal = .number(x)
        case .keyword(.true): literal = .bool(true)
        case .keyword(.false): literal = .bool(false)
        default: throw failure(.value)
        }
        try advance()
        return literal
    }

    @_optimize(size)
    mutating func parseList() throws(FilterSyntaxError) -> [FilterLiteral] {
        guard token == .open else { throw failure(.openingParenthesis) }
        try advance()
        var values = [try parseValue()]
        while token == .comma {
            try advance()
            if values.count == FilterLimits.inValues { throw failure(.fewerValues) }
            values.append(try parseValue())
        }
        guard token == .close else { throw failure(.commaOrClosingParenthesis) }
        try advance()
        return values
    }
}
