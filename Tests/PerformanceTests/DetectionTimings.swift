import Benchmarks
import Capture
import CKernels
import Foundation
import NeuralNet
import TestSupport
import XCTest
@testable import FaceDetect

/// Opt-in timings of the detector's parts, below what `fer-live bench detect --profile` shows
/// (layers, tiles, layouts): each skips unless its variable is set, prints figures, and asserts
/// only that the work ran. Run them on a release build:
///   FER_BENCH=/work/shared/media/woman2.mp4 FER_BENCH_SIZE=596x336 \
///     swift test -c release -Xswiftc -enable-testing --filter DetectionTimings
final class DetectionTimings: XCTestCase {
    private func detector() throws -> MTCNN { try MTCNN(modelDirectory: TestPaths.model("mtcnn").path) }

    func testDetectionSpeed() throws {
        let env = ProcessInfo.processInfo.environment
        guard let path = env["FER_BENCH"], let size = env["FER_BENCH_SIZE"] else { throw XCTSkip("set FER_BENCH and FER_BENCH_SIZE to time detection") }
        let wh = size.split(separator: "x").compactMap { Int($0) }
        let n = Int(env["FER_BENCH_FRAMES"] ?? "") ?? 100
        var frames = try FFmpegCommand.frames(path, frames: nil, width: wh[0], height: wh[1])
        frames = Array(frames.prefix(n))
        let cpu0 = Clock.processCPU()
        let r = try DetectionBenchmark.run(try detector(), frames: frames, runs: 3)
        let cpuPerFrame = (Clock.processCPU() - cpu0) / Double(3 * frames.count + min(10, frames.count))
        print(String(format: "BENCH %@: %d frames %@, %d faces, median %.3f s, %.1f fps, runs %@; CPU %.2f ms/frame (all threads)", path, r.frames, size, r.faces,
                     r.seconds, r.fps, r.runSeconds.map { String(format: "%.3f", $0) }.joined(separator: " "), cpuPerFrame * 1000))
        XCTAssertEqual(r.frames, frames.count)
    }
}

extension DetectionTimings {
    func testStageTimes() throws {
        let env = ProcessInfo.processInfo.environment
        guard let path = env["FER_BENCH"], let size = env["FER_BENCH_SIZE"] else { throw XCTSkip("set FER_BENCH") }
        let wh = size.split(separator: "x").compactMap { Int($0) }
        let frames = Array(try FFmpegCommand.frames(path, frames: nil, width: wh[0], height: wh[1]).prefix(20))
        let d = try detector()
        var t = [Double](repeating: 0, count: 4)
        var counts = [0, 0, 0]
        for f in frames {
            let t1 = now()
            let b1 = try d.stage1(f, scales: d.scales(width: f.width, height: f.height))
            let t2 = now()
            let b2 = try d.stage2(f, b1)
            let t3 = now()
            let b3 = try d.stage3(f, b2)
            let t4 = now()
            t[1] += t2 - t1; t[2] += t3 - t2; t[3] += t4 - t3
            counts[0] += b1.count; counts[1] += b2.count; counts[2] += b3.count
        }
        print("STAGES ms/frame: pnet \(t[1] * 50) rnet \(t[2] * 50) onet \(t[3] * 50); candidates/frame \(counts.map { $0 / 20 })")
    }
}

extension DetectionTimings {
    /// Per-layer time of R-Net and O-Net on random crops, one thread, by group size (best of many runs).
    ///   FER_BENCH_LAYERS=1 swift test -c release -Xswiftc -enable-testing --filter testCropNetLayers
    func testCropNetLayers() throws {
        let env = ProcessInfo.processInfo.environment
        guard env["FER_BENCH_LAYERS"] != nil else { throw XCTSkip("set FER_BENCH_LAYERS") }
        let d = try detector()
        for (name, net) in [("rnet", d.rnet.net), ("onet", d.onet.net)] {
            for n in [1, 3, 8, 16, 48] {
                var a = (0..<(n * net.perCropFloats)).map { _ in Float.random(in: -1...1) }
                var b = a
                var out = [Float](repeating: 0, count: n * net.outputs)
                var times = [Double](repeating: .infinity, count: net.ops.count)
                let reps = max(20, 2000 / n)
                a.withUnsafeMutableBufferPointer { ap in b.withUnsafeMutableBufferPointer { bp in
                    var src = ap.baseAddress!, dst = bp.baseAddress!
                    for _ in 0..<reps {
                        var h = net.size, w = net.size, cs = 3
                        for (k, op) in net.ops.enumerated() {
                            let t0 = now()
                            switch op {
                            case .conv(let c):
                                c.forward(src, images: n, height: h, width: w, channelStride: cs, into: dst, parallel: false)
                                (h, w) = c.outputSize(height: h, width: w); cs = c.paddedOut; swap(&src, &dst)
                            case .pool(let p):
                                p.forwardChannelsLast(src, images: n, height: h, width: w, channels: cs, into: dst)
                                h = p.outputSize(h); w = p.outputSize(w); swap(&src, &dst)
                            case .flatten:
                                cs = h * w * cs; h = 1; w = 1
                            }
                            times[k] = min(times[k], now() - t0)
                        }
                    }
                }}
                _ = out.withUnsafeMutableBufferPointer { $0.count }
                let per = times.map { $0 / Double(n) * 1e6 }
                print(String(format: "LAYERS %@ n=%2d: total %.1f us/crop: ", name, n, per.reduce(0, +))
                      + per.map { String(format: "%.1f", $0) }.joined(separator: " "))
            }
        }
    }
}

extension DetectionTimings {
    /// Per-step time of P-Net on one random pyramid level, one thread (best of many runs), as
    /// `PNet.forwardInPlace` runs it: conv1 + PReLU + pool (planar), the transposition to
    /// channels-last, conv2 (Winograd F(4x4)), conv3 + the fused head (Winograd F(4x4)); with
    /// useful GMAC/s (direct-convolution multiply-adds).
    ///   FER_BENCH_LAYERS=1 swift test -c release -Xswiftc -enable-testing --filter testPNetLayers
    func testPNetLayers() throws {
        let env = ProcessInfo.processInfo.environment
        guard env["FER_BENCH_LAYERS"] != nil else { throw XCTSkip("set FER_BENCH_LAYERS") }
        let p = try detector().pnet
        for (rows, cols) in [(66, 1153), (202, 358), (72, 128)] {
            let s = PNetScratch(), inputBuffer = ScratchBuffer()
            let input = inputBuffer.reserve(3 * rows * cols + 64)
            for i in 0..<(3 * rows * cols + 64) { input[i] = Float.random(in: -1...1) }
            let ran = p.forwardInPlace(s, input: input, planeRows: rows, rows: rows, cols: cols)
            XCTAssertGreaterThan(ran.mapH * ran.mapW, 0)
            let h1 = rows - 2, w1 = cols - 2, ph = p.pool.outputSize(h1), pw = p.pool.outputSize(w1)
            let h2 = ph - 2, w2 = pw - 2, h3 = ph - 4, w3 = pw - 4
            var t = [Double](repeating: .infinity, count: 4)
            for _ in 0..<30 {
                let x = inputBuffer.pointer
                let c1 = s.c1.reserve(p.conv1.pooled2Scratch(width: cols)), p1 = s.p1.reserve(10 * ph * pw)
                let p1n = s.p1nhwc.reserve(16 * ph * pw), c2n = s.c2nhwc.reserve(16 * h2 * w2)
                let hd = s.head.reserve(6 * h3 * w3)
                let t0 = now()
                p.conv1.forwardValidPooled2(x, height: rows, width: cols, pooledH: ph, pooledW: pw, tmp: c1, into: p1)
                let t1 = now()
                nn_planar_to_nhwc16(p1, 10, ph * pw, p1n)
                let t2 = now()
                p.conv2w.forward(p1n, images: 1, height: ph, width: pw, channelStride: 16, into: c2n, parallel: false)
                let t3 = now()
                p.conv3Head.forwardHead(c2n, images: 1, height: h2, width: w2, channelStride: 16, into: hd)
                let t4 = now()
                for (k, d) in [t1 - t0, t2 - t1, t3 - t2, t4 - t3].enumerated() { t[k] = min(t[k], d) }
            }
            let macs = [Double(h1 * w1 * 270), 0, Double(h2 * w2 * 1440), Double(h3 * w3 * (4608 + 192))]
            print(String(format: "PNET %dx%d: total %.0f us: ", cols, rows, t.reduce(0, +) * 1e6)
                  + zip(["conv1+pool", "to nhwc", "conv2", "conv3+head"], zip(t, macs))
                    .map { String(format: "%@ %.0f us (%.1f GMAC/s)", $0, $1.0 * 1e6, $1.1 / $1.0 / 1e9) }.joined(separator: ", "))
        }
    }
}

extension DetectionTimings {
    /// The crop nets' 3x3 layers as direct, F(2x2), F(3x3) and F(4x4) Winograd, interleaved in one loop
    /// (best of many runs each, microseconds per crop, one thread): what `Winograd` in
    /// MTCNNNets.swift is chosen from.
    ///   FER_BENCH_LAYERS=1 swift test -c release -Xswiftc -enable-testing --filter testWinogradTiles
    func testWinogradTiles() throws {
        guard ProcessInfo.processInfo.environment["FER_BENCH_LAYERS"] != nil else { throw XCTSkip("set FER_BENCH_LAYERS") }
        // (net file, layer, cin, cout, input side, crops per group)
        for (file, name, cin, cout, side, n) in [("rnet", "conv2", 28, 48, 11, 16), ("onet", "conv2", 32, 64, 23, 3), ("onet", "conv3", 64, 64, 10, 3)] {
            let f = try SafeTensorsFile(path: TestPaths.model("mtcnn").path + "/\(file).safetensors")
            let conv = try Conv2D(weight: f.tensor("\(name).weight", shape: [cout, cin, 3, 3]), bias: f.tensor("\(name).bias", shape: [cout]))
            let layers = [try ChannelsLastConv(conv), try ChannelsLastConv(conv, winograd: true), try ChannelsLastConv(conv, winograd: true, outputTile: 3),
                          try ChannelsLastConv(conv, winograd: true, outputTile: 4)]
            let cs = ChannelsLastConv.padded(cin)
            let input = (0..<(n * side * side * cs)).map { _ in Float.random(in: -1...1) }
            var out = [Float](repeating: 0, count: n * (side - 2) * (side - 2) * ChannelsLastConv.padded(cout))
            var best = [Double](repeating: .infinity, count: layers.count)
            input.withUnsafeBufferPointer { ip in out.withUnsafeMutableBufferPointer { op in
                for _ in 0..<300 {
                    for (k, l) in layers.enumerated() {
                        let t0 = now()
                        l.forward(ip.baseAddress!, images: n, height: side, width: side, channelStride: cs, into: op.baseAddress!, parallel: false)
                        best[k] = min(best[k], now() - t0)
                    }
                }
            }}
            print(String(format: "TILES %@ %@: direct %.1f us, F(2x2) %.1f us, F(3x3) %.1f us, F(4x4) %.1f us per crop", file, name,
                         best[0] / Double(n) * 1e6, best[1] / Double(n) * 1e6, best[2] / Double(n) * 1e6, best[3] / Double(n) * 1e6))
        }
    }
}

extension DetectionTimings {
    /// Area resampling of a 1920x1080 frame to P-Net's pyramid (the default scales), best of 20:
    /// the first level alone and all twelve in one sweep.
    ///   FER_BENCH_LAYERS=1 swift test -c release -Xswiftc -enable-testing --filter testPyramidLevelSpeed
    func testPyramidLevelSpeed() throws {
        guard ProcessInfo.processInfo.environment["FER_BENCH_LAYERS"] != nil else { throw XCTSkip("set FER_BENCH_LAYERS") }
        let (w, h) = (1920, 1080)
        let frame = Frame(index: 0, time: 0, width: w, height: h, pixels: (0..<(w * h * 3)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let sizes = try detector().scales(width: w, height: h).map { (Int(Double(h) * $0 + 1), Int(Double(w) * $0 + 1)) }
        let offsets = sizes.indices.map { k in sizes[..<k].reduce(0) { $0 + 3 * $1.0 * $1.1 } }
        var out = [Float](repeating: 0, count: sizes.reduce(0) { $0 + 3 * $1.0 * $1.1 })
        for count in [1, sizes.count] {
            var best = Double.infinity
            for _ in 0..<20 {
                let t0 = now()
                out.withUnsafeMutableBufferPointer { p in
                    AreaResampling.pyramid(frame, (0..<count).map { k in
                        .init(outH: sizes[k].0, outW: sizes[k].1, rows: 0..<sizes[k].0, planeRows: sizes[k].0, dst: p.baseAddress! + offsets[k])
                    })
                }
                best = min(best, now() - t0)
            }
            print(String(format: "PYRAMID 1920x1080 -> %d level(s) from %dx%d: %.0f us", count, sizes[0].1, sizes[0].0, best * 1e6))
        }
    }
}

extension DetectionTimings {
    /// P-Net's conv3 + head as the detector runs it on a level-0 map of a 596x336 frame: planar
    /// F(2x2) with the fused head (`conv3w`) against the transposition to channels-last plus
    /// F(4x4) with the head fused per tile (`conv3Head`): best of 50 interleaved runs.
    ///   FER_BENCH_LAYERS=1 swift test -c release -Xswiftc -enable-testing --filter testPNetConv3Layouts
    func testPNetConv3Layouts() throws {
        guard ProcessInfo.processInfo.environment["FER_BENCH_LAYERS"] != nil else { throw XCTSkip("set FER_BENCH_LAYERS") }
        let p = try detector().pnet
        let (h, w) = (98, 176)
        let planarIn = (0..<(16 * h * w + 64)).map { _ in Float.random(in: -1...1) }
        var nhwcIn = [Float](repeating: 0, count: 16 * h * w)
        var out = [Float](repeating: 0, count: 6 * (h - 2) * (w - 2))
        var scratch = [Float](repeating: 0, count: p.conv3w.scratchCount)
        var best = [Double](repeating: .infinity, count: 3)
        for _ in 0..<50 {
            planarIn.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { o in scratch.withUnsafeMutableBufferPointer { s in
            nhwcIn.withUnsafeMutableBufferPointer { n in
                let t0 = now()
                p.conv3w.forwardValid(i.baseAddress!, height: h, width: w, scratch: s.baseAddress!, into: o.baseAddress!)
                let t1 = now()
                nn_planar_to_nhwc16(i.baseAddress!, 16, h * w, n.baseAddress!)
                let t2 = now()
                p.conv3Head.forwardHead(n.baseAddress!, images: 1, height: h, width: w, channelStride: 16, into: o.baseAddress!)
                let t3 = now()
                for (k, d) in [t1 - t0, t2 - t1, t3 - t2].enumerated() { best[k] = min(best[k], d) }
            }}}}
        }
        print(String(format: "CONV3 planar F(2x2)+head %.0f us; to channels-last %.0f us + F(4x4)+head %.0f us", best[0] * 1e6, best[1] * 1e6, best[2] * 1e6))
    }
}

/// Monotonic wall time in seconds, for the harness's best-of-N timings.
private func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
