import ArgumentParser
import Foundation
import Pipeline

struct BatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Many inputs in one run: folders, lists, resumable, split into shards for a cluster.",
        discussion: """
            Each input's outputs go under DIR at its relative path plus a suffix (sub/a.mp4 gives \
            DIR/sub/a.mp4.csv, .jsonl, .annotated.mp4). One record per input is appended to \
            DIR/batch.jsonl (DIR/batch-shard-I-of-N.jsonl for a shard), and DIR/summary.csv holds \
            a row per input. A rerun skips inputs already done (same size and modification time, \
            outputs present). With no --video/--csv/--jsonl only the records and summary are written.
            Shards: --shard I/N, or SLURM_ARRAY_TASK_ID (Slurm array jobs), or JOB_COMPLETION_INDEX \
            with --shards N (Kubernetes indexed Jobs); then build the summary with --summarize DIR.
            Exit status: 0 when every input is done, 1 when any failed, 130 when stopped by Ctrl-C (143 by SIGTERM).
            """)

    @Argument(help: "Video files, images, URLs, or folders (searched recursively for video and image files).")
    var inputs: [String] = []

    @Option(name: .customLong("out"), help: "Output folder (created if missing).")
    var out: String?

    @Option(name: .customLong("list"), help: "A file with one path or URL a line ('#' starts a comment); may be repeated.")
    var lists: [String] = []

    @Flag(help: "Write each input's annotated video (or image).")
    var video = false

    @Flag(help: "Write each input's per-frame emotions as CSV.")
    var csv = false

    @Flag(help: "Write each input's per-frame results as JSON lines.")
    var jsonl = false

    @Option(help: "Take shard I of N of the sorted inputs (I from 0), e.g. 0/4.")
    var shard: String?

    @Option(help: "Number of shards when the index comes from JOB_COMPLETION_INDEX (or to override Slurm's).")
    var shards: Int?

    @Flag(help: "Process every input again, also those already done.")
    var force = false

    @Option(help: "Only rebuild DIR/summary.csv from all of DIR's record files (after the shards are done).")
    var summarize: String?

    @Flag(name: .customLong("no-bars"), help: "Leave out the probability bars in annotated videos.")
    var noBars = false

    @Flag(help: "Mark the five facial landmarks in annotated videos.")
    var landmarks = false

    @Flag(name: .customLong("no-audio"), help: "Leave out the inputs' audio in annotated videos.")
    var noAudio = false

    @OptionGroup var flags: PipelineFlags

    func validate() throws {
        if summarize != nil {
            guard inputs.isEmpty, lists.isEmpty, out == nil else {
                throw ValidationError("--summarize DIR takes no inputs and no --out")
            }
            return
        }
        guard out != nil else { throw ValidationError("give the output folder with --out DIR") }
        // A malformed --shard or --shards is a bad option (exit 64); a bad scheduler variable is
        // found when the run starts.
        do {
            if let shard { _ = try Shard(parsing: shard) }
            if let shards, shards < 1 { throw BatchError.badShard("--shards must be at least 1 (got \(shards))") }
        } catch {
            throw ValidationError(String(describing: error))
        }
        guard !inputs.isEmpty || !lists.isEmpty else { throw ValidationError("give at least one input or --list FILE") }
    }

    func run() throws {
        try Reporting.run("batch") {
            if let summarize {
                let rows = try BatchSummary.write(folder: summarize)
                if !flags.quiet { Reporting.printError("summary of \(rows) inputs: \((summarize as NSString).appendingPathComponent(BatchLayout.summaryFile))") }
                return
            }
            guard let out else { return }
            let cwd = FileManager.default.currentDirectoryPath
            let folder = URL(fileURLWithPath: out, relativeTo: URL(fileURLWithPath: cwd, isDirectory: true)).standardizedFileURL.path
            let shard = try Shard.resolve(flag: shard, shards: shards, environment: ProcessInfo.processInfo.environment)
            let found = try InputDiscovery(workingDirectory: cwd, excluded: [folder]).inputs(arguments: inputs, lists: lists)
            let kinds = BatchOutputKinds(video: video, csv: csv, jsonl: jsonl)
            var settings = BatchSettings(folder: folder)
            settings.kinds = kinds
            settings.overlay = Overlay(showBars: !noBars, showLandmarks: landmarks)
            settings.copyAudio = !noAudio
            settings.threads = flags.threads
            settings.options = flags.pipelineOptions(mode: .file)
            settings.force = force
            settings.overwrite = flags.overwrite
            settings.shard = shard
            settings.quiet = flags.quiet
            let runner = BatchRunner(items: BatchLayout.items(found, kinds: kinds), settings: settings,
                                     loadModels: { [flags] in
                                         BatchModels(makeDetector: try Components.detectorFactory(flags),
                                                     classifier: try Components.classifier(flags))
                                     },
                                     report: { Reporting.printError("fer-live batch: " + $0) })
            let result = try runner.run()
            if !flags.quiet {
                let part = shard.map { "shard \($0): " } ?? ""
                Reporting.printError("fer-live batch: \(part)\(result.total) inputs: \(result.ok) done, \(result.failed) failed, "
                                     + "\(result.skipped) already done, in \(String(format: "%.1f", result.seconds)) s; records in "
                                     + (folder as NSString).appendingPathComponent(settings.recordFile)
                                     + (result.wroteSummary ? ", summary in " + (folder as NSString).appendingPathComponent(BatchLayout.summaryFile)
                                                            : "; when every shard is done: fer-live batch --summarize \(out)"))
            }
            if result.interrupted { throw ExitCode(128 + (result.stopSignal ?? SIGINT)) }
            if result.failed > 0 { throw ExitCode(1) }
        }
    }
}
