import Foundation
import XCTest
@testable import NeuralNet

final class MicroBench: XCTestCase {
    func testConvSpeed() throws {
        guard ProcessInfo.processInfo.environment["FER_BENCH"] != nil else { throw XCTSkip("FER_BENCH") }
        var rng = LCG(state: 1)
        func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
        for (c, o, h, w) in [(16, 32, 98, 176), (3, 10, 202, 358), (10, 16, 100, 178)] {
            let x = rng.tensor([1, c, h, w]), wt = rng.tensor([o, c, 3, 3])
            let conv = try Conv2D(weight: wt, activation: .prelu([Float](repeating: 0.2, count: o)))
            _ = try conv.forward(x)
            let t0 = now()
            for _ in 0..<20 { _ = try conv.forward(x) }
            let dt = (now() - t0) / 20
            let macs = Double(o * c * 9 * (h - 2) * (w - 2))
            print(String(format: "CONV %d->%d %dx%d: %.2f ms, %.1f GMAC/s", c, o, h, w, dt * 1000, macs / dt / 1e9))
        }
        let x = rng.tensor([1, 10, 202, 356])
        let pool = MaxPool2D(kernel: 2, stride: 2, ceilMode: true)
        let t0 = now()
        for _ in 0..<20 { _ = try pool.forward(x) }
        print(String(format: "POOL %.2f ms", (now() - t0) / 20 * 1000))
    }
}
