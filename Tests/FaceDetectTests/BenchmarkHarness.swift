import Capture
import Foundation
import XCTest
@testable import FaceDetect

/// Not a test: an opt-in timing harness for this branch until `fer-live bench detect` can read
/// video (needs Capture's VideoFileSource). Prints fps; asserts only that detection ran.
///   FER_BENCH=/work/shared/media/woman2.mp4 FER_BENCH_SIZE=596x336 \
///     swift test -c release -Xswiftc -enable-testing --filter BenchmarkHarness
final class BenchmarkHarness: XCTestCase {
    func cpuSeconds() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
    }

    func testDetectionSpeed() throws {
        let env = ProcessInfo.processInfo.environment
        guard let path = env["FER_BENCH"], let size = env["FER_BENCH_SIZE"] else { throw XCTSkip("set FER_BENCH and FER_BENCH_SIZE to time detection") }
        let wh = size.split(separator: "x").compactMap { Int($0) }
        let n = Int(env["FER_BENCH_FRAMES"] ?? "") ?? 100
        var frames = try Fixtures.ffmpegFrames(path, frames: nil, width: wh[0], height: wh[1])
        frames = Array(frames.prefix(n))
        let cpu0 = cpuSeconds()
        let r = try DetectionBenchmark.run(try Fixtures.mtcnn(), frames: frames, runs: 3)
        let cpuPerFrame = (cpuSeconds() - cpu0) / Double(3 * frames.count + min(10, frames.count))
        print(String(format: "BENCH %@: %d frames %@, %d faces, median %.3f s, %.1f fps, runs %@; CPU %.2f ms/frame (all threads)", path, r.frames, size, r.faces,
                     r.seconds, r.fps, r.runSeconds.map { String(format: "%.3f", $0) }.joined(separator: " "), cpuPerFrame * 1000))
        XCTAssertEqual(r.frames, frames.count)
    }
}

extension BenchmarkHarness {
    func testStageTimes() throws {
        let env = ProcessInfo.processInfo.environment
        guard let path = env["FER_BENCH"], let size = env["FER_BENCH_SIZE"] else { throw XCTSkip("set FER_BENCH") }
        let wh = size.split(separator: "x").compactMap { Int($0) }
        let frames = Array(try Fixtures.ffmpegFrames(path, frames: nil, width: wh[0], height: wh[1]).prefix(20))
        let d = try Fixtures.mtcnn()
        var t = [Double](repeating: 0, count: 4)
        var counts = [0, 0, 0]
        func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
        for f in frames {
            let t0 = now()
            let image = IntegralImage(frame: f)
            let t1 = now()
            let b1 = try d.stage1(image, scales: d.scales(width: f.width, height: f.height))
            let t2 = now()
            let b2 = try d.stage2(image, b1)
            let t3 = now()
            let b3 = try d.stage3(image, b2)
            let t4 = now()
            t[0] += t1 - t0; t[1] += t2 - t1; t[2] += t3 - t2; t[3] += t4 - t3
            counts[0] += b1.count; counts[1] += b2.count; counts[2] += b3.count
        }
        print("STAGES ms/frame: integral \(t[0] * 50) pnet \(t[1] * 50) rnet \(t[2] * 50) onet \(t[3] * 50); candidates/frame \(counts.map { $0 / 20 })")
    }
}
