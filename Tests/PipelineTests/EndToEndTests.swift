import Capture
import Classifier
import CoreTypes
import FaceDetect
import Foundation
import XCTest
@testable import Pipeline

/// The product as users meet it: the built executable on real video, and the live path.
final class EndToEndTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = try EndToEnd.temporaryFolder()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    private func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Checks the annotated video and CSV of one `annotate` run against its input.
    private func checkAnnotation(input: String, frames: Int, video: String, csv: String,
                                 minFaceFrames: Int, onePerson: Bool) throws {
        let (inInfo, _) = try EndToEnd.decodeAll(input)
        let (outInfo, outFrames) = try EndToEnd.decodeAll(video)
        XCTAssertEqual(outFrames, frames, "annotated video keeps every frame")
        XCTAssertEqual(outInfo.width, inInfo.width)
        XCTAssertEqual(outInfo.height, inInfo.height)
        XCTAssertEqual(outInfo.frameRate, inInfo.frameRate, accuracy: 0.01)

        let rows = try EndToEnd.readCSV(csv)
        XCTAssertEqual(rows.first?.prefix(16).joined(separator: ","), EndToEnd.header)
        let body = rows.dropFirst()
        XCTAssertTrue(body.allSatisfy { $0.count == rows[0].count }, "every row is complete")
        let framesWithFaces = Set(body.map { $0[0] })
        XCTAssertGreaterThanOrEqual(framesWithFaces.count, minFaceFrames)
        for row in body {
            let probabilities = row[8..<15].compactMap(Double.init)
            XCTAssertEqual(probabilities.count, 7)
            XCTAssertEqual(probabilities.reduce(0, +), 1, accuracy: 2e-3, "probabilities of \(row[0]) sum to 1")
            let top = probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0
            XCTAssertEqual(row[15], Emotion(rawValue: top)?.name, "emotion column is the top probability")
        }
        if onePerson {
            // The person is the big face; MTCNN (the reference too) may add a small false
            // positive now and then, which must not take the person's id.
            let person = body.filter { (Double($0[5]) ?? 0) >= 60 }
            XCTAssertEqual(Set(person.map { $0[2] }).count, 1, "one person keeps one face_id")
            XCTAssertEqual(person.count, frames, "the person is found once in every frame")
        }
    }

    func testAnnotateTheEmbeddedSample() throws {
        let input = path("sample.mp4")
        try EndToEnd.makeSample(at: input, frames: 40)
        let result = try EndToEnd.run(["annotate", input, "-o", path("out.mp4"), "--csv", path("out.csv"), "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        try checkAnnotation(input: input, frames: 40, video: path("out.mp4"), csv: path("out.csv"),
                            minFaceFrames: 40, onePerson: true)
    }

    func testAnnotateWoman2() throws {
        let input = try EndToEnd.sharedMedia("woman2.mp4")
        let result = try EndToEnd.run(["annotate", input, "-o", path("woman2.mp4"), "--csv", path("woman2.csv"), "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        try checkAnnotation(input: input, frames: 464, video: path("woman2.mp4"), csv: path("woman2.csv"),
                            minFaceFrames: 460, onePerson: true)
    }

    func testAnImageGivesAnAnnotatedImage() throws {
        let input = EndToEnd.repoRoot.appendingPathComponent("Tests/Fixtures/astronaut.png").path
        let result = try EndToEnd.run(["annotate", input, "-o", path("out.png"), "--csv", path("out.csv"), "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let (info, frames) = try EndToEnd.decodeAll(path("out.png"))
        XCTAssertEqual(frames, 1)
        XCTAssertEqual(info.width, 512)
        XCTAssertEqual(try EndToEnd.readCSV(path("out.csv")).count, 2, "header and the astronaut's face")
    }

    func testUnwritableOutputFailsBeforeAnyWork() throws {
        let input = path("sample.mp4")
        try EndToEnd.makeSample(at: input, frames: 5)
        let result = try EndToEnd.run(["annotate", input, "-o", "/nonexistent-dir/out.mp4", "--quiet"])
        XCTAssertNotEqual(result.status, 0)
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("/nonexistent-dir/out.mp4"), result.stderr)
    }

    func testMissingInputIsOneLineNamingIt() throws {
        let result = try EndToEnd.run(["log", path("missing.mp4"), "--csv", path("x.csv")])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("missing.mp4"), result.stderr)
    }

    func testOptionsOutOfRangeAreRefusedByTheParser() throws {
        for args in [["--min-face", "0"], ["--scale-factor", "1.5"], ["--thresholds", "0.6,2,0.7"], ["--max-frames", "-3"]] {
            let result = try EndToEnd.run(["log", "whatever.mp4"] + args)
            XCTAssertNotEqual(result.status, 0, "\(args)")
            XCTAssertTrue(result.stderr.contains(args[0]), "\(args): \(result.stderr)")
        }
    }

    func testLogWritesCSVToStandardOutput() throws {
        let input = path("sample.mp4")
        try EndToEnd.makeSample(at: input, frames: 10)
        let result = try EndToEnd.run(["log", input, "--csv", "-", "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n")
        XCTAssertTrue(lines.first?.hasPrefix(EndToEnd.header) ?? false)
        XCTAssertEqual(lines.count, 11)
    }

    /// SIGINT in the middle of `annotate`: a playable video and a complete CSV for the frames done.
    func testInterruptLeavesValidOutputs() throws {
        let input = path("long.mp4")
        try EndToEnd.makeSample(at: input, frames: 400)
        let csv = path("int.csv"), video = path("int.mp4")
        let status = try EndToEnd.annotateAndInterrupt([input, "-o", video], csv: csv)
        XCTAssertEqual(status, 130, "interrupted runs exit 130")

        let rows = try EndToEnd.readCSV(csv)
        XCTAssertEqual(rows.first?.prefix(16).joined(separator: ","), EndToEnd.header)
        XCTAssertTrue(rows.allSatisfy { $0.count == rows[0].count }, "no half-written row")
        let (_, frames) = try EndToEnd.decodeAll(video)
        XCTAssertGreaterThan(frames, 0)
        XCTAssertLessThan(frames, 400)
        let lastCSVFrame = rows.dropFirst().compactMap { Int($0[0]) }.max() ?? -1
        XCTAssertEqual(frames, lastCSVFrame + 1, "video and CSV cover the same frames")
    }
}

/// The real detector, slowed down: stands for a machine that cannot keep up.
private struct SlowDetector: FaceDetecting {
    let inner: FaceDetecting
    let delay: Double
    func detect(in frame: Frame) throws -> [Face] {
        Thread.sleep(forTimeInterval: delay)
        return try inner.detect(in: frame)
    }
}

final class LiveModeTests: XCTestCase {
    func testLiveDropsStaleFramesInsteadOfFallingBehind() throws {
        let dir = try EndToEnd.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("sample.mp4").path
        try EndToEnd.makeSample(at: input, frames: 50)   // 2 s at 25 fps
        let detector = SlowDetector(inner: try MTCNN(searching: nil), delay: 0.15)
        let classifier = try EmotionClassifier()
        let csv = dir.appendingPathComponent("live.csv").path

        var options = PipelineOptions()
        options.mode = .live
        let live = Pipeline(source: try VideoFileSource(path: input), detector: detector, classifier: classifier,
                            sinks: [try CSVSink(path: csv)], options: options, realtime: true)
        let summary = try live.run()
        XCTAssertGreaterThan(summary.dropped, 10, "a detector at ~6 fps cannot keep up with 25 fps")
        XCTAssertLessThan(summary.frames, 30)
        XCTAssertEqual(summary.frames + summary.dropped, 50, "every frame is either processed or counted as dropped")
        // Latency stays near one inference time instead of growing with the backlog.
        let p95 = try XCTUnwrap(summary.latencyPercentile(0.95))
        XCTAssertLessThan(p95, 0.6)
        // The whole clip took about its own duration, not frames x delay.
        XCTAssertLessThan(summary.seconds, 3.5)

        options.mode = .file
        let file = Pipeline(source: try VideoFileSource(path: input), detector: detector, classifier: classifier,
                            sinks: [], options: options)
        let all = try file.run()
        XCTAssertEqual(all.frames, 50, "file mode processes every frame")
        XCTAssertEqual(all.dropped, 0)
    }
}
