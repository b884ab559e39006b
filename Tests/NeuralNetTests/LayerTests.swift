import TestSupport
import XCTest
@testable import NeuralNet

final class LayerTests: XCTestCase {
    /// The textbook definition, written independently of the im2col code.
    func naiveConv(_ x: Tensor, _ w: Tensor, _ b: Tensor, stride: (Int, Int), pad: (Int, Int)) -> Tensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        let oh = (h + 2 * pad.0 - kh) / stride.0 + 1, ow = (wd + 2 * pad.1 - kw) / stride.1 + 1
        var out = [Float](repeating: 0, count: n * o * oh * ow)
        for bi in 0..<n { for oc in 0..<o { for y in 0..<oh { for xx in 0..<ow {
            var s = Double(b.storage[oc])
            for ic in 0..<c { for ky in 0..<kh { for kx in 0..<kw {
                let iy = y * stride.0 - pad.0 + ky, ix = xx * stride.1 - pad.1 + kx
                if iy >= 0, iy < h, ix >= 0, ix < wd {
                    s += Double(x[bi, ic, iy, ix]) * Double(w[oc, ic, ky, kx])
                }
            }}}
            out[((bi * o + oc) * oh + y) * ow + xx] = Float(s)
        }}}}
        return try! Tensor(shape: [n, o, oh, ow], storage: out)
    }

    func assertClose(_ a: Tensor, _ b: Tensor, tol: Float = 1e-4, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, file: file, line: line)
        guard a.shape == b.shape else { return }
        var worst: Float = 0
        for i in 0..<a.count { worst = max(worst, abs(a.storage[i] - b.storage[i])) }
        XCTAssertLessThanOrEqual(worst, tol, "max abs difference", file: file, line: line)
    }

    func testConvMatchesNaive() throws {
        var rng = LCG(state: 7)
        let cases: [(c: Int, o: Int, h: Int, w: Int, kh: Int, kw: Int, s: (Int, Int), p: (Int, Int), n: Int)] = [
            (3, 10, 12, 12, 3, 3, (1, 1), (0, 0), 1),
            (4, 5, 9, 7, 3, 3, (2, 2), (1, 1), 3),
            (2, 3, 8, 10, 1, 1, (1, 1), (0, 0), 2),
            (3, 4, 11, 6, 5, 2, (2, 1), (2, 0), 2),
            (1, 2, 5, 5, 3, 3, (1, 1), (2, 2), 1),
            (6, 8, 16, 16, 3, 3, (1, 1), (1, 1), 9),
            (5, 13, 6, 75, 3, 3, (1, 1), (0, 0), 2),
            (3, 7, 4, 40, 2, 2, (1, 1), (1, 1), 1),
        ]
        for t in cases {
            let x = rng.tensor([t.n, t.c, t.h, t.w])
            let w = rng.tensor([t.o, t.c, t.kh, t.kw])
            let b = rng.tensor([t.o])
            let conv = try Conv2D(weight: w, bias: b, stride: (h: t.s.0, w: t.s.1), padding: (h: t.p.0, w: t.p.1))
            assertClose(try conv.forward(x), naiveConv(x, w, b, stride: t.s, pad: t.p))
        }
    }

    func testFusedActivationsAndBatchNormFolding() throws {
        var rng = LCG(state: 11)
        let x = rng.tensor([2, 3, 6, 6]), w = rng.tensor([4, 3, 3, 3]), b = rng.tensor([4])
        let slopes: [Float] = [0.1, 0.2, 0.3, 0.4]
        let plain = naiveConv(x, w, b, stride: (1, 1), pad: (1, 1))
        var expected = plain.storage
        for i in 0..<expected.count where expected[i] < 0 { expected[i] *= slopes[(i / 36) % 4] }
        let fused = try Conv2D(weight: w, bias: b, padding: 1, activation: .prelu(slopes)).forward(x)
        assertClose(fused, try Tensor(shape: plain.shape, storage: expected))

        let gamma = try Tensor(shape: [4], storage: [1, 2, 0.5, -1]), beta = try Tensor(shape: [4], storage: [0, 1, -1, 2])
        let mean = try Tensor(shape: [4], storage: [0.1, -0.2, 0.3, 0]), variance = try Tensor(shape: [4], storage: [1, 4, 0.25, 2])
        let folded = try Conv2D(weight: w, bias: b, padding: 1).foldingBatchNorm(gamma: gamma, beta: beta, mean: mean, variance: variance, eps: 1e-5)
        let bn = try BatchNorm(gamma: gamma.storage, beta: beta.storage, mean: mean.storage, variance: variance.storage, eps: 1e-5)
        var manual = plain.storage
        for i in 0..<manual.count {
            let c = (i / 36) % 4
            manual[i] = (manual[i] - mean.storage[c]) / (variance.storage[c] + 1e-5).squareRoot() * gamma.storage[c] + beta.storage[c]
        }
        let expectedBN = try Tensor(shape: plain.shape, storage: manual)
        assertClose(try folded.forward(x), expectedBN)
        assertClose(try bn.forward(plain), expectedBN)
    }

    func testConvRejectsWrongChannelsAndTinyInput() throws {
        let conv = try Conv2D(weight: Tensor(shape: [2, 3, 3, 3]))
        XCTAssertThrowsError(try conv.forward(Tensor(shape: [1, 4, 8, 8])))
        XCTAssertThrowsError(try conv.forward(Tensor(shape: [1, 3, 2, 8])))
        XCTAssertThrowsError(try Tensor(shape: [2, 2], storage: [1, 2, 3]))
    }

    func testMaxPoolOutputSizes() throws {
        // Values from torch.nn.MaxPool2d(k, s, ceil_mode=...) on the given sizes.
        let ceil2 = MaxPool2D(kernel: 2, stride: 2, ceilMode: true)
        XCTAssertEqual([10, 11, 12, 13, 1, 2, 3].map(ceil2.outputSize), [5, 6, 6, 7, 1, 1, 2])
        let ceil3 = MaxPool2D(kernel: 3, stride: 2, ceilMode: true)
        XCTAssertEqual([22, 23, 10, 46, 21, 3, 4].map(ceil3.outputSize), [11, 11, 5, 23, 10, 1, 2])
        let floor3 = MaxPool2D(kernel: 3, stride: 2)
        XCTAssertEqual([22, 23, 10, 3, 2].map(floor3.outputSize), [10, 11, 4, 1, 0])
        let padded = MaxPool2D(kernel: 3, stride: 2, padding: 1)
        XCTAssertEqual([112, 7, 1].map(padded.outputSize), [56, 4, 1])
    }

    func testMaxPoolCeilClipsLastWindow() throws {
        let x = try Tensor(shape: [1, 1, 3, 3], storage: [1, 2, 3, 4, 5, 6, 7, 8, -9])
        let y = try MaxPool2D(kernel: 2, stride: 2, ceilMode: true).forward(x)
        XCTAssertEqual(y.shape, [1, 1, 2, 2])
        XCTAssertEqual(y.storage, [5, 6, 8, -9])
        let f = try MaxPool2D(kernel: 2, stride: 2).forward(x)
        XCTAssertEqual(f.storage, [5])
    }

    func testSoftmaxAlongChannels() throws {
        let x = try Tensor(shape: [1, 2, 1, 2], storage: [0, 1000, 0, 999])
        let y = try Softmax().forward(x)
        XCTAssertEqual(y[0, 0, 0, 0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(y[0, 1, 0, 0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(y[0, 0, 0, 1], Float(1 / (1 + exp(-1.0))), accuracy: 1e-6)
        let z = try Softmax().forward(Tensor(shape: [2, 3], storage: [1, 2, 3, 0, 0, 0]))
        let e = [exp(1.0), exp(2.0), exp(3.0)], s = e.reduce(0, +)
        XCTAssertEqual(z[0, 2], Float(e[2] / s), accuracy: 1e-6)
        XCTAssertEqual(z[1, 1], 1.0 / 3, accuracy: 1e-6)
    }

    func testLinearPoolFlattenResidual() throws {
        var rng = LCG(state: 3)
        let x = rng.tensor([3, 2, 2, 2]), w = rng.tensor([5, 8]), b = rng.tensor([5])
        let y = try Sequential(Flatten(), Dropout(), Linear(weight: w, bias: b, activation: .relu)).forward(x)
        XCTAssertEqual(y.shape, [3, 5])
        for n in 0..<3 { for o in 0..<5 {
            var s = b.storage[o]
            for i in 0..<8 { s += x.storage[n * 8 + i] * w[o, i] }
            XCTAssertEqual(y[n, o], max(0, s), accuracy: 1e-5)
        }}
        let g = try GlobalAveragePool().forward(x)
        XCTAssertEqual(g.shape, [3, 2])
        XCTAssertEqual(g[1, 1], (x[1, 1, 0, 0] + x[1, 1, 0, 1] + x[1, 1, 1, 0] + x[1, 1, 1, 1]) / 4, accuracy: 1e-6)
        let r = try Residual(body: ReLU(), activation: .none).forward(x)
        for i in 0..<x.count { XCTAssertEqual(r.storage[i], x.storage[i] + max(0, x.storage[i]), accuracy: 1e-6) }
        XCTAssertThrowsError(try x.adding(Tensor(shape: [3, 8])))
    }

    func testPReLULayer() throws {
        let x = try Tensor(shape: [1, 2, 1, 2], storage: [-1, 2, -3, 4])
        XCTAssertEqual(try PReLU(slopes: [0.5, 0.25]).forward(x).storage, [-0.5, 2, -0.75, 4])
        XCTAssertThrowsError(try PReLU(slopes: [1, 2, 3]).forward(x))
    }
}
