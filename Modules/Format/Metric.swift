/// How distance between two vectors is measured. Smaller is closer for all three.
/// The raw values are the header's metric field (`IndexFormat`).
public enum Metric: UInt32, Sendable, CaseIterable {
    /// Squared Euclidean distance: Σ (aᵢ − bᵢ)².
    case l2 = 0
    /// 1 − cosine similarity. Vectors are normalised on insert, so a scaled
    /// copy of a vector is at distance 0; the zero vector is rejected.
    case cosine = 1
    /// Negative inner product: −Σ aᵢ·bᵢ.
    case dot = 2

    /// The name used on the command line and in the JS API.
    public var name: String {
        switch self {
        case .l2: return "l2"
        case .cosine: return "cosine"
        case .dot: return "dot"
        }
    }

    /// Parses `l2`, `cosine` or `dot`.
    public init?(name: String) {
        switch name {
        case "l2": self = .l2
        case "cosine": self = .cosine
        case "dot": self = .dot
        default: return nil
        }
    }
}
