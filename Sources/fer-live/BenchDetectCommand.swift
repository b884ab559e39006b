import ArgumentParser
import Benchmarks
import Capture
import FaceDetect
import Pipeline
import Foundation
import NeuralNet
import Parallel

struct BenchDetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Decode frames of INPUT first, then time MTCNN detection alone (median of several runs).")

    @Argument(help: "A video file, image or URL.")
    var input: String

    @Option(help: "Frames decoded and detected per run.")
    var frames = 100

    @Option(help: "Timed runs; the median is reported.")
    var runs = 3

    @Option(help: "How frames reach the detector: frame (one at a time, each over all cores), stream (one frame per core, as a file job runs) or both.")
    var mode: BenchDetectMode = .both

    @Flag(help: "After the timed runs, one more pass that prints CPU time per stage, per pyramid level and candidate counts.")
    var profile = false

    @Flag(help: "End with one JSON object on the last line of stdout.")
    var json = false

    @OptionGroup var detector: DetectorOptions

    func validate() throws {
        guard frames >= 1 else { throw ValidationError("--frames must be at least 1") }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
    }

    func run() throws {
        try Reporting.run("bench detect") {
            let mtcnn = try detector.makeDetector()
            let source = try Sources.open(input)
            var decoded: [Frame] = []
            while decoded.count < frames, let f = try source.nextFrame() { decoded.append(f) }
            source.close()
            guard let first = decoded.first else { throw PipelineError.noFrames(source: input) }
            let modes: [DetectionBenchmark.Mode] = mode == .both ? [.frame, .stream] : mode == .frame ? [.frame] : [.stream]
            var results: [DetectionBenchmark.Mode: DetectionBenchmark.Result] = [:]
            for m in modes {
                let r = try DetectionBenchmark.run(mtcnn, frames: decoded, runs: runs, mode: m)
                results[m] = r
                let how = m == .frame ? "one frame at a time" : "\(Threads.cores) frames in flight"
                print(String(format: "fer-live bench detect: %d frames %dx%d, %d faces, %@: median %.3f s over %d runs, %.1f fps, CPU %.2f ms/frame (all threads, %@ kernels)",
                             r.frames, first.width, first.height, r.faces, how, r.seconds, runs, r.fps, r.cpuMillisecondsPerFrame,
                             KernelBlocking.current.rawValue))
            }
            // The headline figure is the throughput of the last mode run (stream unless asked).
            guard let r = results[modes[modes.count - 1]] else { return }
            if profile {
                let profile = DetectionProfile()
                for f in decoded { _ = try mtcnn.detect(in: f, observer: profile) }
                print(profile.report())
            }
            if json {
                var object: [String: Any] = [
                    "input": input, "frames": r.frames, "faces": r.faces, "runs": runs, "width": first.width,
                    "height": first.height, "seconds": r.seconds, "fps": r.fps, "cpu_ms_per_frame": r.cpuMillisecondsPerFrame,
                    "min_face": detector.minFace, "scale_factor": detector.scaleFactor, "mode": modes[modes.count - 1].rawValue,
                    "kernels": KernelBlocking.current.rawValue,
                ]
                for (m, res) in results { object["fps_\(m.rawValue)"] = res.fps }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            }
        }
    }
}

enum BenchDetectMode: String, ExpressibleByArgument, CaseIterable {
    case frame, stream, both
}
