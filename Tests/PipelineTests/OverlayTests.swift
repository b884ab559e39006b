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

    /// A frame whose pixels nothing else holds is drawn on in place: no copy of the picture per
    /// frame (6 MB at 1080p), while a frame whose buffer is shared is copied and the other holder
    /// keeps the undrawn picture.
    func testDrawsInPlaceUnlessThePixelsAreShared() {
        let sad = EmotionScores(probabilities: [0, 0, 0, 0, 1, 0, 0])
        let result = FrameResult(frameIndex: 0, time: 0,
                                 faces: [TrackedFace(id: 0, face: Face(box: Box(x: 100, y: 80, width: 60, height: 60), score: 1, landmarks: []),
                                                     scores: sad)])
        var frame = Frame(width: 640, height: 480)
        let before = frame.pixels.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        Overlay(showBars: true).draw(result, on: &frame)
        XCTAssertEqual(frame.pixels.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }, before, "the picture was copied")
        XCTAssertEqual(frame.pixels.count, 640 * 480 * 3)
        XCTAssertEqual(pixel(frame, 100, 110), Colour.of(.sad))

        var drawn = Frame(width: 640, height: 480)
        let kept = drawn
        Overlay(showBars: true).draw(result, on: &drawn)
        XCTAssertEqual(pixel(drawn, 100, 110), Colour.of(.sad))
        XCTAssertTrue(kept.pixels.allSatisfy { $0 == 0 }, "the other holder's picture changed")
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

    private func face(_ box: Box, _ emotion: Emotion, id: Int = 0) -> TrackedFace {
        var p = [Float](repeating: 0, count: 7)
        p[emotion.rawValue] = 1
        return TrackedFace(id: id, face: Face(box: box, score: 1, landmarks: []), scores: EmotionScores(probabilities: p))
    }

    private func count(_ f: Frame, _ colour: Colour, rows: Range<Int>? = nil) -> Int {
        var n = 0
        for y in rows ?? 0..<f.height { for x in 0..<f.width where pixel(f, x, y) == colour { n += 1 } }
        return n
    }

    func testLabelStaysInViewWhenTheBoxStartsAboveAndLeftOfTheFrame() {
        var frame = Frame(width: 320, height: 240)
        Overlay(showBars: false).draw(FrameResult(frameIndex: 0, time: 0, faces: [face(Box(x: -40, y: -30, width: 120, height: 120), .happy)]),
                                      on: &frame)
        let m = OverlayMetrics(width: 320, height: 240)
        // The label's band starts at the frame's top-left corner, with dark text inside it.
        XCTAssertEqual(pixel(frame, 0, 0), Colour.of(.happy))
        XCTAssertEqual(pixel(frame, m.padding / 2, m.padding / 2), Colour.of(.happy))
        let band = 0..<(m.textSize + 2 * m.padding)
        XCTAssertGreaterThan(count(frame, .black, rows: band), 15, "text drawn in the label")
        XCTAssertGreaterThan(count(frame, Colour.of(.happy), rows: band), 400)
    }

    func testPanelGoesAboveTheFaceAtTheBottomEdge() {
        var frame = Frame(width: 320, height: 240)
        let box = Box(x: 120, y: 190, width: 50, height: 48)
        Overlay(showBars: true).draw(FrameResult(frameIndex: 0, time: 0, faces: [face(box, .sad)]), on: &frame)
        let panelColour = Colour(24, 24, 24)
        XCTAssertGreaterThan(count(frame, panelColour), 500, "the panel is drawn")
        XCTAssertEqual(count(frame, panelColour, rows: 190..<240), 0, "nothing of the panel on or below the face")
        // Every bar's track is whole: seven tracks of the same length, all in the frame.
        let trackColour = Colour(70, 70, 70)
        var trackRows = 0
        for y in 0..<240 where (0..<320).contains(where: { pixel(frame, $0, y) == trackColour || pixel(frame, $0, y) == Colour.of(.sad) }) { trackRows += 1 }
        XCTAssertGreaterThanOrEqual(trackRows, 7 * 2)
    }

    func testEveryPartStaysInsideTheFrame() {
        var seed: UInt64 = 12345
        func random(_ range: ClosedRange<Int>) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return range.lowerBound + Int((seed >> 33) % UInt64(range.count))
        }
        for (w, h) in [(320, 240), (640, 480), (1280, 720), (1920, 1080), (3840, 2160)] {
            let m = OverlayMetrics(width: w, height: h)
            for _ in 0..<500 {
                let side = random(12...(min(w, h)))
                let box = PixelRect(x: random(-side...w), y: random(-side...h), width: side, height: side * 6 / 5)
                let label = (random(40...(6 * m.textSize)), m.textSize + 2 * m.padding)
                let panel = (random(60...300), 7 * (m.barTextSize + 2) + 2 * m.padding)
                let layout = FaceLayout.place(box: box, labelSize: label, panelSize: panel, frameWidth: w, frameHeight: h, gap: m.thickness)
                for part in [layout.label, layout.panel] {
                    guard let part else { continue }
                    XCTAssertTrue(part.inside(width: w, height: h), "\(part) outside \(w)x\(h) for box \(box)")
                }
                XCTAssertNotNil(layout.label, "a label always fits \(w)x\(h)")
                if label.0 <= w, panel.1 + label.1 <= h { XCTAssertNotNil(layout.panel, "panel for \(box) on \(w)x\(h)") }
            }
        }
    }

    func testSizesFollowTheFrame() {
        XCTAssertEqual(OverlayMetrics(width: 320, height: 240).textSize, 10)
        XCTAssertEqual(OverlayMetrics(width: 1920, height: 1080).textSize, 27)
        XCTAssertEqual(OverlayMetrics(width: 3840, height: 2160).textSize, 54)
        XCTAssertGreaterThan(OverlayMetrics(width: 3840, height: 2160).thickness, OverlayMetrics(width: 640, height: 480).thickness)
    }

    func testLabelNamesEmotionConfidenceAndFaceID() {
        XCTAssertEqual(Overlay.label(face(Box(x: 0, y: 0, width: 1, height: 1), .surprise, id: 12)), "surprise 100% #12")
    }

    func testFreeTypeTextIsAntiAliased() throws {
        guard let text = OverlayText.shared as? FreeTypeText else {
            throw XCTSkip("no system font found (apt-get install fonts-dejavu-core): the bitmap font is in use")
        }
        var canvas = Canvas(frame: Frame(width: 200, height: 60))
        canvas.fill(x0: 0, y0: 0, x1: 200, y1: 60, colour: .white)
        text.draw("happy 82% #3", x: 4, baseline: 40, size: 27, colour: .black, on: &canvas)
        var full = 0, partial = 0
        for y in 0..<60 { for x in 0..<200 {
            let v = canvas.frame.pixels[y * canvas.frame.stride + 3 * x]
            if v == 0 { full += 1 } else if v < 255 { partial += 1 }
        } }
        XCTAssertGreaterThan(full, 100, "solid stems")
        XCTAssertGreaterThan(partial, 100, "grey edge pixels: anti-aliased")
        XCTAssertEqual(text.width(of: "happy", size: 27), text.width(of: "hap", size: 27) + text.width(of: "py", size: 27), accuracy: 2)
    }
}

