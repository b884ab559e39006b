import Capture
import XCTest
@testable import FaceDetect

/// Area resampling straight from the pixels against the definition computed here: each
/// window's sum counted pixel by pixel, then torch's two float divisions (sum / kh / kw) and
/// the normalization, compared bit for bit. Frames with rows wider than their pixels; windows
/// of 1 to about 90 pixels a side, shrinking and enlarging.
final class AreaResamplingTests: XCTestCase {
    private func randomFrame(width w: Int, height h: Int, stride: Int) -> Frame {
        var rng = SystemRandomNumberGenerator()
        let pixels = (0..<(stride * h)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return Frame(index: 0, time: 0, width: w, height: h, stride: stride, pixels: pixels)
    }

    /// Output cell (i, j, c) of the region (x0, y0, rw, rh) resampled to oh x ow, by definition.
    private func expected(_ f: Frame, _ x0: Int, _ y0: Int, _ rw: Int, _ rh: Int, _ oh: Int, _ ow: Int,
                          _ i: Int, _ j: Int, _ c: Int) -> Float {
        let ya = i * rh / oh, yb = ((i + 1) * rh + oh - 1) / oh
        let xa = j * rw / ow, xb = ((j + 1) * rw + ow - 1) / ow
        var sum = 0
        for y in ya..<yb { for x in xa..<xb { sum += Int(f.pixels[(y0 + y) * f.stride + 3 * (x0 + x) + c]) } }
        return (Float(sum) / Float(yb - ya) / Float(xb - xa) - 127.5) * 0.0078125
    }

    func testCropsMatchFloatDivisionBitForBit() {
        let frame = randomFrame(width: 181, height: 97, stride: 181 * 3 + 7)
        var mismatches = 0
        for (x0, y0, rw, rh, oh, ow) in [(0, 0, 181, 97, 24, 24), (3, 5, 150, 90, 24, 24), (10, 10, 7, 9, 48, 48),
                                         (0, 0, 181, 97, 2, 2), (0, 0, 181, 97, 1, 3), (20, 1, 131, 95, 12, 12),
                                         (180, 96, 1, 1, 24, 24), (170, 0, 11, 97, 48, 48)] {
            var out = [Float](repeating: .nan, count: 3 * oh * ow)
            out.withUnsafeMutableBufferPointer { p in
                AreaResampling.crop(frame, x0: x0, y0: y0, w: rw, h: rh, outH: oh, outW: ow, into: p.baseAddress!)
            }
            for i in 0..<oh { for j in 0..<ow { for c in 0..<3 {
                let want = expected(frame, x0, y0, rw, rh, oh, ow, i, j, c), got = out[(i * ow + j) * 3 + c]
                if got.bitPattern != want.bitPattern {
                    mismatches += 1
                    if mismatches < 5 { XCTFail("crop \(rw)x\(rh) -> \(ow)x\(oh) [\(i), \(j), \(c)]: \(got) vs \(want)") }
                }
            } } }
        }
        XCTAssertEqual(mismatches, 0)
    }

    /// Several levels in one sweep, each written as row ranges (as the bands of a pass write
    /// them) into planes taller than the range; rows outside the ranges stay untouched.
    func testPyramidLevelsMatchFloatDivisionBitForBit() {
        let (w, h) = (181, 97)
        let frame = randomFrame(width: w, height: h, stride: w * 3 + 5)
        // (outH, outW, row ranges): shrinking by 1.5 to 90, unchanged, enlarging.
        let levels: [(Int, Int, [Range<Int>])] = [(58, 109, [0..<20, 20..<58]), (2, 2, [0..<1, 1..<2]), (1, 3, [0..<1]),
                                                 (97, 181, [0..<97]), (33, 60, [5..<9, 9..<33]), (150, 250, [0..<75, 75..<150]),
                                                 (12, 12, [3..<12])]
        var mismatches = 0
        for (oh, ow, ranges) in levels {
            let planeRows = oh + 3
            var out = [Float](repeating: .nan, count: 3 * planeRows * ow)
            out.withUnsafeMutableBufferPointer { p in
                // Each range in its own call, as bands are, in reverse order.
                for r in ranges.reversed() {
                    AreaResampling.pyramid(frame, [.init(outH: oh, outW: ow, rows: r, planeRows: planeRows, dst: p.baseAddress! + r.lowerBound * ow)])
                }
            }
            for i in 0..<planeRows { for j in 0..<ow { for c in 0..<3 {
                let got = out[(c * planeRows + i) * ow + j]
                guard ranges.contains(where: { $0.contains(i) }) else {
                    if !got.isNaN { mismatches += 1; XCTFail("\(ow)x\(oh): row \(i) outside the ranges written") }
                    continue
                }
                let want = expected(frame, 0, 0, w, h, oh, ow, i, j, c)
                if got.bitPattern != want.bitPattern {
                    mismatches += 1
                    if mismatches < 5 { XCTFail("level \(ow)x\(oh) [\(i), \(j), \(c)]: \(got) vs \(want)") }
                }
            } } }
        }
        // All levels in one call give the same values as one level per call.
        let sizes = levels.map { 3 * $0.0 * $0.1 }, offsets = sizes.indices.map { sizes[..<$0].reduce(0, +) }
        var together = [Float](repeating: .nan, count: sizes.reduce(0, +))
        together.withUnsafeMutableBufferPointer { p in
            AreaResampling.pyramid(frame, levels.indices.map { k in
                .init(outH: levels[k].0, outW: levels[k].1, rows: 0..<levels[k].0, planeRows: levels[k].0, dst: p.baseAddress! + offsets[k])
            })
        }
        for k in levels.indices {
            var alone = [Float](repeating: .nan, count: sizes[k])
            alone.withUnsafeMutableBufferPointer { p in
                AreaResampling.pyramid(frame, [.init(outH: levels[k].0, outW: levels[k].1, rows: 0..<levels[k].0, planeRows: levels[k].0, dst: p.baseAddress!)])
            }
            XCTAssertEqual(Array(together[offsets[k]..<(offsets[k] + sizes[k])]).map(\.bitPattern), alone.map(\.bitPattern), "level \(k) swept with the others")
        }
        XCTAssertEqual(mismatches, 0)
    }
}
