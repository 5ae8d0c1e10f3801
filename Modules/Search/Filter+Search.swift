import EdgeVecFilter

extension Filter {
    /// Compiles `text` in the filter language (docs/FILTERS.md).
    ///
    ///     let filter = try Filter(#"section = "games" AND installed_size_kib < 200"#)
    ///
    /// - Throws: `invalidFilter(column:expected:)`: the 1-based column (in
    ///   Unicode scalars) where parsing stopped and what was expected there.
    /// - Complexity: O(length of `text`).
    public init(_ text: String) throws(EdgeVecError) {
        do throws(FilterSyntaxError) {
            try self.init(parsing: text)
        } catch {
            throw .invalidFilter(column: error.column, expected: error.expected)
        }
    }

    /// Compiles UTF-8 filter text (C and JavaScript hosts); see `init(_:)`.
    public init(utf8 text: UnsafeBufferPointer<UInt8>) throws(EdgeVecError) {
        do throws(FilterSyntaxError) {
            try self.init(parsing: text)
        } catch {
            throw .invalidFilter(column: error.column, expected: error.expected)
        }
    }
}
