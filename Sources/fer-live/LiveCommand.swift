import ArgumentParser
import Capture
import Foundation
import Pipeline

struct LiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "live",
        abstract: "Webcam to a streaming log: one line per frame with faces (time, face id, label, confidence).",
        discussion: """
            Latency comes first: when inference falls behind, stale frames are dropped (and counted).
            --input FILE --realtime replays a video at its own frame rate through the same path.
            Ctrl-C stops; the video trailer is written and the CSV flushed.
            """)

    @Option(help: "V4L2 camera device.")
    var device: String = "/dev/video0"

    @Option(help: "Capture size WIDTHxHEIGHT.")
    var size: String = "640x480"

    @Option(help: "Capture frame rate (asked with VIDIOC_S_PARM; a camera that gives another is reported).")
    var fps: Int = 30

    @Option(name: .customLong("pixel-format"), help: ArgumentHelp(
        "Camera pixel format.",
        discussion: "automatic takes the camera's own YUYV, else MJPEG, else NV12, YU12, UYVY, RGB24, BGR24 (preferring one that has the size at the frame rate); fer-live probe /dev/videoN lists what a camera offers."))
    var pixelFormat: CameraPixelFormat = .automatic

    @Option(help: "Read this video file instead of a camera.")
    var input: String?

    @Flag(help: "With --input: deliver frames at the video's own pace, as a camera would.")
    var realtime = false

    @Option(name: .shortAndLong, help: "Also record the annotated video here.")
    var output: String?

    @Option(help: "Also write per-frame emotions to this CSV file ('-' for standard output, instead of the text log).")
    var csv: String?

    @Option(help: "Also write JSON lines to this file ('-' for standard output, instead of the text log).")
    var jsonl: String?

    @OptionGroup var flags: PipelineFlags

    @OptionGroup var serve: ServeFlags

    func parsedSize() throws -> (Int, Int) {
        let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts[0] >= 16, parts[1] >= 16, parts[0] <= 7680, parts[1] <= 4320 else {
            throw ValidationError("--size takes WIDTHxHEIGHT between 16x16 and 7680x4320, like 640x480 (got \(size))")
        }
        return (parts[0], parts[1])
    }

    func validate() throws {
        _ = try parsedSize()
        guard (1...240).contains(fps) else { throw ValidationError("--fps must be between 1 and 240 (got \(fps))") }
        if realtime && input == nil { throw ValidationError("--realtime needs --input FILE") }
        if csv == "-" && jsonl == "-" { throw ValidationError("only one of --csv and --jsonl can go to standard output") }
    }

    func run() throws {
        try Reporting.run("live") {
            // Standard output carries one thing: the CSV or the JSON lines when asked, else the text log.
            let toStdout = csv == "-" || jsonl == "-"
            var outputs = OutputSettings(video: output, csv: csv, jsonl: jsonl, log: toStdout ? nil : "-")
            outputs.encoderThreads = 1
            outputs.inputs = [input ?? device]
            outputs.overwrite = flags.overwrite
            let detector = try Components.detector(flags)
            let classifier = try Components.classifier(flags)
            let source: FrameSource
            if let input {
                source = try VideoFileSource(path: input, options: .init(threads: 1, networkTimeout: flags.streamTimeout))
            } else {
                let (w, h) = try parsedSize()
                // A camera that stops delivering for --stream-timeout seconds ends the run like a
                // stalled stream: what was recorded is kept, the exit status is 1.
                source = try CameraSource(device: device, options: .init(
                    width: w, height: h, framesPerSecond: fps, pixelFormat: pixelFormat,
                    timeout: flags.streamTimeout))
            }
            var job = Job(source: source, detector: detector, classifier: classifier,
                          outputs: outputs, options: flags.pipelineOptions(mode: .live))
            job.realtime = realtime
            job.showProgress = false
            try Components.run(job, quiet: flags.quiet, label: "live", serve: serve)
        }
    }
}

extension CameraPixelFormat: ExpressibleByArgument {}
