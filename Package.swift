// swift-tools-version:6.0
import PackageDescription

// Release builds compile the hot loops (convolution, resampling, NMS) without bounds checks or
// preconditions; the code that feeds them validates sizes once, up front. Debug builds, which
// the test suite runs, are optimised (-O: the end-to-end tests run real video through the
// detector) but keep every check, so an out-of-bounds access traps instead of reading garbage.
let fastMath: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
    .unsafeFlags(["-O"], .when(configuration: .debug)),
]

let package = Package(
    name: "fer-live",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "fer-live", targets: ["fer-live"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // The HTTP server behind `--serve`: small (two modules, no further dependencies), so a
        // clean CI build stays short; async sockets with back-pressure for streamed responses.
        .package(url: "https://github.com/swhitty/FlyingFox", exact: "0.27.1"),
    ],
    targets: [
        // C libraries, bound through pkg-config.
        .systemLibrary(
            name: "CFFmpeg", path: "Sources/CFFmpeg", pkgConfig: "libavformat",
            providers: [.apt(["libavcodec-dev", "libavformat-dev", "libswscale-dev", "libavutil-dev"])]),
        .systemLibrary(
            name: "CV4L2", path: "Sources/CV4L2", pkgConfig: "libv4l2",
            providers: [.apt(["libv4l-dev"])]),
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),

        // Hand-written dense kernels (direct convolution, pooling) for NeuralNet, C at -O3 with
        // per-CPU clones (AVX-512 / AVX2 / baseline) picked at load time.
        .target(name: "CKernels", path: "Sources/CKernels", cSettings: [.unsafeFlags(["-O3"])]),

        // Stages, in the order a frame goes through them.
        .target(name: "Capture", dependencies: ["CFFmpeg", "CV4L2"], exclude: ["README.md"], swiftSettings: fastMath),
        .target(name: "NeuralNet", dependencies: ["COpenBLAS", "CKernels"], exclude: ["README.md"], swiftSettings: fastMath),
        .target(name: "FaceDetect", dependencies: ["NeuralNet", "Capture", "CKernels"], exclude: ["README.md"], swiftSettings: fastMath),
        .target(name: "Classifier", dependencies: ["NeuralNet", "FaceDetect", "Capture"], exclude: ["README.md"], swiftSettings: fastMath),
        .target(name: "Pipeline", dependencies: ["Capture", "NeuralNet", "FaceDetect", "Classifier"], exclude: ["README.md"], swiftSettings: fastMath),
        // The local web page (`--serve`): only the command line depends on the server.
        .target(name: "LiveView", dependencies: ["Pipeline", "Capture", "Classifier",
                                                 .product(name: "FlyingFox", package: "FlyingFox")],
                exclude: ["README.md"]),
        .executableTarget(
            name: "fer-live",
            dependencies: [
                "Pipeline", "Capture", "FaceDetect", "Classifier", "NeuralNet", "LiveView",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),

        .testTarget(name: "CaptureTests", dependencies: ["Capture"]),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet"]),
        .testTarget(name: "FaceDetectTests", dependencies: ["FaceDetect", "Capture"]),
        .testTarget(name: "ClassifierTests", dependencies: ["Classifier", "FaceDetect", "Capture"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Capture", "FaceDetect", "Classifier"]),
        .testTarget(name: "LiveViewTests", dependencies: ["LiveView", "Pipeline", "Capture", "Classifier", "FaceDetect"]),
    ]
)
