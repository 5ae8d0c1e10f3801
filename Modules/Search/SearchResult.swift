/// One neighbour of a query: its id (0-based, in insertion order) and its
/// distance under the index metric. Results come sorted by ascending distance.
public struct SearchResult: Equatable, Sendable {
    public var id: Int
    public var distance: Float

    public init(id: Int, distance: Float) {
        self.id = id
        self.distance = distance
    }
}
