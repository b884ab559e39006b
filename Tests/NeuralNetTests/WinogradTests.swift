import XCTest
import CKernels
import TestSupport
@testable import NeuralNet

/// The Winograd kernel against the direct kernel (the reference path P-Net used before) and the
/// textbook convolution, on sizes that hit every edge case of the tiling: odd heights (a last
/// tile row with one output row), widths that leave partial groups of 16 / 32 tiles or an odd
/// last column, the smallest 3x3 input, and output channel counts not a multiple of 8.
final class WinogradTests: XCTestCase {
    func testMatchesDirectOnAwkwardSizes() throws {
        var rng = LCG(state: 5)
        let sizes = [(3, 3), (4, 4), (3, 35), (5, 36), (6, 67), (7, 66), (35, 3), (10, 34), (11, 98), (12, 100),
                     (9, 131), (8, 5)]
        let channels = [(10, 16), (16, 32), (3, 5), (16, 9)]
        for (cin, cout) in channels {
            let wt = rng.tensor([cout, cin, 3, 3]), b = rng.tensor([cout])
            let slopes = (0..<cout).map { Float($0 % 4) * 0.25 }
            let conv = try Conv2D(weight: wt, bias: b, activation: .prelu(slopes))
            let wino = try Winograd3x3(conv)
            var scratch = [Float](repeating: .nan, count: wino.scratchCount)
            for (h, w) in sizes {
                let x = rng.tensor([1, cin, h, w])
                let oh = h - 2, ow = w - 2, n = cout * oh * ow
                var input = x.storage + [Float](repeating: 0, count: Conv2D.inputSlack)
                // Sentinels after the output: the kernel must write exactly n floats.
                var direct = [Float](repeating: .nan, count: n), fast = [Float](repeating: .nan, count: n + 40)
                input.withUnsafeMutableBufferPointer { ip in
                    direct.withUnsafeMutableBufferPointer { dp in
                        fast.withUnsafeMutableBufferPointer { fp in
                            scratch.withUnsafeMutableBufferPointer { sp in
                                conv.forwardValid(ip.baseAddress!, height: h, width: w, into: dp.baseAddress!)
                                wino.forwardValid(ip.baseAddress!, height: h, width: w, scratch: sp.baseAddress!, into: fp.baseAddress!)
                            }
                        }
                    }
                }
                var worst: Float = 0
                for i in 0..<n {
                    let err = abs(fast[i] - direct[i]) / max(1, abs(direct[i]))
                    if !(err <= 1e-4) {
                        let o = i / (oh * ow), y = (i / ow) % oh, xx = i % ow
                        XCTFail("cin \(cin) cout \(cout) \(h)x\(w): [\(o), \(y), \(xx)] \(fast[i]) vs \(direct[i])")
                        return
                    }
                    worst = max(worst, err)
                }
                XCTAssertTrue(fast[n...].allSatisfy { $0.isNaN }, "cin \(cin) cout \(cout) \(h)x\(w): wrote past the output")
                XCTAssertLessThan(worst, 1e-5, "cin \(cin) cout \(cout) \(h)x\(w)")
            }
        }
    }

    /// P-Net's first block (3x3 convolution, PReLU, 2x2/2 max pooling in ceil mode), which runs
    /// each pooling window as one F(2x2, 3x3) tile, against the direct convolution pooled here
    /// window by window: odd and even map sizes (windows clipped on the right and bottom), widths
    /// whose last group of 16 cells is partial or copied, slopes of both signs (a negative slope
    /// does not commute with the maximum), input rows of a taller plane, and exactly the pooled
    /// map written; channel counts past its limits check the direct kernel that takes them.
    func testFusedPoolMatchesConvolutionThenPool() throws {
        var rng = LCG(state: 8)
        let sizes = [(3, 3), (4, 4), (5, 40), (6, 35), (7, 66), (15, 27), (21, 37), (12, 99), (9, 131), (8, 34)]
        // (5, 8) and (3, 20) are outside the Winograd path's limits: the direct kernel's rows.
        for (cin, cout) in [(3, 10), (1, 3), (4, 16), (5, 8), (3, 20)] {
            let wt = rng.tensor([cout, cin, 3, 3]), b = rng.tensor([cout])
            let slopes = (0..<cout).map { Float($0 % 5) * 0.3 - 0.6 }
            let conv = try Conv2D(weight: wt, bias: b, activation: .prelu(slopes))
            for (h, w) in sizes {
                let planeRows = h + 3
                let x = rng.tensor([1, cin, planeRows, w])
                let oh = h - 2, ow = w - 2, ph = (oh + 1) / 2, pw = (ow + 1) / 2, n = cout * ph * pw
                var input = x.storage + [Float](repeating: 0, count: Conv2D.inputSlack)
                // The direct convolution of the same rows, as a dense [cin, h, w] image.
                var dense = (0..<cin).flatMap { c in x.storage[(c * planeRows * w)..<(c * planeRows * w + h * w)] }
                dense += [Float](repeating: 0, count: Conv2D.inputSlack)
                var full = [Float](repeating: .nan, count: cout * oh * ow)
                var tmp = [Float](repeating: .nan, count: conv.pooled2Scratch(width: w))
                var fused = [Float](repeating: .nan, count: n + 40)
                input.withUnsafeMutableBufferPointer { ip in
                    dense.withUnsafeMutableBufferPointer { dp in
                        full.withUnsafeMutableBufferPointer { fp in
                            tmp.withUnsafeMutableBufferPointer { tp in
                                fused.withUnsafeMutableBufferPointer { op in
                                    conv.forwardValid(dp.baseAddress!, height: h, width: w, into: fp.baseAddress!)
                                    conv.forwardValidPooled2(ip.baseAddress!, height: h, planeRows: planeRows, width: w, pooledH: ph,
                                                             pooledW: pw, tmp: tp.baseAddress!, into: op.baseAddress!)
                                }
                            }
                        }
                    }
                }
                for o in 0..<cout {
                    for py in 0..<ph {
                        for px in 0..<pw {
                            var expected = -Float.infinity
                            for y in (2 * py)..<min(2 * py + 2, oh) {
                                for xx in (2 * px)..<min(2 * px + 2, ow) { expected = max(expected, full[(o * oh + y) * ow + xx]) }
                            }
                            let got = fused[(o * ph + py) * pw + px]
                            let err = abs(got - expected) / max(1, abs(expected))
                            if !(err <= 1e-5) {
                                XCTFail("cin \(cin) cout \(cout) \(h)x\(w): [\(o), \(py), \(px)] \(got) vs \(expected)")
                                return
                            }
                        }
                    }
                }
                XCTAssertTrue(fused[n...].allSatisfy { $0.isNaN }, "cin \(cin) cout \(cout) \(h)x\(w): wrote past the pooled map")
            }
        }
    }

    /// The fused head (conv3 + PReLU + 1x1 to 6 channels, P-Net's shape) against the direct
    /// convolution followed by the separate 1x1 layer, on the awkward sizes; writes exactly the
    /// head's map. A head of the wrong shape is refused.
    func testFusedHeadMatchesTwoLayers() throws {
        var rng = LCG(state: 6)
        for (cin, cout) in [(16, 32), (3, 5), (16, 9)] {
            let slopes = (0..<cout).map { Float($0 % 4) * 0.25 }
            let conv = try Conv2D(weight: rng.tensor([cout, cin, 3, 3]), bias: rng.tensor([cout]), activation: .prelu(slopes))
            let head = try Conv2D(weight: rng.tensor([6, cout, 1, 1]), bias: rng.tensor([6]))
            let fused = try Winograd3x3(conv, head: head)
            XCTAssertEqual(fused.storedChannels, 6)
            var scratch = [Float](repeating: .nan, count: fused.scratchCount)
            for (h, w) in [(3, 3), (4, 4), (3, 35), (7, 66), (35, 3), (11, 98), (9, 131), (14, 200)] {
                let x = rng.tensor([1, cin, h, w])
                let oh = h - 2, ow = w - 2, n = 6 * oh * ow
                let mid = try conv.forward(x)
                let want = try head.forward(mid)
                var out = [Float](repeating: .nan, count: n + 40)
                x.storage.withUnsafeBufferPointer { ip in
                    out.withUnsafeMutableBufferPointer { op in
                        scratch.withUnsafeMutableBufferPointer { sp in
                            fused.forwardValid(ip.baseAddress!, height: h, width: w, scratch: sp.baseAddress!, into: op.baseAddress!)
                        }
                    }
                }
                var worst: Float = 0
                for i in 0..<n { worst = max(worst, abs(out[i] - want.storage[i]) / max(1, abs(want.storage[i]))) }
                XCTAssertLessThan(worst, 1e-4, "cin \(cin) cout \(cout) \(h)x\(w)")
                XCTAssertTrue(out[n...].allSatisfy { $0.isNaN }, "cin \(cin) cout \(cout) \(h)x\(w): wrote past the output")
            }
        }
        let conv = try Conv2D(weight: rng.tensor([8, 4, 3, 3]))
        XCTAssertThrowsError(try Winograd3x3(conv, head: Conv2D(weight: rng.tensor([5, 8, 1, 1]))))
        XCTAssertThrowsError(try Winograd3x3(conv, head: Conv2D(weight: rng.tensor([6, 8, 3, 3]))))
        XCTAssertThrowsError(try Winograd3x3(conv, head: Conv2D(weight: rng.tensor([6, 8, 1, 1]), activation: .relu)))
    }

    func testMatchesTextbook() throws {
        var rng = LCG(state: 9)
        let x = rng.tensor([1, 16, 13, 41]), wt = rng.tensor([32, 16, 3, 3]), b = rng.tensor([32])
        let conv = try Conv2D(weight: wt, bias: b)
        let ref = try naiveConvolution(x, wt, b, stride: (1, 1), pad: (0, 0))
        let wino = try Winograd3x3(conv)
        var scratch = [Float](repeating: 0, count: wino.scratchCount)
        var out = [Float](repeating: .nan, count: ref.count)
        x.storage.withUnsafeBufferPointer { ip in
            out.withUnsafeMutableBufferPointer { op in
                scratch.withUnsafeMutableBufferPointer { sp in
                    wino.forwardValid(ip.baseAddress!, height: 13, width: 41, scratch: sp.baseAddress!, into: op.baseAddress!)
                }
            }
        }
        var worst: Float = 0
        for i in 0..<ref.count { worst = max(worst, abs(out[i] - ref.storage[i])) }
        XCTAssertLessThan(worst, 1e-4)
    }

    func testRejectsOtherShapes() throws {
        var rng = LCG(state: 1)
        let strided = try Conv2D(weight: rng.tensor([4, 2, 3, 3]), stride: 2)
        XCTAssertThrowsError(try Winograd3x3(strided))
        let padded = try Conv2D(weight: rng.tensor([4, 2, 3, 3]), padding: 1)
        XCTAssertThrowsError(try Winograd3x3(padded))
        let five = try Conv2D(weight: rng.tensor([4, 2, 5, 5]))
        XCTAssertThrowsError(try Winograd3x3(five))
    }

    /// Channels-last Winograd, F(2x2, 3x3) and F(4x4, 3x3) (the crop nets' paths), against the
    /// direct channels-last kernel: map sizes of every remainder modulo 2, 3 and 4 (moved-back last
    /// tiles; maps under 6x6 fall back to the direct kernel for F(4x4)), padded channel strides
    /// and input channels, output channels padded to 64, batches split over threads mid-image.
    func testChannelsLastMatchesDirect() throws {
        try checkChannelsLastWinograd(outputTile: 2, tolerance: 5e-5)
    }

    /// F(4x4) with the head fused per tile (P-Net's conv3 + heads) against the direct
    /// channels-last convolution followed by the 1x1 head computed here; sizes with partial last
    /// tiles in both directions, several images, output channels padded (20 of 32). Writes
    /// exactly the head's planar maps. Heads of the wrong kind are refused.
    func testChannelsLastFusedHeadMatchesTwoLayers() throws {
        var rng = LCG(state: 17)
        for (n, cin, cout, h, w) in [(1, 16, 32, 6, 6), (2, 16, 32, 7, 9), (1, 16, 32, 11, 13), (1, 16, 20, 30, 98), (3, 10, 32, 9, 8)] {
            let slopes = (0..<cout).map { Float($0 % 4) * 0.25 }
            let conv = try Conv2D(weight: rng.tensor([cout, cin, 3, 3]), bias: rng.tensor([cout]), activation: .prelu(slopes))
            let head = try Conv2D(weight: rng.tensor([6, cout, 1, 1]), bias: rng.tensor([6]))
            let direct = try ChannelsLastConv(conv), fused = try ChannelsLastConv(conv, winograd: true, outputTile: 4, head: head)
            XCTAssertTrue(fused.canRunHead(height: h, width: w, channelStride: 16))
            let input = (0..<(n * h * w * 16)).map { _ in rng.next() }
            let oh = h - 2, ow = w - 2, cp = direct.paddedOut
            var mid = [Float](repeating: .nan, count: n * oh * ow * cp), got = [Float](repeating: .nan, count: n * 6 * oh * ow + 40)
            input.withUnsafeBufferPointer { ip in
                mid.withUnsafeMutableBufferPointer { mp in
                    direct.forward(ip.baseAddress!, images: n, height: h, width: w, channelStride: 16, into: mp.baseAddress!, parallel: false)
                }
                got.withUnsafeMutableBufferPointer { gp in
                    fused.forwardHead(ip.baseAddress!, images: n, height: h, width: w, channelStride: 16, into: gp.baseAddress!)
                }
            }
            var worst: Float = 0
            for b in 0..<n { for j in 0..<6 { for y in 0..<oh { for x in 0..<ow {
                var want = head.bias[j]
                for c in 0..<cout { want += head.weight[j * cout + c] * mid[((b * oh + y) * ow + x) * cp + c] }
                let v = got[((b * 6 + j) * oh + y) * ow + x]
                worst = max(worst, abs(v - want) / max(1, abs(want)))
            }}}}
            XCTAssertLessThan(worst, 3e-4, "n\(n) cin\(cin) cout\(cout) \(h)x\(w)")
            XCTAssertTrue(got[(n * 6 * oh * ow)...].allSatisfy { $0.isNaN }, "wrote past the head's maps")
        }
        let conv = try Conv2D(weight: rng.tensor([32, 16, 3, 3]))
        let head = try Conv2D(weight: rng.tensor([6, 32, 1, 1]))
        XCTAssertThrowsError(try ChannelsLastConv(conv, winograd: true, head: head))
        XCTAssertThrowsError(try ChannelsLastConv(conv, winograd: true, outputTile: 4, head: Conv2D(weight: rng.tensor([5, 32, 1, 1]))))
        XCTAssertThrowsError(try ChannelsLastConv(conv, winograd: true, outputTile: 4, head: Conv2D(weight: rng.tensor([6, 32, 1, 1]), activation: .relu)))
        XCTAssertFalse(try ChannelsLastConv(conv, winograd: true, outputTile: 4, head: head).canRunHead(height: 5, width: 9, channelStride: 16))
        XCTAssertFalse(try ChannelsLastConv(conv, winograd: true, outputTile: 4).canRunHead(height: 9, width: 9, channelStride: 16))
    }

    /// Planar maps to channels-last with 16 lanes: whole blocks of 16 pixels (the transposes) and
    /// the remainder, fewer than 16 channels (zeros after them).
    func testPlanarToChannelsLast16() {
        var rng = LCG(state: 21)
        for (c, hw) in [(16, 48), (10, 37), (16, 5), (3, 16)] {
            let x = (0..<(c * hw)).map { _ in rng.next() }
            var out = [Float](repeating: .nan, count: hw * 16)
            x.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { op in nn_planar_to_nhwc16(xp.baseAddress!, Int32(c), hw, op.baseAddress!) } }
            for p in 0..<hw { for ch in 0..<16 {
                XCTAssertEqual(out[p * 16 + ch], ch < c ? x[ch * hw + p] : 0, "c\(c) hw\(hw) [\(p), \(ch)]")
            }}
        }
    }

    func testChannelsLastF4MatchesDirect() throws {
        // F(4x4) transforms have coefficients up to 8: about ten times the rounding of F(2x2) on
        // these random 64-channel sums (with MTCNN's weights the nets still match PyTorch to 1e-6).
        try checkChannelsLastWinograd(outputTile: 4, tolerance: 3e-4)
    }

    /// F(3x3) (R-Net's conv2): the same sizes, so also every remainder modulo 3 (moved-back last
    /// tiles) and maps under 5x5 taking the direct kernel.
    func testChannelsLastF3MatchesDirect() throws {
        try checkChannelsLastWinograd(outputTile: 3, tolerance: 1e-4)
    }

    /// Row Winograd F(4, 3) (R-Net's and O-Net's conv1 on RGB crops) against the direct kernel:
    /// output widths of 4k + 2 (tiles, then the F(2, 3) tail), 4k (no tail), 2 (the tail alone)
    /// and every block remainder of 1-4 tiles; channel strides past 3; each activation; a
    /// parallel run that splits rows inside an image (the transformed-row ring restarts there);
    /// odd widths and maps past NN_ROWWINO_MAXW, which run direct (then bit for bit).
    func testRowWinogradMatchesDirect() throws {
        var rng = LCG(state: 21)
        // (n, channel stride, h, w, cout, activation)
        let cases: [(Int, Int, Int, Int, Int, Activation)] = [
            (5, 3, 24, 24, 28, .prelu((0..<28).map { Float($0 % 5) * 0.2 - 0.3 })), (3, 3, 48, 48, 32, .relu), (2, 4, 10, 10, 16, .none),
            (3, 3, 4, 6, 48, .relu), (2, 3, 4, 4, 16, .none), (2, 16, 7, 18, 20, .relu), (4, 3, 6, 14, 32, .none),
            (2, 3, 5, 30, 16, .relu), (3, 3, 9, 9, 32, .relu), (1, 3, 5, 601, 16, .none),
        ]
        for (n, cs, h, w, cout, activation) in cases {
            let conv = try Conv2D(weight: rng.tensor([cout, 3, 3, 3]), bias: rng.tensor([cout]), activation: activation)
            let direct = try ChannelsLastConv(conv), rows = try ChannelsLastConv(conv, rowWinograd: true)
            let input = (0..<(n * h * w * cs)).map { _ in rng.next() * 2 }
            let (ref, got) = forwardBoth(direct, rows, input, images: n, height: h, width: w, channelStride: cs)
            let count = ref.count
            let runsDirect = (w - 2) % 2 == 1 || w > Int(NN_ROWWINO_MAXW)
            var worst: Float = 0
            for i in 0..<count {
                let err = abs(got[i] - ref[i]) / max(1, abs(ref[i]))
                if !(err <= 1e-3) { XCTFail("rows n\(n) cs\(cs) \(h)x\(w) cout\(cout): [\(i)] \(got[i]) vs \(ref[i])"); return }
                worst = max(worst, err)
            }
            if runsDirect {
                XCTAssertEqual(got.map(\.bitPattern), ref.map(\.bitPattern), "\(h)x\(w) should run the direct kernel")
            } else {
                XCTAssertLessThan(worst, 1e-5, "rows n\(n) \(h)x\(w) cout\(cout)")
            }
        }
        XCTAssertThrowsError(try ChannelsLastConv(Conv2D(weight: rng.tensor([16, 4, 3, 3])), rowWinograd: true))
        XCTAssertThrowsError(try ChannelsLastConv(Conv2D(weight: rng.tensor([16, 3, 2, 2])), rowWinograd: true))
        XCTAssertThrowsError(try ChannelsLastConv(Conv2D(weight: rng.tensor([16, 3, 3, 3])), winograd: true, rowWinograd: true))
    }

    /// Row Winograd with its 3x3 stride-2 pool fused (`forwardPooled`) against `forward` then the
    /// channels-last pool: bit for bit (the same convolution floats, the same maxima). R-Net's
    /// and O-Net's shapes (parallel rows that split images), odd map heights (the last window
    /// clipped), floor-mode pooling, a 3x4 map and a channel stride of 4.
    func testRowWinogradPooledMatchesConvolutionThenPool() throws {
        var rng = LCG(state: 22)
        // (n, channel stride, h, w, cout, ceil mode)
        for (n, cs, h, w, cout, ceil) in [(5, 3, 24, 24, 28, true), (3, 3, 48, 48, 32, true), (4, 3, 23, 10, 16, true),
                                          (2, 4, 9, 12, 48, false), (3, 3, 5, 6, 16, true), (2, 3, 12, 20, 32, false)] {
            let conv = try Conv2D(weight: rng.tensor([cout, 3, 3, 3]), bias: rng.tensor([cout]),
                                  activation: .prelu((0..<cout).map { Float($0 % 5) * 0.2 - 0.3 }))
            let rows = try ChannelsLastConv(conv, rowWinograd: true)
            let pool = MaxPool2D(kernel: 3, stride: 2, ceilMode: ceil)
            let (oh, ow) = rows.outputSize(height: h, width: w)
            let ph = pool.outputSize(oh), pw = pool.outputSize(ow), cp = rows.paddedOut
            XCTAssertTrue(rows.canRunPooled(pool, height: h, width: w, channelStride: cs), "\(h)x\(w)")
            let input = (0..<(n * h * w * cs)).map { _ in rng.next() * 2 }
            var full = [Float](repeating: .nan, count: n * oh * ow * cp)
            var ref = [Float](repeating: .nan, count: n * ph * pw * cp), got = [Float](repeating: .nan, count: n * ph * pw * cp + 32)
            input.withUnsafeBufferPointer { ip in
                full.withUnsafeMutableBufferPointer { fp in
                    rows.forward(ip.baseAddress!, images: n, height: h, width: w, channelStride: cs, into: fp.baseAddress!, parallel: false)
                    ref.withUnsafeMutableBufferPointer { rp in
                        pool.forwardChannelsLast(fp.baseAddress!, images: n, height: oh, width: ow, channels: cp, into: rp.baseAddress!)
                    }
                }
                got.withUnsafeMutableBufferPointer { gp in
                    rows.forwardPooled(ip.baseAddress!, images: n, height: h, width: w, channelStride: cs, pool: pool, into: gp.baseAddress!,
                                       parallel: true)
                }
            }
            XCTAssertEqual(Array(got[..<ref.count]).map(\.bitPattern), ref.map(\.bitPattern), "n\(n) \(h)x\(w) cout\(cout) ceil \(ceil)")
            XCTAssertTrue(got[ref.count...].allSatisfy(\.isNaN), "wrote past the output")
        }
        let conv = try Conv2D(weight: rng.tensor([16, 3, 3, 3]))
        let rows = try ChannelsLastConv(conv, rowWinograd: true), direct = try ChannelsLastConv(conv)
        let pool = MaxPool2D(kernel: 3, stride: 2, ceilMode: true)
        XCTAssertFalse(direct.canRunPooled(pool, height: 24, width: 24, channelStride: 3))
        XCTAssertFalse(rows.canRunPooled(MaxPool2D(kernel: 2, stride: 2, ceilMode: true), height: 24, width: 24, channelStride: 3))
        XCTAssertFalse(rows.canRunPooled(MaxPool2D(kernel: 3, stride: 1), height: 24, width: 24, channelStride: 3))
        XCTAssertFalse(rows.canRunPooled(pool, height: 24, width: 23, channelStride: 3), "odd output width")
        XCTAssertFalse(rows.canRunPooled(pool, height: 24, width: 300, channelStride: 3), "a row past NN_ROWWINO_POOL_ROW")
    }

    /// `reference.forward` (one thread) and `other.forward` (over the cores) of the same 3x3 layer
    /// on `input`, each into its own NaN-filled output.
    private func forwardBoth(_ reference: ChannelsLastConv, _ other: ChannelsLastConv, _ input: [Float], images n: Int, height h: Int,
                             width w: Int, channelStride cs: Int) -> (reference: [Float], other: [Float]) {
        let count = n * (h - 2) * (w - 2) * reference.paddedOut
        var ref = [Float](repeating: .nan, count: count), got = [Float](repeating: .nan, count: count)
        input.withUnsafeBufferPointer { ip in
            ref.withUnsafeMutableBufferPointer { rp in
                got.withUnsafeMutableBufferPointer { gp in
                    reference.forward(ip.baseAddress!, images: n, height: h, width: w, channelStride: cs, into: rp.baseAddress!, parallel: false)
                    other.forward(ip.baseAddress!, images: n, height: h, width: w, channelStride: cs, into: gp.baseAddress!, parallel: true)
                }
            }
        }
        return (ref, got)
    }

    private func checkChannelsLastWinograd(outputTile: Int, tolerance: Float) throws {
        var rng = LCG(state: 13)
        // (n, cin, channel stride, h, w, cout)
        for (n, cin, cs, h, w, cout) in [(9, 32, 32, 23, 23, 64), (3, 64, 64, 10, 10, 64), (2, 16, 20, 4, 4, 64),
                                         (5, 32, 48, 5, 7, 50), (40, 32, 32, 9, 6, 64), (1, 48, 48, 8, 13, 64),
                                         (6, 28, 32, 11, 11, 48), (2, 10, 16, 7, 8, 40), (3, 16, 16, 6, 6, 16), (4, 20, 32, 9, 9, 32),
                                         (2, 32, 32, 12, 17, 64), (3, 64, 64, 15, 16, 48), (2, 16, 16, 7, 9, 32)] {
            let wt = rng.tensor([cout, cin, 3, 3]), b = rng.tensor([cout])
            let slopes = (0..<cout).map { Float($0 % 5) * 0.2 }
            let conv = try Conv2D(weight: wt, bias: b, activation: .prelu(slopes))
            let direct = try ChannelsLastConv(conv), wino = try ChannelsLastConv(conv, winograd: true, outputTile: outputTile)
            let input = (0..<(n * h * w * cs)).map { _ in rng.next() }
            let (ref, got) = forwardBoth(direct, wino, input, images: n, height: h, width: w, channelStride: cs)
            let count = ref.count
            var worst: Float = 0
            for i in 0..<count {
                let err = abs(got[i] - ref[i]) / max(1, abs(ref[i]))
                if !(err <= 1e-3) { XCTFail("F\(outputTile) n\(n) cin\(cin) \(h)x\(w) cout\(cout): [\(i)] \(got[i]) vs \(ref[i])"); return }
                worst = max(worst, err)
            }
            XCTAssertLessThan(worst, tolerance, "F\(outputTile) n\(n) cin\(cin) \(h)x\(w)")
        }
        guard outputTile == 2 else {
            XCTAssertThrowsError(try ChannelsLastConv(Conv2D(weight: rng.tensor([16, 16, 3, 3])), winograd: true, outputTile: 5))
            return
        }
        var rng2 = LCG(state: 2)
        XCTAssertThrowsError(try ChannelsLastConv(Conv2D(weight: rng2.tensor([64, 80, 3, 3])), winograd: true))
        XCTAssertThrowsError(try ChannelsLastConv(Conv2D(weight: rng2.tensor([64, 16, 2, 2])), winograd: true))
        XCTAssertThrowsError(try ChannelsLastConv(Conv2D(weight: rng2.tensor([128, 32, 3, 3])), winograd: true))
    }
}
