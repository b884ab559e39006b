import Capture
import Foundation

/// One JSON object per frame, as `fer-live detect` writes them:
/// `{"frame": 0, "time_s": 0.0, "faces": [{"box": [x, y, w, h], "score": 0.99, "landmarks": [[x, y], ...]}]}`
/// Boxes and landmarks in source pixels, two decimals; scores with five.
public enum DetectionJSON {
    public static func line(frame: Int, time: Double, faces: [Face]) -> String {
        func n(_ v: Float, _ digits: Int = 2) -> String {
            v.isFinite ? String(format: "%.\(digits)f", Double(v)) : "null"
        }
        let items = faces.map { f in
            let b = "[\(n(f.box.x)), \(n(f.box.y)), \(n(f.box.width)), \(n(f.box.height))]"
            let l = f.landmarks.map { "[\(n($0.x)), \(n($0.y))]" }.joined(separator: ", ")
            return "{\"box\": \(b), \"score\": \(n(f.score, 5)), \"landmarks\": [\(l)]}"
        }
        let t = time.isFinite ? String(format: "%.3f", time) : "null"
        return "{\"frame\": \(frame), \"time_s\": \(t), \"faces\": [\(items.joined(separator: ", "))]}"
    }
}

/// Times detection alone on frames already in memory: one untimed warm-up pass, then `runs`
/// passes; the median pass gives the frame rate.
public enum DetectionBenchmark {
    public struct Result: Sendable {
        public var frames: Int
        /// Faces found in one pass.
        public var faces: Int
        /// Median seconds of one pass over all frames.
        public var seconds: Double
        public var runSeconds: [Double]
        /// Process CPU seconds (user + system, all threads) of each timed pass: less sensitive
        /// than wall time to other programs sharing the cores.
        public var runCPUSeconds: [Double] = []
        public var fps: Double { seconds > 0 ? Double(frames) / seconds : 0 }
        /// Median CPU milliseconds per frame.
        public var cpuMillisecondsPerFrame: Double {
            let s = runCPUSeconds.sorted()
            guard !s.isEmpty, frames > 0 else { return 0 }
            let m = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
            return m / Double(frames) * 1000
        }
    }

    /// How the frames are fed to the detector.
    public enum Mode: String, Sendable, CaseIterable {
        /// One frame at a time, each spread over the cores (lowest latency per frame).
        case frame
        /// Frames in flight, one per core (`MTCNN.detect(in: [Frame])`): the throughput a file
        /// job gets.
        case stream
    }

    public static func run(_ detector: MTCNN, frames: [Frame], runs: Int, mode: Mode = .frame) throws -> Result {
        func pass() throws -> Int {
            switch mode {
            case .frame: return try frames.reduce(0) { $0 + (try detector.detect(in: $1).count) }
            case .stream: return try detector.detect(in: frames).reduce(0) { $0 + $1.count }
            }
        }
        var faces = 0
        for f in frames.prefix(10) { _ = try detector.detect(in: f) }
        var times: [Double] = [], cpu: [Double] = []
        for _ in 0..<max(1, runs) {
            let c0 = MTCNN.Timings.processCPU()
            let start = DispatchTime.now().uptimeNanoseconds
            let found = try pass()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            cpu.append(MTCNN.Timings.processCPU() - c0)
            faces = found
        }
        let sorted = times.sorted()
        let median = sorted.isEmpty ? 0 : (sorted.count % 2 == 1 ? sorted[sorted.count / 2]
                                           : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2)
        return Result(frames: frames.count, faces: faces, seconds: median, runSeconds: times, runCPUSeconds: cpu)
    }
}
