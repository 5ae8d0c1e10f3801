@_exported import EdgeVecSearch
