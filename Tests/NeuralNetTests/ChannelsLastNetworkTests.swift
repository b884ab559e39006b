import XCTest
@testable import NeuralNet

/// The channels-last chain against the layer-by-layer NCHW path (`Sequential`, itself checked
/// against the textbook convolution in LayerTests), on sizes that hit every branch: odd maps,
/// padding 0/1/2, fused and unfused pooling (floor and ceil mode), channel counts that are not
/// multiples of 16 and every vector grouping (1, 2, 3 and 2+2 vectors), PReLU, GAP and flatten
/// tails, batches of 1 (pixels split over cores), and batches that leave partial groups.
final class ChannelsLastNetworkTests: XCTestCase {
    /// Weights scaled by 1/sqrt(fan-in) so activations stay O(1) through the layers.
    private func conv(_ rng: inout LCG, _ cin: Int, _ cout: Int, k: Int, pad: Int, _ act: Activation) throws -> Conv2D {
        var w = rng.tensor([cout, cin, k, k])
        let s = 1.5 / Float(cin * k * k).squareRoot()
        for i in w.storage.indices { w.storage[i] *= s }
        return try Conv2D(weight: w, bias: rng.tensor([cout]), stride: 1, padding: pad, activation: act)
    }

    private func linear(_ rng: inout LCG, _ n: Int, _ out: Int, _ act: Activation) throws -> Linear {
        var w = rng.tensor([out, n])
        let s = 1.5 / Float(n).squareRoot()
        for i in w.storage.indices { w.storage[i] *= s }
        return try Linear(weight: w, bias: rng.tensor([out]), activation: act)
    }

    private func layer(_ op: ChannelsLastNetwork.Op) -> any Layer {
        switch op {
        case .conv(let c): return c
        case .maxPool(let m): return m
        case .globalAveragePool: return GlobalAveragePool()
        case .flatten: return Flatten()
        case .linear(let l): return l
        case .activation(.relu): return ReLU()
        case .activation(.prelu(let s)): return PReLU(slopes: s)
        case .activation(.none): return Flatten()
        case .softmax: return Softmax()
        }
    }

    private func check(_ name: String, input: [Int], ops: [ChannelsLastNetwork.Op], batches: [Int], fused: Int,
                       winograd: Int = 0, rng: inout LCG, groupSizes: [Int] = [8, 3]) throws {
        let reference = Sequential(ops.map(layer))
        for (g, useWinograd) in groupSizes.flatMap({ g in [(g, true), (g, false)] }) {
            var net = try ChannelsLastNetwork(input: input, ops: ops, winograd: useWinograd)
            net.groupSize = g
            XCTAssertEqual(net.fusedPools, fused, name)
            XCTAssertEqual(net.winogradConvs, useWinograd ? winograd : 0, name)
            for n in batches {
                let x = rng.tensor([n] + input)
                let want = try reference.forward(x)
                let got = try net.forward(x)
                XCTAssertEqual(got.shape, [n, net.outputs], name)
                XCTAssertEqual(want.count, got.count, name)
                var worst: Float = 0
                for i in 0..<min(want.count, got.count) { worst = max(worst, abs(want.storage[i] - got.storage[i])) }
                XCTAssertLessThan(worst, 1e-4, "\(name): batch \(n), group \(g), winograd \(useWinograd), max difference \(worst)")
            }
        }
    }

    func testConvPoolGlobalAverageChain() throws {
        var rng = LCG(state: 11)
        let ops: [ChannelsLastNetwork.Op] = [
            .conv(try conv(&rng, 3, 20, k: 3, pad: 1, .prelu((0..<20).map { Float($0 % 4) * 0.2 - 0.3 }))),
            .maxPool(MaxPool2D(kernel: 2)),                       // 13x11 -> 6x5, floor: fused
            .conv(try conv(&rng, 20, 33, k: 3, pad: 2, .relu)),   // 8x7, 3 vectors
            .maxPool(MaxPool2D(kernel: 3, stride: 2, ceilMode: true)), // unfused
            .conv(try conv(&rng, 33, 64, k: 2, pad: 0, .relu)),   // 2 + 2 vectors
            .conv(try conv(&rng, 64, 7, k: 1, pad: 0, .none)),    // 1 vector
            .globalAveragePool, .flatten,
            .linear(try linear(&rng, 7, 5, .prelu([0.1]))),
            .softmax,
        ]
        try check("gap chain", input: [3, 13, 11], ops: ops, batches: [1, 2, 5, 19], fused: 1, rng: &rng)
    }

    func testFlattenTailAndCeilPooling() throws {
        var rng = LCG(state: 5)
        let ops: [ChannelsLastNetwork.Op] = [
            .conv(try conv(&rng, 1, 16, k: 3, pad: 1, .relu)),
            .maxPool(MaxPool2D(kernel: 2, ceilMode: true)),        // 10x10 even: fused
            .conv(try conv(&rng, 16, 80, k: 3, pad: 1, .relu)),   // 5 vectors: 3 + 2
            .maxPool(MaxPool2D(kernel: 2, ceilMode: true)),        // 5x5 odd, ceil: unfused (3x3)
            .conv(try conv(&rng, 80, 112, k: 1, pad: 0, .prelu([0.25]))), // 7 vectors: 3 + 2 + 2
            .flatten,
            .linear(try linear(&rng, 112 * 9, 12, .relu)),
            .linear(try linear(&rng, 12, 4, .none)),
            .softmax,
        ]
        try check("flatten chain", input: [1, 10, 10], ops: ops, batches: [1, 4, 9], fused: 1, rng: &rng)
    }

    /// The emotion network's shape (VGG blocks at 48x48), where every pool is fused.
    func testFerNetShape() throws {
        var rng = LCG(state: 9)
        let ops: [ChannelsLastNetwork.Op] = [
            .conv(try conv(&rng, 1, 32, k: 3, pad: 1, .relu)), .maxPool(MaxPool2D(kernel: 2)),
            .conv(try conv(&rng, 32, 48, k: 3, pad: 1, .relu)), .maxPool(MaxPool2D(kernel: 2)),
            .conv(try conv(&rng, 48, 96, k: 3, pad: 1, .relu)),
            .conv(try conv(&rng, 96, 96, k: 3, pad: 1, .relu)), .maxPool(MaxPool2D(kernel: 2)),
            .conv(try conv(&rng, 96, 40, k: 3, pad: 1, .relu)), .maxPool(MaxPool2D(kernel: 2)),
            .globalAveragePool, .flatten, .linear(try linear(&rng, 40, 7, .none)), .softmax,
        ]
        try check("fernet-like", input: [1, 48, 48], ops: ops, batches: [1, 3, 17], fused: 4, winograd: 4, rng: &rng,
                  groupSizes: [8])
    }

    /// A batch gives the same bits whatever ran before it on the same network (batches with
    /// partial groups, a one-image batch, other sizes in between), the same as on a network that
    /// never ran: nothing of one call leaks into the next.
    func testResultsDoNotDependOnEarlierCalls() throws {
        var rng = LCG(state: 31)
        let ops: [ChannelsLastNetwork.Op] = [
            .conv(try conv(&rng, 1, 16, k: 3, pad: 1, .relu)), .maxPool(MaxPool2D(kernel: 2)),
            .conv(try conv(&rng, 16, 40, k: 3, pad: 1, .prelu([0.2]))), .maxPool(MaxPool2D(kernel: 2)),
            .conv(try conv(&rng, 40, 24, k: 3, pad: 1, .relu)),
            .globalAveragePool, .flatten, .linear(try linear(&rng, 24, 7, .none)), .softmax,
        ]
        let batches = [20, 17, 1, 16, 3].map { rng.tensor([$0, 1, 12, 12]) }
        let used = try ChannelsLastNetwork(input: [1, 12, 12], ops: ops)
        var first: [[Float]] = []
        for x in batches { first.append(try used.forward(x).storage) }
        for (k, x) in batches.enumerated().reversed() {
            XCTAssertEqual(try used.forward(x).storage, first[k], "batch \(k) run again on the same network")
            let fresh = try ChannelsLastNetwork(input: [1, 12, 12], ops: ops)
            XCTAssertEqual(try fresh.forward(x).storage, first[k], "batch \(k) on a network that never ran")
        }
    }

    /// Winograd F(2x2, 3x3) where it applies: input channels padded in storage (20 in 32), output
    /// channels that are not a multiple of 16, PReLU, unfused and fused pooling, non-square maps,
    /// chunks of tiles that straddle images; an odd map falls back to the direct kernel.
    func testWinogradOnAwkwardShapes() throws {
        var rng = LCG(state: 21)
        let ops: [ChannelsLastNetwork.Op] = [
            .conv(try conv(&rng, 5, 20, k: 3, pad: 1, .relu)),    // 5 channels in storage: direct
            .conv(try conv(&rng, 20, 40, k: 3, pad: 1, .prelu((0..<40).map { Float($0 % 3) * 0.3 - 0.2 }))),
            .conv(try conv(&rng, 40, 24, k: 3, pad: 1, .relu)), .maxPool(MaxPool2D(kernel: 2)),  // 10x14 -> 5x7
            .conv(try conv(&rng, 24, 16, k: 3, pad: 1, .relu)),   // 5x7, odd: direct
            .globalAveragePool, .linear(try linear(&rng, 16, 6, .none)), .softmax,
        ]
        try check("winograd", input: [5, 10, 14], ops: ops, batches: [1, 2, 7, 12], fused: 1, winograd: 2, rng: &rng)
    }

    func testUnsupportedChainsAreRefused() throws {
        var rng = LCG(state: 2)
        let strided = try Conv2D(weight: rng.tensor([4, 1, 3, 3]), stride: 2, padding: 1)
        XCTAssertThrowsError(try ChannelsLastNetwork(input: [1, 8, 8], ops: [.conv(strided), .globalAveragePool]))
        let c = try conv(&rng, 1, 4, k: 3, pad: 1, .none)
        XCTAssertThrowsError(try ChannelsLastNetwork(input: [1, 8, 8], ops: [.conv(c), .activation(.relu), .globalAveragePool]))
        XCTAssertThrowsError(try ChannelsLastNetwork(input: [1, 8, 8], ops: [.maxPool(MaxPool2D(kernel: 3, padding: 1)), .flatten]))
        XCTAssertThrowsError(try ChannelsLastNetwork(input: [1, 8, 8], ops: [.conv(c)]), "ends in a map, not a vector")
        let net = try ChannelsLastNetwork(input: [1, 8, 8], ops: [.conv(c), .globalAveragePool])
        XCTAssertThrowsError(try net.forward(Tensor(shape: [2, 1, 8, 9])))
    }
}

import CKernels
import TestSupport

extension ChannelsLastNetworkTests {
    /// The Winograd kernel called on tile ranges (as a caller splitting a layer would), with small
    /// chunks, against the direct kernel on the same zero-bordered map.
    func testWinogradTileRangesMatchDirect() throws {
        var rng = LCG(state: 33)
        let (n, h, w, cin, cs, cout, coutp) = (3, 8, 6, 20, 32, 40, 48)
        let conv = try conv(&rng, cin, cout, k: 3, pad: 1, .prelu([0.3]))
        let wino = ChannelsLastNetwork.winograd(conv, cs: cs, coutp: coutp, pool: false)
        let hp = h + 2, wp = w + 2, inImg = hp * wp * cs, outImg = hp * wp * coutp
        var x = [Float](repeating: 0, count: n * inImg + 16)
        for b in 0..<n { for y in 1...h { for xx in 1...w { for c in 0..<cin {
            x[b * inImg + (y * wp + xx) * cs + c] = rng.next()
        }}}}
        // Direct reference: weights packed [3][3][cin][coutp].
        var packed = [Float](repeating: 0, count: 9 * cin * coutp), bias = [Float](repeating: 0, count: coutp)
        for o in 0..<cout {
            bias[o] = conv.bias[o]
            for c in 0..<cin { for k in 0..<9 { packed[(k * cin + c) * coutp + o] = conv.weight[(o * cin + c) * 9 + k] } }
        }
        let slopes = [Float](repeating: 0.3, count: coutp), zeros = [Float](repeating: 0, count: coutp)
        var want = [Float](repeating: -7, count: n * outImg), got = want
        fercls_conv_nhwc(x, inImg, Int32(hp), Int32(wp), Int32(cs), Int32(cin), packed, bias, slopes, Int32(coutp), 3, 3,
                         Int32(NN_ACT_PRELU), &want, outImg, Int32(wp), 1, 0, 0, n * h * w)
        let tiles = n * h * w / 4, chunk = 8
        var v = [Float](repeating: 0, count: 16 * chunk * cs), m = [Float](repeating: 0, count: 16 * chunk * coutp)
        for (t0, t1) in [(0, 5), (5, 23), (23, tiles)] {
            fercls_winograd3x3(x, inImg, Int32(hp), Int32(wp), Int32(cs), wino.u, wino.bias, wino.slopes, Int32(coutp), wino.act,
                               &got, outImg, Int32(wp), 1, 0, n, &v, &m, Int32(chunk), zeros, t0, t1)
        }
        var worst: Float = 0
        for i in want.indices { worst = max(worst, abs(want[i] - got[i])) }
        XCTAssertLessThan(worst, 1e-4, "max difference \(worst)")
        XCTAssertEqual(got[0], -7, "the border is not written")
    }
}
