import XCTest
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
}
