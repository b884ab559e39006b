import TestSupport
import XCTest
@testable import NeuralNet

/// The channels-last kernel against the textbook convolution, with
/// channel counts that hit every vector grouping (16, 32, 48, 64 + remainder) and padded strides.
final class ChannelsLastTests: XCTestCase {
    func toNHWC(_ x: Tensor, stride cs: Int) -> [Float] {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var r = [Float](repeating: .nan, count: n * h * w * cs + 16)
        for b in 0..<n { for ci in 0..<c { for y in 0..<h { for xx in 0..<w {
            r[((b * h + y) * w + xx) * cs + ci] = x[b, ci, y, xx]
        }}}}
        return r
    }

    func testConvMatchesNaive() throws {
        var rng = LCG(state: 7)
        // (n, cin, channel stride, h, w, cout, k)
        for (n, cin, cs, h, w, cout, k) in [(3, 3, 3, 24, 24, 28, 3), (2, 28, 32, 11, 11, 48, 3), (5, 48, 48, 4, 4, 64, 2),
                                            (1, 10, 16, 9, 13, 16, 3), (2, 7, 9, 6, 5, 70, 1), (7, 20, 20, 1, 1, 130, 1),
                                            (1, 16, 16, 17, 30, 32, 3)] {
            let x = rng.tensor([n, cin, h, w]), wt = rng.tensor([cout, cin, k, k]), b = rng.tensor([cout])
            let slopes = (0..<cout).map { Float($0 % 5) * 0.1 }
            let conv = try Conv2D(weight: wt, bias: b, activation: .prelu(slopes))
            var ref = try naiveConvolution(x, wt, b, stride: (1, 1), pad: (0, 0))
            try Activation.prelu(slopes).apply(to: &ref, layer: "test")
            let cl = try ChannelsLastConv(conv)
            XCTAssertEqual(cl.paddedOut % 16, 0)
            let input = toNHWC(x, stride: cs)
            let (oh, ow) = cl.outputSize(height: h, width: w)
            var out = [Float](repeating: .nan, count: n * oh * ow * cl.paddedOut)
            input.withUnsafeBufferPointer { ip in
                out.withUnsafeMutableBufferPointer { op in
                    cl.forward(ip.baseAddress!, images: n, height: h, width: w, channelStride: cs, into: op.baseAddress!, parallel: true)
                }
            }
            var worst: Float = 0
            for bi in 0..<n { for o in 0..<cl.paddedOut { for y in 0..<oh { for xx in 0..<ow {
                let v = out[((bi * oh + y) * ow + xx) * cl.paddedOut + o]
                let want: Float = o < cout ? ref[bi, o, y, xx] : 0
                worst = max(worst, abs(v - want))
                if !(abs(v - want) <= 1e-4) { XCTFail("n\(n) cin\(cin) cout\(cout) k\(k): [\(bi), \(o), \(y), \(xx)] \(v) vs \(want)"); return }
            }}}}
            XCTAssertLessThan(worst, 1e-4)
        }
    }

    func testPoolMatchesPlanar() throws {
        var rng = LCG(state: 3)
        // MTCNN's shapes (even and odd sides, windows over the edge), channels 32 and 48 (whole
        // vectors, the unrolled kernels) and 20 (the general path).
        for (k, s, h, w, c) in [(3, 2, 22, 22, 32), (2, 2, 7, 9, 32), (3, 2, 9, 9, 48), (3, 2, 46, 46, 32), (3, 2, 21, 21, 64),
                                (2, 2, 8, 8, 64), (3, 2, 10, 7, 20), (2, 2, 5, 4, 20), (3, 3, 11, 8, 16)] {
            let x = rng.tensor([2, c, h, w])
            let pool = MaxPool2D(kernel: k, stride: s, ceilMode: true)
            let ref = try pool.forward(x)
            let oh = pool.outputSize(h), ow = pool.outputSize(w)
            let input = toNHWC(x, stride: c)
            var out = [Float](repeating: .nan, count: 2 * oh * ow * c)
            input.withUnsafeBufferPointer { ip in
                out.withUnsafeMutableBufferPointer { op in
                    pool.forwardChannelsLast(ip.baseAddress!, images: 2, height: h, width: w, channels: c, into: op.baseAddress!)
                }
            }
            for b in 0..<2 { for ch in 0..<c { for y in 0..<oh { for xx in 0..<ow {
                XCTAssertEqual(out[((b * oh + y) * ow + xx) * c + ch], ref[b, ch, y, xx], "k\(k) s\(s) \(h)x\(w)x\(c)")
            }}}}
        }
    }
}

/// The textbook valid convolution (stride 1), in Double.
func naiveConvolution(_ x: Tensor, _ w: Tensor, _ b: Tensor, stride: (Int, Int), pad: (Int, Int)) throws -> Tensor {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
    let oh = h - kh + 1, ow = wd - kw + 1
    var out = [Float](repeating: 0, count: n * o * oh * ow)
    for bi in 0..<n { for oc in 0..<o { for y in 0..<oh { for xx in 0..<ow {
        var s = Double(b.storage[oc])
        for ic in 0..<c { for ky in 0..<kh { for kx in 0..<kw {
            s += Double(x[bi, ic, y + ky, xx + kx]) * Double(w[oc, ic, ky, kx])
        }}}
        out[((bi * o + oc) * oh + y) * ow + xx] = Float(s)
    }}}}
    return try Tensor(shape: [n, o, oh, ow], storage: out)
}
