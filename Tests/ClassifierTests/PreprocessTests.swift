import Capture
import CoreTypes
import FaceDetect
import Foundation
import XCTest
@testable import Classifier

final class PreprocessTests: XCTestCase {
    /// Identity normalisation, so outputs are gray levels 0-255.
    private let raw = Preprocessing(scale: 1, mean: 0, std: 1)

    private func crop(_ frame: Frame, origin: (Float, Float), step: Float, size: Int = 48,
                      normalization: Preprocessing? = nil, mirrored: Bool = false) throws -> [Float] {
        let p = FacePreprocessor(size: size, normalization: normalization ?? raw)
        var out = [Float](repeating: .nan, count: size * size)
        try out.withUnsafeMutableBufferPointer {
            try p.crop(CropTransform(origin: Point(x: origin.0, y: origin.1), axisU: Point(x: step, y: 0),
                                     axisV: Point(x: 0, y: step)), in: frame, into: $0, mirrored: mirrored)
        }
        return out
    }

    func testBT601GrayAndNormalisationFromTheModelJSON() throws {
        let frame = Fixtures.frame(width: 60, height: 50) { _, _ in (200, 100, 50) }
        let gray: Float = 0.299 * 200 + 0.587 * 100 + 0.114 * 50    // 124.2
        let norm = try Fixtures.tiny().preprocessing                 // scale 1/255, mean 0.5, std 0.25
        let out = try crop(frame, origin: (5, 1), step: 1.3, normalization: norm)
        let want = (gray / 255 - 0.5) / 0.25
        XCTAssertEqual(out.min()!, want, accuracy: 1e-5)
        XCTAssertEqual(out.max()!, want, accuracy: 1e-5)
        // Pure primaries weigh as BT.601 says.
        for (rgb, w) in [((UInt8(255), UInt8(0), UInt8(0)), Float(0.299)), ((0, 255, 0), 0.587), ((0, 0, 255), 0.114)] {
            let f = Fixtures.frame(width: 48, height: 48) { _, _ in rgb }
            XCTAssertEqual(try crop(f, origin: (0, 0), step: 1)[100], 255 * w, accuracy: 1e-3)
        }
    }

    func testAreaAveragingWhenShrinking() throws {
        // Value = x across a 192-wide frame; 4:1 shrink averages x..x+3 -> 4i + 1.5.
        let frame = Fixtures.frame(width: 192, height: 192) { x, _ in (UInt8(x), UInt8(x), UInt8(x)) }
        let out = try crop(frame, origin: (0, 0), step: 4)
        for i in [0, 1, 20, 47] { XCTAssertEqual(out[5 * 48 + i], Float(4 * i) + 1.5, accuracy: 1e-3, "column \(i)") }
        // A one-pixel checkerboard shrunk 2:1 is flat mid-gray (a point sampler would alias).
        let checker = Fixtures.frame(width: 96, height: 96) { x, y in (x + y) % 2 == 0 ? (255, 255, 255) : (0, 0, 0) }
        let flat = try crop(checker, origin: (0, 0), step: 2)
        XCTAssertEqual(flat.min()!, 127.5, accuracy: 1e-3)
        XCTAssertEqual(flat.max()!, 127.5, accuracy: 1e-3)
        // Fractional ratio 2.5: output 0 covers [0, 2.5): (0 + 1 + 0.5 * 2) / 2.5 = 0.8.
        let frac = try crop(frame, origin: (0, 0), step: 2.5)
        XCTAssertEqual(frac[0], 0.8, accuracy: 1e-4)
        XCTAssertEqual(frac[1], (0.5 * 2 + 3 + 4) / 2.5, accuracy: 1e-4)
    }

    func testBilinearWhenEnlarging() throws {
        // Value = 10 x over 24 columns; 1:2 enlargement samples x = i / 2 - 0.25.
        let frame = Fixtures.frame(width: 24, height: 24) { x, _ in (UInt8(10 * x), UInt8(10 * x), UInt8(10 * x)) }
        let out = try crop(frame, origin: (0, 0), step: 0.5)
        for i in [1, 2, 10, 45] { XCTAssertEqual(out[48 * 7 + i], 10 * (Float(i) / 2 - 0.25), accuracy: 1e-3, "column \(i)") }
        XCTAssertEqual(out[48 * 7], 0, accuracy: 1e-4)              // left border repeats
        XCTAssertEqual(out[48 * 7 + 47], 230, accuracy: 1e-3)       // right border repeats
    }

    func testMirroredAndOutsideTheFrame() throws {
        let frame = Fixtures.frame(width: 48, height: 48) { x, y in (UInt8(x * 5), UInt8(y * 5), 0) }
        let a = try crop(frame, origin: (0, 0), step: 1)
        let m = try crop(frame, origin: (0, 0), step: 1, mirrored: true)
        for y in [0, 13, 47] { for x in [0, 7, 47] { XCTAssertEqual(m[y * 48 + x], a[y * 48 + 47 - x]) } }
        // Far outside the frame: the nearest border pixel, no crash, no NaN.
        let off = try crop(frame, origin: (-500, 900), step: 3)
        XCTAssertTrue(off.allSatisfy { $0.isFinite })
        XCTAssertEqual(off[0], 0.299 * 0 + 0.587 * 235, accuracy: 1e-3)   // bottom-left pixel (0, 47)
        // A crop far larger than the frame costs no more than the frame (clamped taps).
        let huge = try crop(frame, origin: (-1e6, -1e6), step: 1e5)
        XCTAssertTrue(huge.allSatisfy { $0.isFinite })
    }

    func testGeometryPutsTheEyesWhereFERHasThem() throws {
        let p = FacePreprocessor(normalization: raw)
        let g = FaceGeometry.fer2013
        // Level eyes 37 px apart, mouth below: scale = max(37 / eyeDistance, eyeToMouth ratio).
        let face = Face(box: Box(x: 80, y: 60, width: 80, height: 100), score: 1, landmarks: [
            Point(x: 100, y: 100), Point(x: 137, y: 100), Point(x: 118, y: 120), Point(x: 104, y: 139), Point(x: 133, y: 139)])
        let t = p.transform(for: face)
        XCTAssertTrue(t.isAxisAligned)
        XCTAssertEqual(t.scale, max(37 / g.eyeDistance, 39 / g.eyeToMouth), accuracy: 1e-5)
        let eyes = t.apply(g.eyeCenter.x, g.eyeCenter.y)
        XCTAssertEqual(eyes.x, 118.5, accuracy: 1e-3)
        XCTAssertEqual(eyes.y, 100, accuracy: 1e-3)
        // The same face rolled by 30 degrees about the left eye: the crop turns with it.
        let a: Float = .pi / 6
        func rot(_ q: Point) -> Point {
            let dx = q.x - 100, dy = q.y - 100
            return Point(x: 100 + dx * cosf(a) - dy * sinf(a), y: 100 + dx * sinf(a) + dy * cosf(a))
        }
        let rolled = Face(box: face.box, score: 1, landmarks: face.landmarks.map(rot))
        let r = p.transform(for: rolled)
        XCTAssertFalse(r.isAxisAligned)
        XCTAssertEqual(atan2f(r.axisU.y, r.axisU.x), a, accuracy: 1e-4)
        XCTAssertEqual(r.scale, t.scale, accuracy: 1e-4)
        let re = r.apply(g.eyeCenter.x, g.eyeCenter.y), want = rot(Point(x: 118.5, y: 100))
        XCTAssertEqual(re.x, want.x, accuracy: 1e-3)
        XCTAssertEqual(re.y, want.y, accuracy: 1e-3)
        // Without alignment the crop stays upright.
        var flat = p
        flat.align = false
        XCTAssertTrue(flat.transform(for: rolled).isAxisAligned)
        // No landmarks: the box lands on FER's median MTCNN box.
        let b = p.transform(for: Face(box: Box(x: 10, y: 20, width: g.box.width * 3, height: g.box.height * 3), score: 1, landmarks: []))
        XCTAssertEqual(b.scale, 3, accuracy: 1e-5)
        let corner = b.apply(g.box.x, g.box.y)
        XCTAssertEqual(corner.x, 10, accuracy: 1e-3)
        XCTAssertEqual(corner.y, 20, accuracy: 1e-3)
    }

    /// A rotated crop of a smooth picture equals the upright crop of the same picture turned by
    /// the same angle (both shrinking 3:1 and enlarging), within interpolation error.
    func testRotatedCropFollowsTheFace() throws {
        func picture(_ angle: Float) -> Frame {
            Fixtures.frame(width: 300, height: 300) { x, y in
                // Coordinates relative to the centre, turned back by `angle`.
                let dx = Float(x) + 0.5 - 150, dy = Float(y) + 0.5 - 150
                let u = dx * cosf(angle) + dy * sinf(angle), v = -dx * sinf(angle) + dy * cosf(angle)
                let val = 127.5 + 60 * sinf(u / 23) + 60 * cosf(v / 31)
                return (UInt8(val), UInt8(val), UInt8(val))
            }
        }
        let a: Float = 0.4
        for step: Float in [3, 0.8] {
            let p = FacePreprocessor(normalization: raw)
            let upright = CropTransform(origin: Point(x: 150 - 24 * step, y: 150 - 24 * step),
                                        axisU: Point(x: step, y: 0), axisV: Point(x: 0, y: step))
            let u = Point(x: step * cosf(a), y: step * sinf(a)), v = Point(x: -step * sinf(a), y: step * cosf(a))
            let turned = CropTransform(origin: Point(x: 150 - 24 * (u.x + v.x), y: 150 - 24 * (u.y + v.y)), axisU: u, axisV: v)
            var x = [Float](repeating: 0, count: 2304), y = x
            try x.withUnsafeMutableBufferPointer { try p.crop(upright, in: picture(0), into: $0) }
            try y.withUnsafeMutableBufferPointer { try p.crop(turned, in: picture(a), into: $0) }
            let meanError = zip(x, y).map { abs($0 - $1) }.reduce(0, +) / 2304
            XCTAssertLessThan(meanError, 2.5, "step \(step)")
            // And it is not trivially small: the unturned crop of the turned picture differs.
            var z = [Float](repeating: 0, count: 2304)
            try z.withUnsafeMutableBufferPointer { try p.crop(upright, in: picture(a), into: $0) }
            XCTAssertGreaterThan(zip(x, z).map { abs($0 - $1) }.reduce(0, +) / 2304, 10 * meanError, "step \(step)")
        }
    }

    func testBadFrameIsAnError() throws {
        let frame = Frame(index: 3, time: 0, width: 10, height: 10, pixels: [UInt8](repeating: 0, count: 50))
        XCTAssertThrowsError(try crop(frame, origin: (0, 0), step: 1)) { e in XCTAssertTrue("\(e)".contains("frame 3"), "\(e)") }
    }
}
