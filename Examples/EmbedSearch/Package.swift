// swift-tools-version: 6.2
//
// An example client of EdgeVec that uses only the products it needs
// (EdgeVecStorage and EdgeVecSearch) instead of the umbrella `EdgeVec`.
//   swift run -c release embed-search
import PackageDescription

let package = Package(
    name: "EmbedSearch",
    products: [
        .executable(name: "embed-search", targets: ["EmbedSearch"]),
    ],
    dependencies: [
        .package(name: "EdgeVec", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "EmbedSearch",
            dependencies: [
                .product(name: "EdgeVecSearch", package: "EdgeVec"),
                .product(name: "EdgeVecStorage", package: "EdgeVec"),
            ]
        ),
    ]
)
