import Capture
import XCTest
@testable import FaceDetect

/// The summed-area table against sums counted pixel by pixel, for the whole frame and for a
/// region, with a row stride wider than the pixels.
final class IntegralImageTests: XCTestCase {
    func testTableEntriesAreTheSumsAboveAndLeft() {
        let (w, h, stride) = (37, 23, 37 * 3 + 5)
        var rng = SystemRandomNumberGenerator()
        let pixels = (0..<(stride * h)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let frame = Frame(index: 0, time: 0, width: w, height: h, stride: stride, pixels: pixels)
        for (x0, y0, x1, y1) in [(0, 0, w, h), (5, 3, 30, 20), (36, 22, 37, 23), (-4, -4, 100, 100)] {
            let t = IntegralImage(frame: frame, x0: x0, y0: y0, x1: x1, y1: y1)
            let ox = max(0, x0), oy = max(0, y0)
            XCTAssertEqual(t.tableWidth, min(w, x1) - ox)
            XCTAssertEqual(t.tableHeight, min(h, y1) - oy)
            let w1 = t.tableWidth + 1
            for y in 0...t.tableHeight {
                for x in 0...t.tableWidth {
                    for c in 0..<3 {
                        var sum: UInt32 = 0
                        for yy in 0..<y { for xx in 0..<x { sum += UInt32(pixels[(oy + yy) * stride + 3 * (ox + xx) + c]) } }
                        XCTAssertEqual(t.table[(y * w1 + x) * 3 + c], sum, "region (\(x0),\(y0)) entry (\(x),\(y)) channel \(c)")
                    }
                }
            }
        }
    }
}
