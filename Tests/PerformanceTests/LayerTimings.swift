import Benchmarks
import Foundation
import TestSupport
import XCTest
@testable import NeuralNet

/// Opt-in timings of NeuralNet's layers (`FER_BENCH=1`): each prints figures and asserts only
/// that the work ran. Run them on a release build:
///   FER_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter LayerTimings
final class LayerTimings: XCTestCase {
    func testConvSpeed() throws {
        guard ProcessInfo.processInfo.environment["FER_BENCH"] != nil else { throw XCTSkip("FER_BENCH") }
        var rng = LCG(state: 1)
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

import CKernels

final class ChannelsLastMicroBench: XCTestCase {
    /// fernet's layers through fercls_conv_nhwc, one thread, 8 images per call: useful GMAC/s.
    func testFerNetLayerSpeed() throws {
        guard ProcessInfo.processInfo.environment["FER_BENCH"] != nil else { throw XCTSkip("FER_BENCH") }
        let g = 8
        // (map side without padding, cin, cout, pool)
        var total = 0.0
        for (side, cin, cout, pool) in [(48, 1, 32, true), (24, 32, 48, true), (12, 48, 96, false), (12, 96, 96, true),
                                         (6, 96, 192, false), (6, 192, 192, true), (3, 192, 384, false)] {
            let hp = side + 2, inImg = hp * hp * cin, oside = pool ? side / 2 : side, outImg = (oside + 2) * (oside + 2) * cout
            let x = [Float](repeating: 0.5, count: g * inImg + 16), w = [Float](repeating: 0.01, count: 9 * cin * cout)
            let b = [Float](repeating: 0, count: cout)
            var y = [Float](repeating: 0, count: g * outImg + 16)
            let positions = g * oside * oside
            let reps = 50
            let t0 = now()
            for _ in 0..<reps {
                fercls_conv_nhwc(x, inImg, Int32(hp), Int32(hp), Int32(cin), Int32(cin), w, b, b, Int32(cout), 3, 3,
                                 Int32(NN_ACT_RELU), &y, outImg, Int32(oside + 2), 1, pool ? 1 : 0, 0, positions)
            }
            let dt = (now() - t0) / Double(reps) / Double(g)
            total += dt
            let macs = Double(side * side * cin * cout * 9)
            print(String(format: "LAYER %2d->%3d @%2d%@: %.1f us/image, %.1f GMAC/s", cin, cout, side, pool ? " pool" : "", dt * 1e6, macs / dt / 1e9))
        }
        print(String(format: "TOTAL %.1f us/image = %.0f images/s per core", total * 1e6, 1 / total))
    }
}

extension ChannelsLastMicroBench {
    /// fernet-shaped layers (random weights) as one-layer networks, direct vs Winograd, batch 64:
    /// microseconds of CPU per image (both cores' time summed).
    func testWinogradSpeed() throws {
        guard ProcessInfo.processInfo.environment["FER_BENCH"] != nil else { throw XCTSkip("FER_BENCH") }
        var rng = LCG(state: 1)
        let n = 64
        for (side, cin, cout, pool) in [(24, 32, 48, true), (12, 48, 96, false), (12, 96, 96, true), (6, 96, 192, false), (6, 192, 192, true)] {
            let c = try Conv2D(weight: rng.tensor([cout, cin, 3, 3]), bias: rng.tensor([cout]), stride: 1, padding: 1, activation: .relu)
            var ops: [ChannelsLastNetwork.Op] = [.conv(c)]
            if pool { ops.append(.maxPool(MaxPool2D(kernel: 2))) }
            ops.append(.globalAveragePool)
            let x = rng.tensor([n, cin, side, side])
            var line = String(format: "WINO %3d->%3d @%2d%@:", cin, cout, side, pool ? " pool" : "     ")
            for w in [false, true] {
                let net = try ChannelsLastNetwork(input: [cin, side, side], ops: ops, winograd: w)
                _ = try net.forward(x)
                let t0 = cpu()
                for _ in 0..<10 { _ = try net.forward(x) }
                line += String(format: " %@ %.1f us", w ? "winograd" : "direct", (cpu() - t0) / 10 / Double(n) * 1e6)
            }
            print(line)
        }
    }
}

extension ChannelsLastMicroBench {
    /// A fernet-shaped random network, batch 128: faces per CPU-second by group size and Winograd chunk.
    func testGroupAndChunk() throws {
        guard ProcessInfo.processInfo.environment["FER_BENCH"] != nil else { throw XCTSkip("FER_BENCH") }
        var rng = LCG(state: 1)
        func conv(_ i: Int, _ o: Int) throws -> ChannelsLastNetwork.Op {
            var w = rng.tensor([o, i, 3, 3])
            for k in w.storage.indices { w.storage[k] *= 0.1 }
            return .conv(try Conv2D(weight: w, bias: rng.tensor([o]), stride: 1, padding: 1, activation: .relu))
        }
        let pool = ChannelsLastNetwork.Op.maxPool(MaxPool2D(kernel: 2))
        let ops: [ChannelsLastNetwork.Op] = [try conv(1, 32), pool, try conv(32, 48), pool, try conv(48, 96), try conv(96, 96), pool,
                                             try conv(96, 192), try conv(192, 192), pool, try conv(192, 384), .globalAveragePool,
                                             .linear(try Linear(weight: rng.tensor([7, 384]))), .softmax]
        let x = rng.tensor([128, 1, 48, 48])
        let spec = ProcessInfo.processInfo.environment["FER_BENCH_GC"] ?? "8:64,8:128,16:64,16:128,4:64"
        for item in spec.split(separator: ",") {
            let p = item.split(separator: ":").compactMap { Int($0) }
            var net = try ChannelsLastNetwork(input: [1, 48, 48], ops: ops)
            net.groupSize = p[0]; net.winogradChunk = p[1]
            _ = try net.forward(x)
            let t0 = cpu()
            for _ in 0..<5 { _ = try net.forward(x) }
            print(String(format: "GC group %2d chunk %3d: %.0f faces per CPU-second", p[0], p[1], 5 * 128 / (cpu() - t0)))
        }
    }
}

/// Monotonic wall time in seconds.
private func now() -> Double { Clock.wall() }

/// Process CPU time (user + system, all threads) in seconds.
private func cpu() -> Double { Clock.processCPU() }
