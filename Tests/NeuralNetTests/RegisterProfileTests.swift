import XCTest
import CKernels
import TestSupport

/// The kernels block their work by the CPU's registers (`nn_wide_registers`): 24 vector
/// accumulators with AVX-512, 6 with AVX2. Both blockings must give the same floats, bit for
/// bit, since each output sums the same terms in the same order; a machine of either kind runs
/// both here. Every output buffer ends with NaN sentinels that must stay untouched.
final class RegisterProfileTests: XCTestCase {
    override func tearDown() {
        nn_set_wide_registers(-1)
        super.tearDown()
    }

    /// Runs `kernel` into a NaN-filled buffer of `count` floats (+ 32 sentinels) under each
    /// blocking and asserts the two results have the same bits and the sentinels survived.
    private func assertSameBothWays(_ label: String, count: Int, allWritten: Bool = true,
                                    file: StaticString = #filePath, line: UInt = #line,
                                    _ kernel: (UnsafeMutablePointer<Float>) -> Void) {
        var results: [[UInt32]] = []
        for wide: Int32 in [1, 0] {
            nn_set_wide_registers(wide)
            XCTAssertEqual(nn_wide_registers(), wide)
            var out = [Float](repeating: .nan, count: count + 32)
            out.withUnsafeMutableBufferPointer { kernel($0.baseAddress!) }
            XCTAssertTrue(out[count...].allSatisfy { $0.isNaN }, "\(label): wrote past the output", file: file, line: line)
            if allWritten {
                XCTAssertTrue(out[..<count].allSatisfy { !$0.isNaN }, "\(label): left outputs unwritten", file: file, line: line)
            }
            results.append(out.map { $0.bitPattern })
        }
        if let i = results[0].indices.first(where: { results[0][$0] != results[1][$0] }) {
            XCTFail("\(label): output \(i) differs: wide \(Float(bitPattern: results[0][i])), narrow \(Float(bitPattern: results[1][i]))",
                    file: file, line: line)
        }
    }

    private func random(_ n: Int, _ rng: inout LCG) -> [Float] { (0..<n).map { _ in rng.next() } }

    func testChannelsLastConvolution() {
        var rng = LCG(state: 11)
        // R-Net conv1 (3 -> 32 padded, 3x3), conv3 (48 -> 64, 2x2), a dense layer (1x1), and
        // pixel ranges that end inside a block of 6 and of 24.
        for (n, h, w, cs, cin, coutp, k) in [(5, 24, 24, 3, 3, 32, 3), (7, 4, 4, 48, 48, 64, 2), (9, 1, 1, 576, 576, 128, 1),
                                             (2, 13, 11, 16, 10, 48, 3), (3, 9, 7, 16, 16, 16, 3)] {
            let input = random(n * h * w * cs, &rng), wpack = random(k * k * cin * coutp, &rng)
            let bias = random(coutp, &rng), slopes = random(coutp, &rng)
            let pixels = n * (h - k + 1) * (w - k + 1)
            for (p0, p1) in [(0, pixels), (pixels / 3, pixels - 1)] where p1 > p0 {
                assertSameBothWays("conv_nhwc \(n)x\(h)x\(w)x\(cin)->\(coutp) k\(k) [\(p0), \(p1))", count: (p1 - p0) * coutp) { out in
                    nn_conv_nhwc(input, Int32(h), Int32(w), Int32(cs), Int32(cin), wpack, bias, slopes, Int32(coutp),
                                 Int32(k), Int32(k), Int32(NN_ACT_PRELU), out - p0 * coutp, p0, p1)
                }
            }
        }
    }

    /// Row Winograd (`nn_rowwino_nhwc`): blocks of 4 tiles or one at a time; row ranges that
    /// start and end inside an image.
    func testRowWinograd() {
        var rng = LCG(state: 14)
        for (n, h, w, cs, coutp) in [(4, 24, 24, 3, 32), (2, 48, 48, 3, 32), (3, 8, 20, 4, 16), (2, 5, 8, 3, 48)] {
            let input = random(n * h * w * cs, &rng), u = random(nn_rowwino_nhwc_packed_size(Int32(coutp)), &rng)
            let bias = random(coutp, &rng), slopes = random(coutp, &rng)
            let rows = n * (h - 2), rowFloats = (w - 2) * coutp
            for (r0, r1) in [(0, rows), (h / 2, rows - 1)] where r1 > r0 {
                assertSameBothWays("rowwino \(n)x\(h)x\(w)->\(coutp) rows [\(r0), \(r1))", count: (r1 - r0) * rowFloats) { out in
                    nn_rowwino_nhwc(input, Int32(h), Int32(w), Int32(cs), u, bias, slopes, Int32(coutp), Int32(NN_ACT_PRELU),
                                    out - r0 * rowFloats, r0, r1)
                }
            }
        }
    }

    func testWinogradChannelsLast() {
        var rng = LCG(state: 12)
        // R-Net conv2 (32 in, 28 used, 48 out), O-Net conv2 / conv3 (32 -> 64, 64 -> 64), P-Net
        // conv2 / conv3 (16 in, 10 used, 16 out; 16 -> 32 with the head).
        for (n, h, w, cin, cred, coutp) in [(3, 11, 11, 32, 28, 48), (2, 23, 23, 32, 32, 64), (2, 10, 10, 64, 64, 64),
                                            (1, 17, 40, 16, 10, 16), (1, 9, 30, 16, 16, 32)] {
            let input = random(n * h * w * cin, &rng), bias = random(coutp, &rng), slopes = random(coutp, &rng)
            let oh = h - 2, ow = w - 2
            let u4 = random(36 * cin * coutp, &rng), u2 = random(16 * cin * coutp, &rng)
            let tiles4 = n * ((oh + 3) / 4) * ((ow + 3) / 4), tiles2 = n * ((oh + 1) / 2) * ((ow + 1) / 2)
            assertSameBothWays("wino4x4 \(n)x\(h)x\(w) \(cred)/\(cin)->\(coutp)", count: n * oh * ow * coutp) { out in
                nn_wino4x4_nhwc(input, Int32(h), Int32(w), Int32(cin), Int32(cin), Int32(cred), u4, bias, slopes,
                                Int32(coutp), Int32(NN_ACT_PRELU), out, 0, tiles4)
            }
            assertSameBothWays("wino3x3 \(n)x\(h)x\(w) \(cred)/\(cin)->\(coutp)", count: n * oh * ow * coutp) { out in
                nn_wino3x3_nhwc(input, Int32(h), Int32(w), Int32(cin), Int32(cin), Int32(cred), u2, bias, slopes,
                                Int32(coutp), Int32(NN_ACT_PRELU), out, 0, tiles2)
            }
            let u3 = random(25 * cin * coutp, &rng), tiles3 = n * ((oh + 2) / 3) * ((ow + 2) / 3)
            assertSameBothWays("winof3 \(n)x\(h)x\(w) \(cred)/\(cin)->\(coutp)", count: n * oh * ow * coutp) { out in
                nn_winof3_nhwc(input, Int32(h), Int32(w), Int32(cin), Int32(cin), Int32(cred), u3, bias, slopes,
                               Int32(coutp), Int32(NN_ACT_PRELU), out, 0, tiles3)
            }
            let hw = random(6 * coutp, &rng), hb = random(6, &rng)
            assertSameBothWays("wino4x4 head \(n)x\(h)x\(w) \(cred)/\(cin)->\(coutp)", count: n * 6 * oh * ow) { out in
                nn_wino4x4_nhwc_head(input, Int32(h), Int32(w), Int32(cin), Int32(cin), Int32(cred), u4, bias, slopes,
                                     Int32(coutp), Int32(NN_ACT_PRELU), hw, hb, out, 0, tiles4)
            }
        }
    }

    func testPlanarDirectAndFusedPool() {
        var rng = LCG(state: 13)
        // P-Net conv1 (3 -> 10) on rows wider than 32 pixels and with a tail, then other counts
        // (3 -> 20 and 5 -> 8: past nn_conv_pool2's Winograd limits, its direct row kernels).
        for (cin, h, w, cout) in [(3, 12, 75, 10), (3, 7, 40, 10), (2, 5, 19, 8), (4, 6, 50, 7), (3, 7, 75, 20), (5, 6, 40, 8)] {
            let input = random(cin * h * w + 16, &rng), weight = random(cout * cin * 9, &rng)
            let bias = random(cout, &rng), slopes = random(cout, &rng)
            let oh = h - 2, ow = w - 2, ph = (oh + 1) / 2, pw = (ow + 1) / 2
            var tmp = [Float](repeating: 0, count: 2 * cout * ow + 16)
            assertSameBothWays("conv_pool2 \(cin)x\(h)x\(w)->\(cout)", count: cout * ph * pw) { out in
                nn_conv_pool2(input, Int32(cin), Int32(h), Int32(h), Int32(w), weight, bias, Int32(cout), Int32(NN_ACT_PRELU),
                              slopes, Int32(cout), Int32(ph), Int32(pw), &tmp, out)
            }
            assertSameBothWays("conv2d_direct \(cin)x\(h)x\(w)->\(cout)", count: cout * oh * ow) { out in
                nn_conv2d_direct(input, Int32(cin), Int32(h), Int32(w), weight, bias, Int32(cout), 3, 3, Int32(NN_ACT_PRELU),
                                 slopes, Int32(cout), out)
            }
        }
    }

    /// The classifier's convolution into a zero-bordered layout, with and without the fused 2x2
    /// pooling (whose narrow blocks are whole windows): the border is left alone both ways.
    func testClassifierConvolution() {
        var rng = LCG(state: 14)
        for (n, h, w, cin, coutp, pool) in [(3, 10, 10, 32, 48, false), (3, 10, 10, 32, 48, true), (2, 14, 14, 16, 96, true),
                                            (4, 6, 6, 64, 64, false), (2, 5, 7, 16, 16, true)] {
            let input = random(n * h * w * cin, &rng), wpack = random(9 * cin * coutp, &rng)
            let bias = random(coutp, &rng), slopes = random(coutp, &rng)
            let oh = h - 2, ow = w - 2, rows = pool ? oh / 2 : oh, cols = pool ? ow / 2 : ow
            let outW = cols + 2, outImg = (rows + 2) * outW * coutp
            let positions = n * rows * cols
            assertSameBothWays("fercls_conv \(n)x\(h)x\(w)x\(cin)->\(coutp) pool \(pool)", count: n * outImg, allWritten: false) { out in
                fercls_conv_nhwc(input, h * w * cin, Int32(h), Int32(w), Int32(cin), Int32(cin), wpack, bias, slopes, Int32(coutp),
                                 3, 3, Int32(NN_ACT_RELU), out, outImg, Int32(outW), 1, pool ? 1 : 0, 0, positions)
            }
        }
    }
}
