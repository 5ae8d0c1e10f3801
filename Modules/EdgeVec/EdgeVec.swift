// The umbrella module: one import for Swift users who want the whole index.
// Packages that embed only some layers depend on those products instead.
@_exported import EdgeVecAllocators
@_exported import EdgeVecFilter
@_exported import EdgeVecFormat
@_exported import EdgeVecGraph
@_exported import EdgeVecSearch
@_exported import EdgeVecStorage
