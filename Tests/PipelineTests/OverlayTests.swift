import Capture
import Classifier
import CoreTypes
import FaceDetect
import XCTest
@testable import Pipeline

final class OverlayTests: XCTestCase {
    private func pixel(_ f: Frame, _ x: Int, _ y: Int) -> Colour {
        let o = y * f.stride + x * 3
        return Colour(f.pixels[o], f.pixels[o + 1], f.pixels[o + 2])
    }

    func testBoxAndLabelAreDrawnInTheEmotionColour() {
        var frame = Frame(width: 320, height: 240)
        let sad = EmotionScores(probabilities: [0, 0, 0, 0, 1, 0, 0])
        let face = TrackedFace(id: 0, face: Face(box: Box(x: 100, y: 80, width: 60, height: 60), score: 1, landmarks: []), scores: sad)
        Overlay(showBars: false).draw(FrameResult(frameIndex: 0, time: 0, faces: [face]), on: &frame)
        XCTAssertEqual(pixel(frame, 100, 110), Colour.of(.sad), "left edge")
        XCTAssertEqual(pixel(frame, 130, 139), Colour.of(.sad), "bottom edge")
        XCTAssertEqual(pixel(frame, 130, 110), .black, "inside the box stays untouched")
        // The label sits above the box: a band of the emotion's colour with dark text in it.
        var labelColour = 0, text = 0
        for y in 60..<80 { for x in 100..<150 {
            let p = pixel(frame, x, y)
            if p == Colour.of(.sad) { labelColour += 1 } else if p == .black { text += 1 }
        } }
        XCTAssertGreaterThan(labelColour, 300)
        XCTAssertGreaterThan(text, 20)
    }

    func testFacesAtTheEdgeAreClipped() {
        var frame = Frame(width: 50, height: 40)
        let face = TrackedFace(id: 0, face: Face(box: Box(x: -30, y: -20, width: 500, height: 500), score: 1, landmarks: [Point(x: -3, y: 1000)]),
                               scores: EmotionScores(probabilities: [1, 0, 0, 0, 0, 0, 0]))
        Overlay(showBars: true, showLandmarks: true).draw(FrameResult(frameIndex: 0, time: 0, faces: [face]), on: &frame)
        XCTAssertEqual(frame.pixels.count, 50 * 40 * 3)
    }

    func testEveryLabelCharacterHasAGlyph() {
        for e in Emotion.allCases {
            for ch in "\(e.name) 0123456789%#.:-" where ch != " " {
                XCTAssertNotNil(BitmapFont.rows(for: ch), "missing glyph \(ch)")
            }
        }
    }
}
