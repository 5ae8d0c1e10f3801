import ArgumentParser
import EdgeVec
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Errors

/// A failure caused by the user's input or environment. ArgumentParser prints
/// `Error: <description>` on stderr and exits with status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }

    /// `context: strerror(errno)`, read at the call.
    static func errno(_ context: String) -> CLIError {
        CLIError(context + ": " + errnoText(Glibc.errno))
    }

    /// An index error, with `context` in front and errno spelled out.
    init(_ context: String, _ error: EdgeVecError) {
        self.init(context + ": " + describe(error))
    }
}

func errnoText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}

/// `EdgeVecError.message`, but with I/O errors named by `strerror`.
func describe(_ error: EdgeVecError) -> String {
    if case .io(let code) = error { return errnoText(code) + " (errno \(code))" }
    return error.message
}

/// An index error raised by a one-vector insert, worded for a row of a file
/// (the error's own row/position refer to the one-vector call).
func rowMessage(_ error: EdgeVecError) -> String {
    switch error {
    case .nonFiniteValue(let position):
        return "component \(position) is not finite (NaN or infinity)"
    case .zeroVector:
        return "zero vector, which has no direction under the cosine metric"
    default:
        return describe(error)
    }
}

// MARK: - Argument types

/// `--metric` values. A tool-local enum (rather than conforming `Metric`)
/// keeps ArgumentParser's help text in terms of the names, not raw values.
enum MetricArgument: String, CaseIterable, ExpressibleByArgument {
    case l2, cosine, dot

    init?(argument: String) { self.init(rawValue: argument.lowercased()) }

    var metric: Metric {
        switch self {
        case .l2: return .l2
        case .cosine: return .cosine
        case .dot: return .dot
        }
    }
}

// MARK: - Files

/// The size of the file at `path`, or nil if it cannot be stat'ed.
func fileSize(_ path: String) -> Int? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    return Int(st.st_size)
}

/// Fails early (before a long build or search) when `path` cannot be written:
/// its directory is missing or read-only, or `path` is a directory.
func checkWritable(_ path: String, what: String) throws(CLIError) {
    var st = stat()
    if stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
        throw CLIError("\(what) \(path) is a directory")
    }
    let directory: String
    if let slash = path.lastIndex(of: "/") {
        directory = slash == path.startIndex ? "/" : String(path[..<slash])
    } else {
        directory = "."
    }
    if stat(directory, &st) != 0 { throw CLIError.errno("cannot write \(what) \(path): directory \(directory)") }
    if (st.st_mode & S_IFMT) != S_IFDIR { throw CLIError("cannot write \(what) \(path): \(directory) is not a directory") }
    if access(directory, W_OK) != 0 { throw CLIError.errno("cannot write \(what) \(path): directory \(directory)") }
}

/// Fails when `output` names the same existing file as `input`, which the
/// atomic write would replace.
func checkDistinct(output: String, from input: String, what: String) throws(CLIError) {
    var a = stat()
    var b = stat()
    guard stat(output, &a) == 0, stat(input, &b) == 0 else { return }
    if a.st_dev == b.st_dev && a.st_ino == b.st_ino {
        throw CLIError("refusing to overwrite \(what) \(input) with the output \(output)")
    }
}

/// Checks that an input file exists and is a readable regular file.
func checkReadable(_ path: String, what: String) throws(CLIError) {
    var st = stat()
    if stat(path, &st) != 0 { throw CLIError.errno("cannot open \(what) \(path)") }
    if (st.st_mode & S_IFMT) == S_IFDIR { throw CLIError("\(what) \(path) is a directory, not a file") }
    if access(path, R_OK) != 0 { throw CLIError.errno("cannot read \(what) \(path)") }
}

// MARK: - Time

/// Nanoseconds on the monotonic clock.
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

// MARK: - Output

/// Writes straight to file descriptor 2 (no buffering, no shared C `stderr`).
func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in
        var done = 0
        while done < bytes.count {
            let n = write(2, bytes.baseAddress! + done, bytes.count - done)
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                return
            }
            done += n
        }
    }
}

/// `value` with `digits` digits after the point (no Foundation needed).
func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    guard scaled < 9e18 else { return String(value) }
    let whole = UInt64(scaled)
    let unit = UInt64(scale)
    var text = (value < 0 && whole != 0 ? "-" : "") + String(whole / unit)
    if digits > 0 {
        let fraction = String(whole % unit)
        text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
    return text
}

/// `h:mm:ss` or `m:ss`.
func clockText(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0, seconds < 1e7 else { return "--:--" }
    let s = Int(seconds.rounded())
    let two = { (v: Int) in v < 10 ? "0\(v)" : "\(v)" }
    if s >= 3600 { return "\(s / 3600):\(two(s / 60 % 60)):\(two(s % 60))" }
    return "\(s / 60):\(two(s % 60))"
}

// MARK: - Progress bar

/// A one-line progress bar on stderr, drawn only when stderr is a terminal
/// and not silenced. Redraws at most ten times a second with `\r`; `finish`
/// draws the final state and ends the line.
struct ProgressBar {
    let label: String
    let unit: String
    let total: Int
    let enabled: Bool
    private let start: UInt64
    private let firstDrawAfter: UInt64
    private var lastDraw: UInt64 = 0
    private var drawn = false

    /// - Parameter delay: seconds before the first draw (so that short jobs
    ///   print nothing).
    init(label: String, unit: String, total: Int, quiet: Bool, delay: Double = 0) {
        self.label = label
        self.unit = unit
        self.total = max(total, 0)
        self.enabled = !quiet && isatty(2) == 1
        self.start = monotonicNanoseconds()
        self.firstDrawAfter = UInt64(max(delay, 0) * 1e9)
    }

    /// Call after each unit of work. Cheap when nothing needs drawing.
    @inline(__always)
    mutating func update(_ done: Int, now: UInt64 = monotonicNanoseconds()) {
        guard enabled else { return }
        if drawn ? now &- lastDraw >= 100_000_000 : now &- start >= firstDrawAfter {
            draw(done, now: now)
        }
    }

    /// Draws the final state and a newline (only if anything was drawn, or no
    /// delay was asked for).
    mutating func finish(_ done: Int) {
        guard enabled else { return }
        let now = monotonicNanoseconds()
        if !drawn && now &- start < firstDrawAfter { return }
        draw(done, now: now)
        writeStandardError("\n")
    }

    private mutating func draw(_ done: Int, now: UInt64) {
        drawn = true
        lastDraw = now
        let elapsed = Double(now &- start) / 1e9
        let fraction = total > 0 ? min(Double(done) / Double(total), 1) : 1
        // Too early for a meaningful rate: show placeholders.
        let settled = elapsed >= 0.2 && done > 0
        let rate = settled ? Double(done) / elapsed : 0
        let eta = settled ? Double(total - done) / rate : .infinity
        let width = 24
        let filled = min(Int(fraction * Double(width)), width)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let totalText = String(total)
        let doneText = String(done)
        let padded = String(repeating: " ", count: max(totalText.count - doneText.count, 0)) + doneText
        let percent = fixed(fraction * 100, 1)
        let tail = done >= total ? "elapsed \(clockText(elapsed))" : "ETA \(clockText(eta))"
        // \r back to column 0, ESC[K clears what a longer previous line left.
        writeStandardError("\r\(label) [\(bar)] \(padded)/\(totalText) \(percent)%  "
            + "\(settled ? String(Int(rate.rounded())) : "--") \(unit)/s  \(tail)\u{1B}[K")
    }
}
