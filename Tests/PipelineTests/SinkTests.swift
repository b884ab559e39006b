import Capture
import Classifier
import CoreTypes
import FaceDetect
import Foundation
import XCTest
@testable import Pipeline

final class SinkTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("fer-sinks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    private func result(_ index: Int, faces: Int) -> FrameResult {
        let tracked = (0..<faces).map { i in
            TrackedFace(id: i, face: Face(box: Box(x: Float(10 + 60 * i), y: 20, width: 50, height: 55), score: 0.98,
                                          landmarks: (0..<5).map { Point(x: Float($0), y: Float($0)) }),
                        scores: EmotionScores(probabilities: [0.05, 0.05, 0.05, 0.6, 0.1, 0.05, 0.1]))
        }
        return FrameResult(frameIndex: index, time: Double(index) / 25, faces: tracked)
    }

    func testCSVHasTheContractHeaderAndOneRowPerFace() throws {
        let path = dir.appendingPathComponent("out.csv").path
        let sink = try CSVSink(path: path)
        let frame = Frame(width: 4, height: 4)
        try sink.consume(result(0, faces: 2), frame: frame)
        try sink.consume(result(1, faces: 0), frame: frame)
        try sink.consume(result(2, faces: 1), frame: frame)
        // Rows are on disk before finish(), under the temporary name beside the output: an
        // interrupted run keeps them. The output path itself appears only when the run ends.
        let before = try String(contentsOfFile: OutputFile(path).writePath, encoding: .utf8)
        XCTAssertEqual(before.split(separator: "\n").count, 4)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        try sink.finish()
        XCTAssertFalse(FileManager.default.fileExists(atPath: OutputFile(path).writePath), "moved, not copied")

        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0].split(separator: ",").prefix(16).joined(separator: ","),
                       "frame,time_s,face_id,x,y,width,height,score,angry,disgust,fear,happy,sad,surprise,neutral,emotion")
        XCTAssertEqual(lines.count, 1 + 3)
        let cols = lines[3].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(cols[0], "2")
        XCTAssertEqual(Double(cols[1]) ?? -1, 0.08, accuracy: 1e-9)
        XCTAssertEqual(cols[15], "happy")
        let probs = cols[8..<15].compactMap(Double.init)
        XCTAssertEqual(probs.count, 7)
        XCTAssertEqual(probs.reduce(0, +), 1, accuracy: 1e-3)
    }

    func testUnwritableOutputFailsBeforeAnyWork() {
        XCTAssertThrowsError(try CSVSink(path: "/nonexistent-folder/out.csv")) { error in
            XCTAssertTrue(String(describing: error).contains("/nonexistent-folder/out.csv"))
        }
    }

    func testFullDiskIsAnErrorNamingTheFile() throws {
        guard FileManager.default.fileExists(atPath: "/dev/full") else { throw XCTSkip("no /dev/full here") }
        // The header or the first rows hit the full disk: either way an error that names the file.
        XCTAssertThrowsError(try CSVSink(path: "/dev/full").consume(result(0, faces: 3), frame: Frame(width: 2, height: 2))) { error in
            XCTAssertTrue(String(describing: error).contains("/dev/full"), String(describing: error))
        }
    }

    func testJSONLinesParse() throws {
        let path = dir.appendingPathComponent("out.jsonl").path
        let sink = try JSONLinesSink(path: path)
        try sink.consume(result(3, faces: 2), frame: Frame(width: 2, height: 2))
        try sink.finish()
        let line = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")[0]
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        XCTAssertEqual(object?["frame"] as? Int, 3)
        let faces = object?["faces"] as? [[String: Any]]
        XCTAssertEqual(faces?.count, 2)
        XCTAssertEqual(faces?[1]["emotion"] as? String, "happy")
        XCTAssertEqual((faces?[1]["box"] as? [Double])?.first ?? -1, 70, accuracy: 1e-6)
    }

    /// One schema: a face in `log`/`live` JSON lines is `detect`'s face plus the emotion fields,
    /// with the same values for what both have; frames without faces are written too.
    func testJSONLinesFacesExtendDetectsFaces() throws {
        let r = result(7, faces: 1)
        let full = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(JSONLinesSink.line(r).utf8)) as? [String: Any])
        let bare = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(
            DetectionJSON.line(frame: 7, time: r.time, faces: r.faces.map(\.face)).utf8)) as? [String: Any])
        let f = try XCTUnwrap((full["faces"] as? [[String: Any]])?.first)
        let d = try XCTUnwrap((bare["faces"] as? [[String: Any]])?.first)
        XCTAssertEqual(Set(f.keys), Set(d.keys).union(["face_id", "emotion", "confidence", "probabilities"]))
        XCTAssertEqual(f["box"] as? [Double], d["box"] as? [Double])
        XCTAssertEqual(f["score"] as? Double, d["score"] as? Double)
        XCTAssertEqual(f["landmarks"] as? [[Double]], d["landmarks"] as? [[Double]])
        XCTAssertEqual(full["time_s"] as? Double, bare["time_s"] as? Double)

        let path = dir.appendingPathComponent("every.jsonl").path
        let sink = try JSONLinesSink(path: path)
        for i in 0..<3 { try sink.consume(result(i, faces: i == 1 ? 0 : 1), frame: Frame(width: 2, height: 2)) }
        try sink.finish()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 3, "a frame without faces is a line with an empty list")
        XCTAssertTrue(lines[1].hasSuffix(#""faces":[]}"#), String(lines[1]))
    }

    func testLogLineNamesTimeIdLabelAndConfidence() {
        XCTAssertEqual(LogSink.line(result(50, faces: 1)), "00:00:02.000 frame 50  #0 happy 60%")
    }
}
