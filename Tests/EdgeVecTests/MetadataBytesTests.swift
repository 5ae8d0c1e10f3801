@testable import EdgeVecFilter
import EdgeVec
import Testing

/// `MetadataBytes.check` (binary metadata checked as bytes: the C ABI's and
/// the loader's path) against `Metadata.validate()` (the `String` path):
/// the same problem, field for field, on random metadata and on damaged forms.
@Suite("Metadata as bytes")
struct MetadataBytesTests {
    static let names = ["a", "b", "size", "x.y", "_z", "AND", "null", "1a", "a b", "", "été",
                        String(repeating: "n", count: 64), String(repeating: "n", count: 65)]
    static let strings = ["", "games", "été", "日本", String(repeating: "s", count: 4096), String(repeating: "é", count: 2048),
                          String(repeating: "s", count: 4097), String(repeating: "é", count: 2049)]
    static let integers: [Int64] = [0, -7, MetadataValue.maxInteger, -MetadataValue.maxInteger,
                                    MetadataValue.maxInteger + 1, Int64.min]
    static let doubles: [Double] = [0.5, -0.0, 1e308, .nan, .infinity, -.infinity]

    static func metadata(_ r: inout TestRandom) -> Metadata {
        var fields: [(name: String, value: MetadataValue)] = []
        let count = r.below(8) == 0 ? 60 + r.below(8) : r.below(6)
        for _ in 0..<count {
            let name = r.below(10) == 0 ? "f\(r.below(100))" : names[r.below(names.count)]
            let value: MetadataValue
            switch r.below(5) {
            case 0: value = .string(strings[r.below(strings.count)])
            case 1: value = .integer(integers[r.below(integers.count)])
            case 2: value = .double(doubles[r.below(doubles.count)])
            case 3: value = .bool(r.below(2) == 0)
            default: value = .strings((0 ..< (r.below(6) != 0 ? r.below(4) : [40, 256, 257][r.below(3)])).map { _ in strings[r.below(strings.count)] })
            }
            fields.append((name: name, value: value))
        }
        return Metadata(fields)
    }

    static func check(_ form: [UInt8]) -> MetadataProblem? {
        form.withUnsafeBytes { bytes in
            do throws(MetadataBytesProblem) {
                let used = try MetadataBytes.check(bytes)
                return used == bytes.count ? nil : .malformed(offset: used)
            } catch {
                return error.problem(form: bytes)
            }
        }
    }

    @Test("Random metadata: the byte check finds what validate() finds")
    func randomMetadata() {
        var r = TestRandom(seed: 21)
        var problems = Set<String>()
        for _ in 0..<3_000 {
            let m = Self.metadata(&r)
            let expected = m.validate()
            #expect(Self.check(m.encoded()) == expected, "\(m.fields.map(\.name))")
            if let expected { problems.insert(expected.message.prefix(12).description) }
        }
        #expect(problems.count >= 5, "every kind of problem came up: \(problems)")
    }

    /// The fields of a form at the start of `form` whose structure is sound,
    /// read without the semantic checks (names, duplicates, numbers, string
    /// and list sizes),
    /// for `validate()`, and the form's length.
    static func lenient(_ form: [UInt8]) -> (Metadata, Int)? {
        var at = 0
        func u8() -> Int? { at < form.count ? Int(form[(at, at += 1).0]) : nil }
        func take(_ n: Int) -> [UInt8]? { n <= form.count - at ? Array(form[(at, at += n).0 ..< at]) : nil }
        func int(_ n: Int) -> UInt64? { take(n).map { $0.reversed().reduce(0) { $0 << 8 | UInt64($1) } } }
        func string() -> String? {
            guard let n = int(4), let b = take(Int(n)) else { return nil }
            return String(validating: b, as: UTF8.self)
        }
        guard let count = u8(), count <= 64 else { return nil }
        var fields: [(name: String, value: MetadataValue)] = []
        for _ in 0..<count {
            guard let n = u8(), let nameBytes = take(n), let name = String(validating: nameBytes, as: UTF8.self),
                  let tag = u8() else { return nil }
            switch tag {
            case 1: guard let s = string() else { return nil }; fields.append((name, .string(s)))
            case 2: guard let x = int(8) else { return nil }; fields.append((name, .integer(Int64(bitPattern: x))))
            case 3: guard let x = int(8) else { return nil }; fields.append((name, .double(Double(bitPattern: x))))
            case 4: guard let b = u8(), b <= 1 else { return nil }; fields.append((name, .bool(b == 1)))
            case 5:
                guard let n = int(2) else { return nil }
                var list: [String] = []
                for _ in 0..<n { guard let s = string() else { return nil }; list.append(s) }
                fields.append((name, .strings(list)))
            default: return nil
            }
        }
        return (Metadata(fields), at)
    }

    @Test("Damaged forms: malformed exactly when the structure breaks, else validate()'s problem")
    func damagedForms() {
        var r = TestRandom(seed: 7)
        var sound = 0
        for _ in 0..<5_000 {
            let m = Self.metadata(&r)
            guard m.fields.count <= 64,
                  m.fields.allSatisfy({ $0.name.utf8.count <= 255 }) else { continue }
            var form = m.encoded()
            for _ in 0 ... r.below(3) {
                switch r.below(4) {
                case 0: form[r.below(form.count)] = UInt8(r.below(256))
                case 1: form[r.below(form.count)] ^= 1 << UInt8(r.below(8))
                case 2: form.removeLast(min(form.count - 1, 1 + r.below(4)))
                default: form.append(UInt8(r.below(256)))
                }
            }
            let got = Self.check(form)
            if let (reference, used) = Self.lenient(form) {
                sound += 1
                // As Metadata(encoded:): the form's problem first, then bytes left over.
                let expected = reference.validate() ?? (used == form.count ? nil : .malformed(offset: used))
                #expect(got == expected, "\(form.prefix(64))")
            } else {
                guard case .malformed? = got else {
                    // A field count over its limit is reported as such, not as malformed.
                    if case .tooManyFields? = got { continue }
                    Issue.record("unsound form accepted or misreported: \(String(describing: got)) \(form.prefix(64))")
                    continue
                }
            }
        }
        #expect(sound > 500)
    }

    @Test("UTF-8 validity agrees with String(validating:)")
    func utf8() {
        var r = TestRandom(seed: 3)
        for _ in 0..<20_000 {
            let bytes = (0 ..< r.below(6)).map { _ in UInt8(r.below(4) == 0 ? r.below(256) : 0x80 + r.below(0x80)) }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            #expect(bytes.withUnsafeBytes { _isValidUTF8($0) } == expected, "\(bytes)")
        }
    }
}
