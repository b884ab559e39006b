import Classifier
import CoreTypes
import FaceDetect
import XCTest
@testable import Pipeline

final class TrackerTests: XCTestCase {
    private func face(_ x: Float, _ y: Float, _ size: Float = 50) -> Face {
        Face(box: Box(x: x, y: y, width: size, height: size), score: 0.99, landmarks: [])
    }

    private func scores(_ top: Emotion, _ p: Float = 0.9) -> EmotionScores {
        var probs = [Float](repeating: (1 - p) / 6, count: 7)
        probs[top.rawValue] = p
        return EmotionScores(probabilities: probs)
    }

    func testMovingFacesKeepTheirIDs() {
        var options = Tracker.Options()
        options.smoothingSeconds = 0
        var tracker = Tracker(options: options)
        var idsA: Set<Int> = [], idsB: Set<Int> = []
        for i in 0..<30 {
            let dx = Float(i) * 3
            // Order swapped every other frame: ids must follow boxes, not positions in the list.
            var faces = [face(10 + dx, 10), face(300 - dx, 40)]
            if i % 2 == 1 { faces.reverse() }
            let out = tracker.update(frameIndex: i, time: Double(i) / 30, faces: faces, scores: [scores(.happy), scores(.sad)])
            for t in out { if t.face.box.x < 150 { idsA.insert(t.id) } else { idsB.insert(t.id) } }
        }
        XCTAssertEqual(idsA.count, 1)
        XCTAssertEqual(idsB.count, 1)
        XCTAssertNotEqual(idsA, idsB)
    }

    func testShortDropoutKeepsIDLongOneDoesNot() {
        var options = Tracker.Options()
        options.maxMissedFrames = 5
        var tracker = Tracker(options: options)
        let first = tracker.update(frameIndex: 0, time: 0, faces: [face(10, 10)], scores: [scores(.happy)])
        _ = tracker.update(frameIndex: 1, time: 0.03, faces: [], scores: [])
        let back = tracker.update(frameIndex: 4, time: 0.13, faces: [face(12, 10)], scores: [scores(.happy)])
        XCTAssertEqual(first[0].id, back[0].id)
        let late = tracker.update(frameIndex: 20, time: 0.66, faces: [face(12, 10)], scores: [scores(.happy)])
        XCTAssertNotEqual(back[0].id, late[0].id)
    }

    func testSmoothingOffPassesScoresThrough() {
        var options = Tracker.Options()
        options.smoothingSeconds = 0
        var tracker = Tracker(options: options)
        _ = tracker.update(frameIndex: 0, time: 0, faces: [face(0, 0)], scores: [scores(.happy)])
        let out = tracker.update(frameIndex: 1, time: 0.04, faces: [face(0, 0)], scores: [scores(.sad)])
        XCTAssertEqual(out[0].scores, scores(.sad))
    }

    func testSmoothingBlendsByTimeAndStaysNormalized() {
        var options = Tracker.Options()
        options.smoothingSeconds = 0.5
        var tracker = Tracker(options: options)
        _ = tracker.update(frameIndex: 0, time: 0, faces: [face(0, 0)], scores: [scores(.happy, 1)])
        let out = tracker.update(frameIndex: 1, time: 0.5, faces: [face(0, 0)], scores: [scores(.sad, 1)])
        let keep = Float(exp(-1.0))   // dt / tau = 1
        XCTAssertEqual(out[0].scores[.happy], keep, accuracy: 1e-5)
        XCTAssertEqual(out[0].scores[.sad], 1 - keep, accuracy: 1e-5)
        XCTAssertEqual(out[0].scores.probabilities.reduce(0, +), 1, accuracy: 1e-5)
    }
}
