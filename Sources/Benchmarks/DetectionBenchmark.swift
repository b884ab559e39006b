import Capture
import FaceDetect
import Foundation

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
            frames > 0 ? Stats.median(runCPUSeconds) / Double(frames) * 1000 : 0
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
            let c0 = Clock.processCPU()
            var found = 0
            times.append(try Clock.seconds { found = try pass() })
            cpu.append(Clock.processCPU() - c0)
            faces = found
        }
        return Result(frames: frames.count, faces: faces, seconds: Stats.median(times), runSeconds: times, runCPUSeconds: cpu)
    }
}
