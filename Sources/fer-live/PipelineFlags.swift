import ArgumentParser
import Foundation
import FaceDetect
import Pipeline

/// Options every job shares: the detector (`DetectorOptions`), the tracker, limits, models.
struct PipelineFlags: ParsableArguments {
    @OptionGroup var detector: DetectorOptions

    @Option(name: .customLong("detect-every"), help: ArgumentHelp(
        "Full face detection every N frames; in between, known faces are followed by R-Net and O-Net alone.",
        discussion: "1 runs the whole detector on every frame. New faces are found at most N-1 frames late."))
    var detectEvery: Int = 5

    @Option(help: "Time constant in seconds for smoothing each face's emotions over time; 0 turns it off.")
    var smoothing: Double = 0.25

    @Option(name: .customLong("max-frames"), help: "Stop after this many frames.")
    var maxFrames: Int?

    @Option(help: "Decoder and encoder threads.")
    var threads: Int = 2

    @Option(name: .customLong("stream-timeout"), help: "Seconds a network stream or camera may stall before the run ends with an error (what was read is kept).")
    var streamTimeout: Double = 10

    @Option(help: "Emotion model name in models/emotion.")
    var model: String?

    @Flag(help: "Average each face's emotions with its mirror image (slower, slightly more accurate).")
    var flip = false

    @Flag(name: .customLong("serial-stages"), help: ArgumentHelp(
        "Detection and classification each run on their own thread only, instead of splitting every frame over the cores.",
        visibility: .hidden))
    var serialStages = false

    @Flag(name: .shortAndLong, help: "No progress bar and no summary.")
    var quiet = false

    @Flag(name: [.customShort("y"), .customLong("overwrite")], help: "Replace output files that already exist (otherwise an existing file is an error).")
    var overwrite = false

    func validate() throws {
        guard smoothing >= 0, smoothing.isFinite else { throw ValidationError("--smoothing must be 0 or more seconds (got \(smoothing))") }
        if let maxFrames, maxFrames < 1 { throw ValidationError("--max-frames must be at least 1 (got \(maxFrames))") }
        guard (1...1000).contains(detectEvery) else { throw ValidationError("--detect-every must be between 1 and 1000 (got \(detectEvery))") }
        guard streamTimeout > 0, streamTimeout.isFinite else { throw ValidationError("--stream-timeout must be more than 0 seconds (got \(streamTimeout))") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be between 1 and 64 (got \(threads))") }
    }

    var models: String? { detector.models }

    func pipelineOptions(mode: PipelineMode) -> PipelineOptions {
        var options = PipelineOptions()
        options.mode = mode
        options.maxFrames = maxFrames
        options.tracker.smoothingSeconds = smoothing
        options.splitFramesOverCores = !serialStages
        return options
    }
}
