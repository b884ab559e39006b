import ArgumentParser
import Benchmarks
import Capture
import Foundation
import Pipeline

struct BenchPipelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Time `annotate` end to end (decode, detect, classify, draw, encode H.264, CSV); "
            + "compare with ffmpeg decoding and re-encoding the same input.")

    @Argument(help: "A video file.")
    var input: String

    @Option(help: "Timed runs; the median is reported.")
    var runs = 3

    @Flag(help: "End with one JSON object on the last line of stdout.")
    var json = false

    @OptionGroup var flags: PipelineFlags

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
    }

    func run() throws {
        try Reporting.run("bench pipeline") {
            let detector = try Components.detector(flags)
            let classifier = try Components.classifier(flags)
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fer-live-bench-\(getpid())")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }

            func annotateOnce() throws -> PipelineSummary {
                var outputs = OutputSettings(video: dir.appendingPathComponent("out.mp4").path,
                                             csv: dir.appendingPathComponent("out.csv").path)
                outputs.encoderThreads = flags.threads
                // Each timed run replaces the last one's files in this private folder.
                outputs.overwrite = true
                outputs.inputs = [input]
                let source = try Sources.open(input, threads: flags.threads)
                var job = Job(source: source, detector: detector, classifier: classifier,
                              outputs: outputs, options: flags.pipelineOptions(mode: .file))
                job.showProgress = false
                return try job.run()
            }

            // Untimed warm-up of both, then alternate so machine load falls on both alike.
            var ffmpeg = FFmpegTimer.find()
            _ = try annotateOnce()
            if let found = ffmpeg {
                do { _ = try FFmpegTimer.time(found, input: input, threads: flags.threads, encodeH264: true) } catch {
                    Reporting.warn("\(error); no comparison")
                    ffmpeg = nil
                }
            }
            var ours: [PipelineSummary] = []
            var theirs: [Double] = []
            for _ in 0..<runs {
                ours.append(try annotateOnce())
                if let ffmpeg { theirs.append(try FFmpegTimer.time(ffmpeg, input: input, threads: flags.threads, encodeH264: true).seconds) }
            }
            let last = ours[ours.count - 1]
            let seconds = Stats.median(ours.map(\.seconds))
            let fps = seconds > 0 ? Double(last.frames) / seconds : 0
            let p50 = Stats.median(ours.compactMap { $0.latencyPercentile(0.5) })
            print("fer-live annotate: \(last.frames) frames, \(last.faces) faces in \(last.framesWithFaces) frames, "
                  + "median \(String(format: "%.3f", seconds)) s over \(runs) runs, \(String(format: "%.1f", fps)) fps")
            var object: [String: Any] = [
                "input": input, "frames": last.frames, "faces": last.faces, "frames_with_faces": last.framesWithFaces,
                "runs": runs, "seconds": seconds, "fps": fps, "median_latency_s": p50,
            ]
            if ffmpeg != nil, !theirs.isEmpty {
                let ffSeconds = Stats.median(theirs)
                let ffFps = ffSeconds > 0 ? Double(last.frames) / ffSeconds : 0
                let ratio = ffFps > 0 ? fps / ffFps : 0
                print("ffmpeg decode + libx264 veryfast: median \(String(format: "%.3f", ffSeconds)) s, \(String(format: "%.1f", ffFps)) fps")
                print("ratio ours/ffmpeg: \(String(format: "%.3f", ratio))")
                object["ffmpeg_seconds"] = ffSeconds
                object["ffmpeg_fps"] = ffFps
                object["ratio"] = ratio
            }
            if json {
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
            }
        }
    }
}
