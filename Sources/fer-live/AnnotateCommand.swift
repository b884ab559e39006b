import ArgumentParser
import Capture
import Pipeline

struct AnnotateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "annotate",
        abstract: "Write the video with a box, label and confidence on every face (an image input gives an image).",
        discussion: "Keeps the source's frame rate and timestamps, and its audio stream (copied, not re-encoded, also from pipes and streams) where the container can hold the codec. H.264 in MP4 by default; .mkv, .mov, .avi, .png, .jpg by extension.")

    @Argument(help: "Video file, image, stream URL, or - for standard input.")
    var input: String

    @Option(name: .shortAndLong, help: "Output video (or image) path.")
    var output: String

    @Option(help: "Also write per-frame emotions to this CSV file ('-' for standard output).")
    var csv: String?

    @Option(help: "Also write JSON lines to this file ('-' for standard output).")
    var jsonl: String?

    @Flag(name: .customLong("no-bars"), help: "Leave out the small probability bars under each face.")
    var noBars = false

    @Flag(help: "Mark the five facial landmarks.")
    var landmarks = false

    @Flag(name: .customLong("no-audio"), help: "Leave out the input's audio (copied by default where the container can hold it).")
    var noAudio = false

    @OptionGroup var flags: PipelineFlags

    @OptionGroup var serve: ServeFlags

    func run() throws {
        try Reporting.run("annotate") {
            var outputs = OutputSettings(video: output, csv: csv, jsonl: jsonl)
            outputs.overlay = Overlay(showBars: !noBars, showLandmarks: landmarks)
            outputs.encoderThreads = flags.threads
            outputs.inputs = [input]
            outputs.overwrite = flags.overwrite
            let detector = try Components.detector(flags)
            let classifier = try Components.classifier(flags)
            let source = try Sources.open(input, threads: flags.threads, networkTimeout: flags.streamTimeout)
            // The audio comes from the demuxer that reads the video: files, pipes and streams alike.
            if !noAudio, let file = source as? VideoFileSource { outputs.audioTap = file.tapAudio() }
            var job = Job(source: source, detector: detector, classifier: classifier,
                          outputs: outputs, options: flags.pipelineOptions(mode: .file))
            job.showProgress = !flags.quiet
            try Components.run(job, quiet: flags.quiet, label: "annotated \(output)", serve: serve)
        }
    }
}
