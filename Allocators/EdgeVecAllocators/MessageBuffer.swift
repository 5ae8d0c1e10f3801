/// Text written as UTF-8 bytes: static pieces, decimal numbers and byte
/// strings, into a caller's buffer (truncated at its capacity) or only
/// counted. Error messages are written through it, once: the C ABI writes
/// them straight into its message buffer, and `String` messages for Swift
/// callers come from the same code (`String(writing:)`). Building them as
/// `String`s with `+` and `String(Int)` cost the Embedded wasm module about
/// 20 KB of code (string growth, UTF-8 views, integer formatting).
public struct MessageBuffer {
    public let base: UnsafeMutablePointer<UInt8>?
    public let capacity: Int
    /// Bytes the text has: written ones, or with a nil base, counted ones
    /// (what a large enough buffer would hold).
    public private(set) var count = 0

    /// Writes into `base` up to `capacity` bytes; a nil `base` only counts.
    public init(_ base: UnsafeMutablePointer<UInt8>?, capacity: Int) {
        self.base = base
        self.capacity = base == nil ? Int.max : capacity
    }

    @inline(__always)
    mutating func put(_ byte: UInt8) {
        if count < capacity { base?[count] = byte }
        count &+= 1
    }

    public mutating func text(_ s: StaticString) {
        let p = s.utf8Start
        for i in 0..<s.utf8CodeUnitCount { put(p[i]) }
    }

    public mutating func bytes(_ b: UnsafeBufferPointer<UInt8>) {
        for byte in b { put(byte) }
    }

    public mutating func number(_ n: UInt64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)   // 20 digits at most, in 24 bytes
        var k = 0
        var rest = n
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[k] = UInt8(truncatingIfNeeded: rest % 10) &+ 48
                rest /= 10
                k &+= 1
            } while rest != 0
            while k > 0 {
                k &-= 1
                put(d[k])
            }
        }
    }

    public mutating func number(_ n: Int64) {
        if n < 0 { put(45) }   // "-"
        number(n.magnitude)
    }

    public mutating func number(_ n: Int) { number(Int64(n)) }
}

extension String {
    /// The text `write` produces (counted first, then written exactly).
    public init(writing write: (inout MessageBuffer) -> Void) {
        var counter = MessageBuffer(nil, capacity: 0)
        write(&counter)
        self.init(unsafeUninitializedCapacity: counter.count) { buffer in
            var m = MessageBuffer(buffer.baseAddress, capacity: buffer.count)
            write(&m)
            return m.count
        }
    }
}
