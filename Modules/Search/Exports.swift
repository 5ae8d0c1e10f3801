// EdgeVecSearch's API is made of EdgeVecFormat's types too (`Metric`,
// `IndexFormat`, `EdgeVecError.Corruption`), so importing EdgeVecSearch
// brings them, as before they had a module of their own.
@_exported import EdgeVecFormat
