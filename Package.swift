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
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // libavformat/libavcodec/libavutil/libswscale/libswresample through pkg-config, with a small C shim for macros.
        .systemLibrary(name: "CFFmpeg", pkgConfig: "libavformat libavcodec libavutil libswscale libswresample",
                       providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswscale-dev", "libswresample-dev"])]),
        // The scene pass's pixel kernels (plane difference, luma downscale, picture bounds, plane rotation): plain C
        // loops, optimised in debug builds too, or the scene pass of a debug build would be bound by them.
        .target(name: "CSceneKernels", cSettings: [.unsafeFlags(["-O2"], .when(configuration: .debug))]),
        // The FFmpeg overlay: the only importer of CFFmpeg. Each libav object has one Swift owner and one release
        // path; borrowed C memory is lent inside closures; failures are `LibavError` (code and function).
        .target(name: "EncodaFFmpeg", dependencies: ["CFFmpeg"]),
        // The SVT-AV1 encoder C API.
        .systemLibrary(name: "CSvtAv1", pkgConfig: "SvtAv1Enc", providers: [.apt(["libsvtav1enc-dev"])]),
        // The x264 C API (its open function is a versioned macro, wrapped in the shim).
        .systemLibrary(name: "CX264", pkgConfig: "x264", providers: [.apt(["libx264-dev"])]),
        // zlib, for its fast CRC-32.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Plain values and pure logic: frame index, cuts, plans, manifests, results, errors, checksums. No I/O on media.
        // Optimised in debug builds too: unoptimised, the SSIMULACRA 2 kernels (SIMD) run about 100 times slower,
        // and the tests and the debug binary score real frames with them.
        // swift-log's levels and labels are set here (`EncodaLog`), so every target logs through the same threshold.
        .target(name: "EncodaModel", dependencies: ["CZlib", .product(name: "Yams", package: "Yams"), .product(name: "Logging", package: "swift-log")],
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // Process-level platform calls Swift's Glibc module does not reach (mallopt, sync_file_range). Used only by
        // EncodaSystem.
        .target(name: "CPlatform"),
        // The one file-system funnel (one EINTR and one ESTALE policy, errors that carry operation, path and errno),
        // atomic files and JSON coding, and the process-memory policy. Used by Media and Jobs alike.
        .target(name: "EncodaSystem", dependencies: [
            "EncodaModel", "CPlatform", .product(name: "SystemPackage", package: "swift-system"),
        ]),
        // The SVT-AV1 and x264 overlays: the only importer of CSvtAv1 and CX264. Encoder, configuration, named errors,
        // the libraries' logging through swift-log.
        .target(name: "EncodaCodecs", dependencies: ["EncodaModel", "CSvtAv1", "CX264", .product(name: "Logging", package: "swift-log")]),
        // Everything that touches pixels: scene pass, chunk encode (through EncodaCodecs), concat, audio (libav only
        // through EncodaFFmpeg: no CFFmpeg here, so the compiler proves nothing in Media touches C).
        .target(name: "EncodaMedia", dependencies: ["EncodaModel", "EncodaSystem", "EncodaCodecs", "EncodaFFmpeg", "CSceneKernels"]),
        // The shared-directory protocol: layout, leases, worker loop, coordinator. No codec code.
        .target(name: "EncodaJobs", dependencies: ["EncodaModel", "EncodaSystem"]),
        // The HTTP job service (`encoda serve`): JSON API v1, job queue, auth, path safety, the web page at /, /metrics,
        // webhooks. Runs each job as an `encoda` child process; no codec code. The OpenAPI document (docs/openapi.json)
        // and the web page (Web/) are compiled in.
        .target(name: "EncodaServer", dependencies: [
            "EncodaModel", "EncodaSystem", "EncodaJobs",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], resources: [
            .embedInCode("openapi.json"),
            .embedInCode("Web/web-page.html"), .embedInCode("Web/web-page.js"), .embedInCode("Web/web-page.css"),
        ]),
        // The composition root of a job, above Media and Jobs: the coordinator (plan, local worker pool, mux, join,
        // cleanup) and the worker's run loop. Takes an `EncodeRequest`; reports through the front end's observer.
        .target(name: "EncodaPipeline", dependencies: ["EncodaModel", "EncodaSystem", "EncodaMedia", "EncodaJobs"]),
        // Command-line commands and option parsing: builds the request, reports.
        .target(name: "EncodaCLI", dependencies: [
            "EncodaModel", "EncodaSystem", "EncodaCodecs", "EncodaMedia", "EncodaJobs", "EncodaPipeline", "EncodaServer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Entry point only.
        .executableTarget(name: "encoda", dependencies: ["EncodaCLI"]),
        .testTarget(name: "EncodaModelTests", dependencies: ["EncodaModel", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "EncodaCodecsTests", dependencies: ["EncodaCodecs", "EncodaModel"]),
        .testTarget(name: "EncodaSystemTests", dependencies: ["EncodaSystem", "EncodaModel"]),
        .testTarget(name: "EncodaJobsTests", dependencies: ["EncodaJobs", "EncodaModel", "EncodaSystem"]),
        // In-process tests of the Media stages on tiny clips made by ffmpeg.
        .testTarget(name: "EncodaMediaTests", dependencies: ["EncodaMedia", "EncodaFFmpeg", "EncodaModel", "EncodaPipeline"]),
        // The coordinator's pure decisions (worker budget, the 2 s chunk rule) and JobStatus on a TMP made by the protocol code, in process.
        .testTarget(name: "EncodaPipelineTests", dependencies: ["EncodaPipeline", "EncodaJobs", "EncodaSystem", "EncodaModel"]),
        .testTarget(name: "EncodaEndToEndTests", dependencies: ["EncodaModel"]),
    ],
    swiftLanguageModes: [.v6]
)
