/// One neighbour of a query: its id (the caller's, or the one `add`
/// assigned: 0, 1, 2, … when the caller never gives one) and its distance
/// under the index metric. Results come sorted by ascending distance.
public struct SearchResult: Equatable, Sendable {
    public var id: UInt64
    public var distance: Float

    public init(id: UInt64, distance: Float) {
        self.id = id
        self.distance = distance
    }
}
