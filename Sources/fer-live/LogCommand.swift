import ArgumentParser
import Capture
import Pipeline

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Per-frame emotions as CSV or JSON lines; no video is written.",
        discussion: "With neither --csv nor --jsonl, a readable log goes to standard output.")

    @Argument(help: "Video file, image, stream URL, camera device, or - for standard input.")
    var input: String

    @Option(help: "CSV file, or '-' for standard output.")
    var csv: String?

    @Option(help: "JSON-lines file, or '-' for standard output.")
    var jsonl: String?

    @OptionGroup var flags: PipelineFlags

    @OptionGroup var serve: ServeFlags

    func validate() throws {
        if csv == "-" && jsonl == "-" { throw ValidationError("only one of --csv and --jsonl can go to standard output") }
    }

    func run() throws {
        try Reporting.run("log") {
            var outputs = OutputSettings(csv: csv, jsonl: jsonl, log: csv == nil && jsonl == nil ? "-" : nil)
            outputs.inputs = [input]
            outputs.overwrite = flags.overwrite
            let detector = try Components.detector(flags)
            let classifier = try Components.classifier(flags)
            let source = try Sources.open(input, threads: flags.threads, networkTimeout: flags.streamTimeout)
            var job = Job(source: source, detector: detector, classifier: classifier,
                          outputs: outputs, options: flags.pipelineOptions(mode: Sources.isCamera(input) ? .live : .file))
            job.showProgress = !flags.quiet
            try Components.run(job, quiet: flags.quiet, label: "logged \(input)", serve: serve)
        }
    }
}
