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

extension IntegralImageTests {
    /// Area resampling through the table against the definition computed here: each window's
    /// sum counted pixel by pixel, then torch's two float divisions (sum / kh / kw) and the
    /// normalization, compared bit for bit. Sizes cover windows of 1 to about 90 pixels a side,
    /// shrinking and enlarging, planar and interleaved output.
    func testResamplingMatchesFloatDivisionBitForBit() {
        let (w, h) = (181, 97)
        var rng = SystemRandomNumberGenerator()
        let pixels = (0..<(w * h * 3)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let frame = Frame(index: 0, time: 0, width: w, height: h, pixels: pixels)
        let image = IntegralImage(frame: frame)
        var mismatches = 0
        for (x0, y0, rw, rh, oh, ow) in [(0, 0, w, h, 58, 109), (0, 0, w, h, 2, 2), (0, 0, w, h, 1, 3), (3, 5, 150, 90, 24, 24),
                                         (10, 10, 7, 9, 48, 48), (0, 0, w, h, 97, 181), (20, 1, 131, 95, 12, 12), (0, 0, 181, 97, 33, 60)] {
            for interleaved in [false, true] {
                var out = [Float](repeating: .nan, count: 3 * oh * ow)
                out.withUnsafeMutableBufferPointer { p in
                    if interleaved {
                        image.resampleInterleaved(x0: x0, y0: y0, w: rw, h: rh, outH: oh, outW: ow, into: p.baseAddress!)
                    } else {
                        image.resample(x0: x0, y0: y0, w: rw, h: rh, outH: oh, outW: ow, rows: 0..<oh, into: p.baseAddress!)
                    }
                }
                for i in 0..<oh {
                    let ya = i * rh / oh, yb = ((i + 1) * rh + oh - 1) / oh
                    for j in 0..<ow {
                        let xa = j * rw / ow, xb = ((j + 1) * rw + ow - 1) / ow
                        for c in 0..<3 {
                            var sum = 0
                            for y in ya..<yb { for x in xa..<xb { sum += Int(pixels[((y0 + y) * w + x0 + x) * 3 + c]) } }
                            let want = (Float(sum) / Float(yb - ya) / Float(xb - xa) - 127.5) * 0.0078125
                            let got = interleaved ? out[(i * ow + j) * 3 + c] : out[(c * oh + i) * ow + j]
                            if got.bitPattern != want.bitPattern {
                                mismatches += 1
                                if mismatches < 5 { XCTFail("\(rw)x\(rh) -> \(ow)x\(oh) [\(i), \(j), \(c)]: \(got) vs \(want)") }
                            }
                        }
                    }
                }
            }
        }
        XCTAssertEqual(mismatches, 0)
    }
}
