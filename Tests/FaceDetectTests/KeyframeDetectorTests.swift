import Capture
import CoreTypes
import XCTest
@testable import FaceDetect

/// Following faces between full detections must agree with full detection, and must not let a
/// face go unseen for longer than the interval promises.
final class KeyframeDetectorTests: XCTestCase {
    private func astronaut(shiftedBy dx: Int, index: Int) throws -> Frame {
        let src = try Fixtures.rawFrame("astronaut.rgb", width: 512, height: 512)
        // A 400x400 window moving right, as a panning camera would see it.
        let (w, h) = (400, 400)
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            let s = ((y + 40) * 512 + dx) * 3
            pixels.replaceSubrange((y * w * 3)..<((y + 1) * w * 3), with: src.pixels[s..<(s + w * 3)])
        }
        return Frame(index: index, time: Double(index) / 25, width: w, height: h, pixels: pixels)
    }

    private func black(index: Int) -> Frame { Frame(index: index, time: Double(index) / 25, width: 400, height: 400) }

    /// The same view with the face under a gray patch: no face, and no cut when it is lifted
    /// (the rest of the picture stays), so a follower meets the face as a new one.
    private func covered(shiftedBy dx: Int, index: Int) throws -> Frame {
        var frame = try astronaut(shiftedBy: dx, index: index)
        let face = try XCTUnwrap(try Fixtures.mtcnn().detect(in: frame).first).box
        let x0 = max(0, Int(face.x - 0.2 * face.width)), x1 = min(frame.width, Int(face.x + 1.2 * face.width))
        let y0 = max(0, Int(face.y - 0.2 * face.height)), y1 = min(frame.height, Int(face.y + 1.2 * face.height))
        for y in y0..<y1 { for x in x0..<x1 { for c in 0..<3 { frame.pixels[y * frame.stride + 3 * x + c] = 128 } } }
        return frame
    }

    func testFollowedFacesMatchFullDetection() throws {
        let mtcnn = try Fixtures.mtcnn()
        let follower = KeyframeDetector(detector: mtcnn, interval: 5)
        for i in 0..<10 {
            let frame = try astronaut(shiftedBy: 20 + 3 * i, index: i)
            let full = try mtcnn.detect(in: frame).filter { $0.score >= 0.9 }
            let followed = try follower.detect(in: frame).filter { $0.score >= 0.9 }
            XCTAssertEqual(followed.count, full.count, "frame \(i)")
            for f in full {
                let best = followed.map { $0.box.iou(f.box) }.max() ?? 0
                XCTAssertGreaterThan(best, 0.8, "frame \(i): followed box drifts from the full detection")
            }
        }
    }

    func testAFaceLostByTheFollowerIsSearchedForOnTheNextFrame() throws {
        let follower = KeyframeDetector(detector: try Fixtures.mtcnn(), interval: 100)
        XCTAssertEqual(try follower.detect(in: try astronaut(shiftedBy: 20, index: 0)).count, 1)
        XCTAssertEqual(try follower.detect(in: black(index: 1)).count, 0)
        // Long before the next keyframe: the loss itself triggers a full detection.
        XCTAssertEqual(try follower.detect(in: try astronaut(shiftedBy: 60, index: 2)).count, 1)
    }

    /// A face the follower loses (here: it jumps 90 px, as after a cut) is searched for on the
    /// same frame, so no frame's results miss it.
    func testALostFaceIsFoundAgainOnTheSameFrame() throws {
        let follower = KeyframeDetector(detector: try Fixtures.mtcnn(), interval: 100)
        XCTAssertEqual(try follower.detect(in: try astronaut(shiftedBy: 10, index: 0)).count, 1)
        let jumped = try follower.detect(in: try astronaut(shiftedBy: 100, index: 1))
        XCTAssertEqual(jumped.count, 1, "found on the frame it was lost")
    }

    func testThumbnailTellsACutFromMotion() throws {
        let a = Thumbnail(try astronaut(shiftedBy: 20, index: 0))
        XCTAssertFalse(Thumbnail(try astronaut(shiftedBy: 23, index: 1)).differs(from: a), "a small pan is no cut")
        XCTAssertTrue(Thumbnail(black(index: 2)).differs(from: a), "a black frame after a picture is a cut")
    }

    /// What one stream saw does not reach the next: a new stream starts with a full detection.
    func testANewStreamStartsWithoutTheLastStreamsFaces() throws {
        let follower = KeyframeDetector(detector: try Fixtures.mtcnn(), interval: 100)
        XCTAssertEqual(try follower.detect(in: try covered(shiftedBy: 30, index: 0)).count, 0)   // stream 1: keyframe, nobody
        let next = follower.forNewStream()
        XCTAssertEqual(try next.detect(in: try astronaut(shiftedBy: 30, index: 0)).count, 1, "stream 2's first frame is a keyframe")
        // The old instance, still in stream 1, only follows (nobody) until its next keyframe.
        XCTAssertEqual(try follower.detect(in: try astronaut(shiftedBy: 30, index: 1)).count, 0)
    }

    func testANewFaceIsFoundAtTheNextKeyframe() throws {
        let follower = KeyframeDetector(detector: try Fixtures.mtcnn(), interval: 4)
        XCTAssertEqual(try follower.detect(in: try covered(shiftedBy: 30, index: 0)).count, 0)   // keyframe, nobody there
        var foundAt: Int?
        for i in 1..<8 where foundAt == nil {
            if try !follower.detect(in: try astronaut(shiftedBy: 30, index: i)).isEmpty { foundAt = i }
        }
        XCTAssertEqual(foundAt, 4, "the face appears at frame 1 (no cut) and is found at the next keyframe, 4")
        // After a cut, a face is looked for at once.
        let afterCut = KeyframeDetector(detector: try Fixtures.mtcnn(), interval: 4)
        XCTAssertEqual(try afterCut.detect(in: black(index: 0)).count, 0)
        XCTAssertEqual(try afterCut.detect(in: try astronaut(shiftedBy: 30, index: 1)).count, 1)
    }

    /// A face that walks in shortens the gap between full detections to `busyInterval`; each
    /// full detection without a newcomer lengthens it by one frame, back to `interval`.
    func testANewFaceShortensTheGapUntilTheSceneIsQuietAgain() throws {
        let follower = KeyframeDetector(detector: try Fixtures.mtcnn(), interval: 5, busyInterval: 2)
        XCTAssertEqual(follower.currentInterval, 5)
        _ = try follower.detect(in: try covered(shiftedBy: 30, index: 0))      // keyframe, nobody there
        XCTAssertEqual(follower.currentInterval, 5, "a keyframe without a face keeps the gap")
        // The face appears at frame 1 and is found at the next keyframe, frame 5. Then full
        // detections come 2 frames later (7), then 3 (10), 4 (14), 5 (19), 5 (24).
        var gaps: [Int: Int] = [:]
        for i in 1...20 {
            let faces = try follower.detect(in: try astronaut(shiftedBy: 30, index: i))
            XCTAssertEqual(faces.count, i < 5 ? 0 : 1, "frame \(i)")
            gaps[i] = follower.currentInterval
        }
        XCTAssertEqual(gaps[4], 5, "no full detection yet since frame 0")
        XCTAssertEqual(gaps[5], 2, "the newcomer found at frame 5 brings the next full detection to frame 7")
        XCTAssertEqual(gaps[6], 2)
        XCTAssertEqual(gaps[7], 3, "frame 7's full detection finds no one new: the gap grows by one")
        XCTAssertEqual(gaps[9], 3)
        XCTAssertEqual(gaps[10], 4)
        XCTAssertEqual(gaps[14], 5)
        XCTAssertEqual(gaps[20], 5, "never beyond interval")
    }

    /// In a busy scene (a newcomer lately) the frames between keyframes are searched for large
    /// faces, so a face that appears there is found on the frame it appears, not at the next
    /// keyframe.
    func testABusySceneFindsANewcomerOnTheFrameItAppears() throws {
        let follower = KeyframeDetector(detector: try Fixtures.mtcnn(), interval: 5, busyInterval: 2)
        _ = try follower.detect(in: try covered(shiftedBy: 30, index: 0))      // keyframe, nobody there
        for i in 1...4 { XCTAssertEqual(try follower.detect(in: try astronaut(shiftedBy: 30, index: i)).count, 0, "quiet: frame \(i)") }
        XCTAssertEqual(try follower.detect(in: try astronaut(shiftedBy: 30, index: 5)).count, 1, "found at the keyframe")
        XCTAssertTrue(follower.isBusy)
        // The face goes (the follower loses it: a full detection on that frame finds nobody new,
        // so the gap grows to 3 and the scene stays busy), and comes back on frame 7, between
        // keyframes (the next would be frame 9).
        XCTAssertEqual(try follower.detect(in: try covered(shiftedBy: 30, index: 6)).count, 0)
        XCTAssertEqual(follower.currentInterval, 3)
        XCTAssertTrue(follower.isBusy)
        XCTAssertEqual(try follower.detect(in: try astronaut(shiftedBy: 30, index: 7)).count, 1, "found on the frame it came back")
        XCTAssertEqual(follower.currentInterval, 2, "a newcomer between keyframes brings the next full detection closer")
    }
}
