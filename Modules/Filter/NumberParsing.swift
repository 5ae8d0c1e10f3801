/// A number as the filter grammar and the metadata TSV loader read it:
/// optional sign, digits, optional fraction (`.` digits) and exponent
/// (`e`/`E`, optional sign, digits). Parsed from bytes without libc or
/// Foundation, so natively and in wasm alike.
package enum ParsedNumber: Equatable, Sendable {
    /// Digits only, within ±(2⁵³ − 1).
    case integer(Int64)
    /// Anything else that is finite. Exact (correctly rounded) when the
    /// digits form an integer ≤ 2⁵³ and the decimal exponent is within ±22,
    /// as in every realistic literal; otherwise within a few ulps.
    case double(Double)

    package var doubleValue: Double {
        switch self {
        case .integer(let x): return Double(x)
        case .double(let x): return x
        }
    }
}

/// Powers of ten that Double holds exactly.
private let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

extension ParsedNumber {
    /// Why `scan` stopped.
    package enum Failure: Error, Equatable, Sendable {
        /// A digit was expected at this byte offset.
        case digitExpected(at: Int)
        /// The number is too large for a double.
        case notFinite
    }

    /// Reads a number starting at `start`; returns it and the offset after
    /// it. Reads the longest prefix that fits the grammar; the caller checks
    /// what follows.
    @_optimize(size)
    package static func scan(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int)
        -> Result<(ParsedNumber, end: Int), Failure> {
        var i = start
        var negative = false
        if i < bytes.count && (bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+")) {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        var mantissa: UInt64 = 0
        var significant = 0          // digits kept in the mantissa
        var exponent = 0             // decimal exponent applied to the mantissa
        var exact = true             // no significant digit dropped
        var digits = 0
        func take(_ d: UInt8, fraction: Bool) {
            if mantissa == 0 && d == 0 {
                if fraction { exponent -= 1 }
                return
            }
            if significant < 19 {
                // Wrapping: 19 digits stay below 10¹⁹ < 2⁶⁴, and a checked
                // 64-bit multiply needs compiler-rt's __multi3 on wasm32.
                mantissa = mantissa &* 10 &+ UInt64(d)
                significant += 1
                if fraction { exponent -= 1 }
            } else {
                if d != 0 { exact = false }
                if !fraction { exponent += 1 }
            }
        }
        while i < bytes.count, let d = digit(bytes[i]) {
            take(d, fraction: false)
            digits += 1
            i += 1
        }
        if digits == 0 { return .failure(.digitExpected(at: i)) }
        var integral = true
        if i < bytes.count && bytes[i] == UInt8(ascii: ".") {
            integral = false
            i += 1
            var fractionDigits = 0
            while i < bytes.count, let d = digit(bytes[i]) {
                take(d, fraction: true)
                fractionDigits += 1
                i += 1
            }
            if fractionDigits == 0 { return .failure(.digitExpected(at: i)) }
        }
        if i < bytes.count && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
            integral = false
            i += 1
            var negativeExponent = false
            if i < bytes.count && (bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+")) {
                negativeExponent = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            var value = 0
            var exponentDigits = 0
            while i < bytes.count, let d = digit(bytes[i]) {
                if value < 100_000 { value = value * 10 + Int(d) }   // beyond: infinite or zero anyway
                exponentDigits += 1
                i += 1
            }
            if exponentDigits == 0 { return .failure(.digitExpected(at: i)) }
            exponent += negativeExponent ? -value : value
        }
        if integral && exact && exponent == 0 && mantissa <= UInt64(MetadataValue.maxInteger) {
            let value = Int64(mantissa)
            return .success((.integer(negative ? -value : value), i))
        }
        let magnitude = scaled(mantissa, exponent)
        guard magnitude.isFinite else { return .failure(.notFinite) }
        return .success((.double(negative ? -magnitude : magnitude), i))
    }

    /// The whole of `bytes` as a number, or nil (the TSV loader's test).
    @_optimize(size)
    package static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> ParsedNumber? {
        guard case .success(let (number, end)) = scan(bytes, from: 0), end == bytes.count else { return nil }
        return number
    }

    private static func digit(_ byte: UInt8) -> UInt8? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? byte - UInt8(ascii: "0") : nil
    }

    /// mantissa × 10^exponent: exact in the common case (Clinger's fast path).
    private static func scaled(_ mantissa: UInt64, _ exponent: Int) -> Double {
        if mantissa == 0 { return 0 }
        let m = Double(mantissa)
        if mantissa <= 1 << 53 && exponent >= -22 && exponent <= 22 {
            return exponent >= 0 ? m * exactPowersOfTen[exponent] : m / exactPowersOfTen[-exponent]
        }
        var value = m
        var e = exponent
        while e > 22 {
            value *= 1e22
            e -= 22
            if !value.isFinite { return value }
        }
        while e < -22 {
            value /= 1e22
            e += 22
            if value == 0 { return 0 }
        }
        return e >= 0 ? value * exactPowersOfTen[e] : value / exactPowersOfTen[-e]
    }
}
