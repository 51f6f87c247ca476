// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "encoda",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "encoda", targets: ["encoda"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // libavformat/libavcodec/libavutil/libswscale/libswresample through pkg-config, with a small C shim for macros.
        .systemLibrary(name: "CFFmpeg", pkgConfig: "libavformat libavcodec libavutil libswscale libswresample",
                       providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswscale-dev", "libswresample-dev"])]),
        // The SVT-AV1 encoder C API.
        .systemLibrary(name: "CSvtAv1", pkgConfig: "SvtAv1Enc", providers: [.apt(["libsvtav1enc-dev"])]),
        // The x264 C API (its open function is a versioned macro, wrapped in the shim).
        .systemLibrary(name: "CX264", pkgConfig: "x264", providers: [.apt(["libx264-dev"])]),
        // zlib, for its fast CRC-32.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Plain values and pure logic: frame index, cuts, plans, manifests, results, errors, checksums. No I/O on media.
        // Optimised in debug builds too: unoptimised, the SSIMULACRA 2 kernels (SIMD) run about 100 times slower,
        // and the tests and the debug binary score real frames with them.
        .target(name: "EncodaModel", dependencies: ["CZlib", .product(name: "Yams", package: "Yams")], swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // Everything that touches pixels: libav overlay, scene pass, encoders, chunk encode, concat.
        .target(name: "EncodaMedia", dependencies: ["EncodaModel", "CFFmpeg", "CSvtAv1", "CX264"]),
        // The shared-directory protocol: layout, atomic files, leases, worker loop, coordinator. No codec code.
        .target(name: "EncodaJobs", dependencies: ["EncodaModel"]),
        // Command-line commands and option parsing.
        .target(name: "EncodaCLI", dependencies: [
            "EncodaModel", "EncodaMedia", "EncodaJobs",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Entry point only.
        .executableTarget(name: "encoda", dependencies: ["EncodaCLI"]),
        .testTarget(name: "EncodaModelTests", dependencies: ["EncodaModel"]),
        .testTarget(name: "EncodaJobsTests", dependencies: ["EncodaJobs", "EncodaModel"]),
        // In-process tests of the Media stages on tiny clips made by ffmpeg.
        .testTarget(name: "EncodaMediaTests", dependencies: ["EncodaMedia", "EncodaModel"]),
        .testTarget(name: "EncodaEndToEndTests", dependencies: ["EncodaModel"]),
    ],
    swiftLanguageModes: [.v5]
)
