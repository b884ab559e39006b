// swift-tools-version:6.0
import Foundation
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
        // Overlay text: FreeType rasterises a system font that fontconfig finds.
        .systemLibrary(
            name: "CFreeType", path: "Sources/CFreeType", pkgConfig: "freetype2",
            providers: [.apt(["libfreetype-dev", "libfontconfig-dev"])]),
        // JPEG photos: libjpeg-turbo with its defaults decodes the pixels Pillow gives.
        .systemLibrary(
            name: "CTurboJPEG", path: "Sources/CTurboJPEG", pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),

        // Hand-written dense kernels (direct convolution, pooling) for NeuralNet, C at -O3 with
        // per-CPU clones (AVX-512 / AVX2 / baseline) picked at load time.
        .target(name: "CKernels", path: "Sources/CKernels", cSettings: [.unsafeFlags(["-O3"])]),

        // The values the stages pass on (faces, boxes, emotion scores), and the thread policy
        // (work spread over the cores with Dispatch): no dependencies.
        .target(name: "CoreTypes", exclude: ["README.md"]),
        .target(name: "Parallel", exclude: ["README.md"], swiftSettings: fastMath),

        // Stages, in the order a frame goes through them.
        .target(name: "Capture", dependencies: ["CFFmpeg", "CV4L2", "CTurboJPEG"], exclude: ["README.md"], swiftSettings: fastMath),
        .target(name: "NeuralNet", dependencies: ["Parallel", "COpenBLAS", "CKernels"], exclude: ["README.md"], swiftSettings: fastMath),
        .target(name: "FaceDetect", dependencies: ["CoreTypes", "Parallel", "NeuralNet", "Capture", "CKernels"], exclude: ["README.md"], swiftSettings: fastMath),
        .target(name: "Classifier", dependencies: ["CoreTypes", "NeuralNet", "Capture"], exclude: ["README.md"], swiftSettings: fastMath),
        .target(name: "Pipeline", dependencies: ["CoreTypes", "Parallel", "Capture", "FaceDetect", "Classifier", "CFreeType"], exclude: ["README.md"], swiftSettings: fastMath),
        // The local web page (`--serve`): only the command line depends on the server.
        .target(name: "LiveView", dependencies: ["CoreTypes", "Pipeline", "Capture", "Classifier",
                                                 .product(name: "FlyingFox", package: "FlyingFox")],
                exclude: ["README.md"]),
        // Measurement, outside the product libraries: what `fer-live bench` and
        // `measure-framing` run (clocks, medians, the detector's profile).
        .target(name: "Benchmarks", dependencies: ["CoreTypes", "Capture", "FaceDetect", "Classifier"],
                exclude: ["README.md"]),
        .executableTarget(
            name: "fer-live",
            dependencies: [
                "CoreTypes", "Parallel", "Pipeline", "Capture", "FaceDetect", "Classifier", "NeuralNet", "LiveView", "Benchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),

        // The parsers of untrusted bytes as fuzz harnesses (`make fuzz`); the regression tests
        // replay the saved inputs through them.
        .target(name: "FuzzHarnesses", dependencies: ["Classifier", "NeuralNet"], path: "Fuzz/Harnesses"),
        // Paths, shared data, temporary folders and reference decodes for every test target.
        .target(name: "TestSupport", dependencies: ["Capture", "NeuralNet"], path: "Tests/TestSupport"),
        .testTarget(name: "CaptureTests", dependencies: ["Capture", "TestSupport"]),
        .testTarget(name: "NeuralNetTests", dependencies: ["TestSupport", "NeuralNet", "Parallel"]),
        .testTarget(name: "FaceDetectTests", dependencies: ["TestSupport", "CoreTypes", "FaceDetect", "Capture", "Benchmarks"]),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzHarnesses", "TestSupport"]),
        .testTarget(name: "ClassifierTests", dependencies: ["TestSupport", "CoreTypes", "Classifier", "FaceDetect", "Capture"]),
        .testTarget(name: "PipelineTests", dependencies: ["TestSupport", "CoreTypes", "Pipeline", "Capture", "FaceDetect", "Classifier"]),
        .testTarget(name: "LiveViewTests", dependencies: ["TestSupport", "CoreTypes", "LiveView", "Pipeline", "Capture", "Classifier", "FaceDetect"]),
        // Opt-in timings of layers and detector parts (each skips unless its variable is set).
        .testTarget(name: "PerformanceTests", dependencies: ["TestSupport", "Benchmarks", "Capture", "NeuralNet", "FaceDetect", "CKernels"]),
    ]
)

// libFuzzer executables, one per harness: only with FER_LIVE_FUZZ set (`make fuzz` builds them
// with -sanitize=fuzzer,address; libFuzzer supplies `main`, so they do not link otherwise).
if ProcessInfo.processInfo.environment["FER_LIVE_FUZZ"] != nil {
    for name in ["safetensors", "model-json", "fer-csv"] {
        package.targets.append(.executableTarget(
            name: "fuzz-\(name)", dependencies: ["FuzzHarnesses"], path: "Fuzz/Entry/\(name)",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
    }
}
