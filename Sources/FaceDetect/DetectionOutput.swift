import Capture
import Foundation

/// The JSON of faces, one schema for every command (README, "JSON lines"): a frame is
/// `{"frame":0,"time_s":0.0400,"faces":[...]}` (every frame, `faces` empty when there is none), a
/// face `{"box":[x,y,w,h],"score":0.9987,"landmarks":[[x,y],...]}` in source pixels, to which
/// `log`, `annotate` and `live` add `face_id`, `emotion`, `confidence` and `probabilities`.
public enum DetectionJSON {
    /// The detector's fields of a face, without braces: `"box":[...],"score":...,"landmarks":[...]`.
    public static func fields(_ f: Face) -> String {
        let b = f.box
        let lms = f.landmarks.map { "[\(number($0.x, 1)),\(number($0.y, 1))]" }.joined(separator: ",")
        return "\"box\":[\(number(b.x, 1)),\(number(b.y, 1)),\(number(b.width, 1)),\(number(b.height, 1))],"
            + "\"score\":\(number(f.score, 4)),\"landmarks\":[\(lms)]"
    }

    /// One frame's line; `faces` are complete JSON objects.
    public static func frame(_ index: Int, time: Double, faces: [String]) -> String {
        "{\"frame\":\(index),\"time_s\":\(number(time, 4)),\"faces\":[\(faces.joined(separator: ","))]}"
    }

    /// `fer-live detect`'s line: the detector's fields only.
    public static func line(frame: Int, time: Double, faces: [Face]) -> String {
        Self.frame(frame, time: time, faces: faces.map { "{\(fields($0))}" })
    }

    /// Fixed decimals; a non-finite value (never expected) as 0, so the line stays valid JSON.
    public static func number(_ v: Float, _ digits: Int) -> String { number(Double(v), digits) }

    public static func number(_ v: Double, _ digits: Int) -> String {
        v.isFinite ? String(format: "%.\(digits)f", v) : "0"
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
