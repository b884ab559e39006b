import Capture
import Classifier
import CoreTypes
import FaceDetect
import Foundation
import Pipeline
import XCTest
@testable import LiveView

final class HubTests: XCTestCase {
    private let facts = SourceFacts(name: "clip.mp4", width: 64, height: 48, frameRate: 25, totalFrames: 100, kind: .file)

    /// Frame `i` with one face whose top emotion is happy for even frames and sad for odd ones.
    private func result(_ i: Int) -> FrameResult {
        var p = [Float](repeating: 0.05, count: 7)
        p[i % 2 == 0 ? Emotion.happy.rawValue : Emotion.sad.rawValue] = 0.7
        let face = TrackedFace(id: 3, face: Face(box: Box(x: 4, y: 4, width: 20, height: 20), score: 0.99, landmarks: []),
                               scores: EmotionScores(probabilities: p))
        return FrameResult(frameIndex: i, time: Double(i) / 25, faces: [face])
    }

    private func feed(_ sink: ViewerSink, frames: Range<Int>) throws {
        for i in frames {
            try sink.consume(result(i), frame: Frame(index: i, time: Double(i) / 25, width: 64, height: 48))
            sink.progressed(PipelineProgress(frames: i + 1, faces: i + 1, elapsed: Double(i + 1) / 25, totalFrames: 100,
                                             latency: 0.010 + Double(i % 3) * 0.001, dropped: i / 10))
        }
    }

    func testStatusFollowsTheFramesAndTheEnd() throws {
        let hub = LiveHub(facts: facts)
        let sink = ViewerSink(hub: hub)
        try feed(sink, frames: 0..<40)
        var status = hub.status()
        XCTAssertEqual(status.state, "running")
        XCTAssertEqual(status.frames, 40)
        XCTAssertEqual(status.facesOnScreen, 1)
        XCTAssertEqual(status.dropped, 3)
        XCTAssertEqual(status.fps, 25, accuracy: 0.01)
        XCTAssertEqual(status.latencyMedianMs, 11, accuracy: 0.001)
        XCTAssertEqual(status.emotions["happy"] ?? -1, 0.5, accuracy: 1e-9)
        XCTAssertEqual(status.emotions["sad"] ?? -1, 0.5, accuracy: 1e-9)
        XCTAssertEqual(status.progress ?? -1, 0.4, accuracy: 1e-9)
        XCTAssertEqual(status.etaS ?? -1, 2.4, accuracy: 0.05)  // 60 frames at 25 fps
        try sink.finish()
        status = hub.status()
        XCTAssertEqual(status.state, "ended")
        XCTAssertEqual(status.etaS, 0)
        XCTAssertEqual(status.fps, 25, accuracy: 0.01, "the whole run's rate")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(status.json().utf8)) as? [String: Any])
        XCTAssertEqual((json["source"] as? [String: Any])?["name"] as? String, "clip.mp4")
        XCTAssertNotNil(json["faces_on_screen"])
    }

    func testTimelineKeepsEachFacesProbabilities() throws {
        let hub = LiveHub(facts: facts)
        try feed(ViewerSink(hub: hub), frames: 0..<5)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(hub.timelineJSON().utf8)) as? [String: Any])
        let samples = try XCTUnwrap((json["faces"] as? [String: Any])?["3"] as? [[Double]])
        XCTAssertEqual(samples.count, 5)
        XCTAssertEqual(samples[1], [0.04, 5, 5, 5, 5, 70, 5, 5])  // frame 1: sad at 70 %
        XCTAssertEqual((json["last"] as? [String: Any])?["frame"] as? Int, 4)
    }

    func testLiveTimelineKeepsTheLastMinute() {
        var timeline = Timeline(window: 60)
        for i in 0..<(25 * 120) { timeline.record(result(i)) }
        let first = timeline.samples.first?.time ?? 0
        XCTAssertGreaterThan(first, 119.96 - 60 * 1.25)
        XCTAssertLessThanOrEqual(first, 119.96 - 60)
    }

    func testFileTimelineThinsOutInsteadOfGrowing() {
        var timeline = Timeline(window: nil, capacity: 1000)
        for i in 0..<5000 { timeline.record(result(i)) }
        XCTAssertLessThanOrEqual(timeline.samples.count, 1000)
        XCTAssertGreaterThan(timeline.samples.count, 250)
        XCTAssertEqual(timeline.samples.first?.time, 0)
        XCTAssertGreaterThan(timeline.samples.last?.time ?? 0, 190)  // still spans the whole run
    }

    func testEventRingSkipsWhatWasOverwritten() {
        var ring = EventRing(capacity: 3)
        for i in 1...5 { ring.append("line \(i)") }
        let fromStart = ring.lines(after: 0)
        XCTAssertEqual(fromStart.skipped, 2)
        XCTAssertEqual(Array(fromStart.lines), ["line 3", "line 4", "line 5"])
        XCTAssertEqual(Array(ring.lines(after: 4).lines), ["line 5"])
        XCTAssertEqual(ring.lines(after: 4).skipped, 0)
        XCTAssertTrue(ring.lines(after: 5).lines.isEmpty)
    }

    func testAStalledEventClientLosesLinesButNobodyWaits() async throws {
        let hub = LiveHub(facts: facts)
        let slot = try XCTUnwrap(hub.admit(.events))
        let sink = ViewerSink(hub: hub)
        try feed(sink, frames: 0..<300)          // the client reads nothing meanwhile
        XCTAssertEqual(hub.status().viewers.droppedFrames, 300 - 256)
        guard case .lines(let lines) = await hub.nextEvents(for: slot.id) else { return XCTFail("no lines") }
        XCTAssertEqual(lines.count, 256)
        XCTAssertTrue(lines[0].hasPrefix("{\"frame\":44,"), lines[0])
        try sink.finish()
        guard case .ended(let status) = await hub.nextEvents(for: slot.id) else { return XCTFail("no end") }
        XCTAssertTrue(status.contains("\"state\":\"ended\""), status)
    }

    func testClientLimitThenPlacesComeBack() throws {
        let hub = LiveHub(facts: facts, clientLimit: 16)
        var slots = (0..<16).compactMap { _ in hub.admit(.video) }
        XCTAssertEqual(slots.count, 16)
        XCTAssertNil(hub.admit(.video))
        XCTAssertNotNil(hub.admit(.events), "each stream kind has its own limit")
        slots.removeLast()
        XCTAssertEqual(hub.countClients(.video), 15)
        XCTAssertNotNil(hub.admit(.video))
    }

    func testVideoIsEncodedOnlyWhileWatchedAndIsAJPEG() async throws {
        let hub = LiveHub(facts: facts)
        let feed = VideoFeed(hub: hub, overlay: Overlay())
        defer { hub.close(); feed.join() }
        let sink = ViewerSink(hub: hub)
        try self.feed(sink, frames: 0..<3)
        try await Task.sleep(nanoseconds: 100_000_000)
        XCTAssertEqual(hub.framesEncoded, 0, "encoded with nobody watching")
        let slot = try XCTUnwrap(hub.admit(.video))
        guard case .frame(let frame) = await hub.nextVideo(for: slot.id) else { return XCTFail("no frame") }
        // Nothing was encoded before the client came: the one it gets is the newest frame.
        XCTAssertEqual(frame.frameIndex, 2)
        XCTAssertEqual(hub.framesEncoded, 1)
        XCTAssertEqual(Array(frame.jpeg.prefix(2)), [0xFF, 0xD8])
        XCTAssertEqual(Array(frame.jpeg.suffix(2)), [0xFF, 0xD9])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hub-\(UUID().uuidString).jpg").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(frame.jpeg)))
        let decoded = try VideoFileSource(path: path)
        defer { decoded.close() }
        XCTAssertEqual(decoded.info.width, 64)
        XCTAssertEqual(decoded.info.height, 48)
    }
}
