import Capture
import Classifier
import FaceDetect
import Foundation

/// The models a batch shares between its inputs, loaded once per process.
public struct BatchModels {
    /// A detector for one input. Detectors that remember earlier frames (`KeyframeDetector`)
    /// must come fresh for each input around the one loaded network, so nothing an input saw
    /// reaches the next.
    public var makeDetector: () -> FaceDetecting
    public var classifier: EmotionClassifying

    public init(makeDetector: @escaping () -> FaceDetecting, classifier: EmotionClassifying) {
        self.makeDetector = makeDetector
        self.classifier = classifier
    }
}

/// How a batch runs, beside its inputs.
public struct BatchSettings {
    /// The output folder, absolute.
    public var folder: String
    public var kinds = BatchOutputKinds()
    public var overlay = Overlay()
    /// Copy each file's audio into its annotated video (as `annotate` does unless `--no-audio`).
    public var copyAudio = true
    public var threads = 2
    public var options = PipelineOptions()
    /// Run every input again, done or not (`--force`).
    public var force = false
    /// Replace existing files no record of the same input claims (`-y`).
    public var overwrite = false
    public var shard: Shard?
    public var showProgress = true
    public var quiet = false

    public init(folder: String) { self.folder = folder }

    public var recordFile: String { shard?.recordFile ?? BatchLayout.recordFile }
}

/// What a batch run did with its share of the inputs.
public struct BatchResult: Sendable, Equatable {
    public var total = 0
    public var ok = 0
    public var failed = 0
    public var skipped = 0
    /// Ctrl-C / SIGTERM ended the run; the input being processed was finished and recorded.
    public var interrupted = false
    /// The signal that ended it, for the exit status 128 + signal (130 SIGINT, 143 SIGTERM).
    public var stopSignal: Int32?
    public var seconds: Double = 0
    /// Whether summary.csv was rewritten (a run over all inputs; shards leave it to --summarize).
    public var wroteSummary = false
}

/// Runs the inputs one after another with one set of models: for each, decides from the
/// records whether it is already done, runs the pipeline into its outputs, and appends its record.
/// A bad input is recorded as failed and the batch goes on; Ctrl-C or SIGTERM stops the current
/// input as `annotate` does (outputs completed and moved into place), records it as stopped and
/// ends the run.
public final class BatchRunner {
    private let items: [BatchItem]
    private let settings: BatchSettings
    private let loadModels: () throws -> BatchModels
    private let report: (String) -> Void
    private let control = StopControl()

    /// `items` are all inputs, before sharding: the settings' shard picks this run's share.
    /// `report` receives one line per input processed (and warnings), for standard error.
    public init(items: [BatchItem], settings: BatchSettings, loadModels: @escaping () throws -> BatchModels,
                report: @escaping (String) -> Void) {
        self.items = items
        self.settings = settings
        self.loadModels = loadModels
        self.report = report
    }

    public func run() throws -> BatchResult {
        let clock = Clock()
        let mine = settings.shard?.select(items) ?? items
        let store = RecordStore(folder: settings.folder)
        try createFolder(settings.folder)
        let (records, torn) = store.readAll()
        if torn > 0 { report("warning: \(torn) unreadable line(s) in the record files of \(settings.folder) left out") }
        let latest = RecordStore.latest(records)
        var claimed: [String: Set<String>] = [:]
        for r in records { claimed[r.input, default: []].formUnion(r.outputs.all) }

        let watcher = SignalWatcher { [control] sig in control.stop(signal: sig) }
        defer { watcher.cancel() }
        let bar = BatchProgressBar(enabled: settings.showProgress && !settings.quiet && isatty(STDERR_FILENO) == 1)
        defer { bar.finish() }

        if mine.isEmpty { report("warning: no inputs" + (items.isEmpty ? " found" : " in shard \(settings.shard?.description ?? "")")) }
        var result = BatchResult(total: mine.count)
        var models: BatchModels?
        for (position, item) in mine.enumerated() {
            if control.stopRequested { result.interrupted = true; break }
            let stamp = FileStamp(path: item.input.source)
            let decision = ResumeDecision.decide(item: item, stamp: stamp, latest: latest[item.input.source],
                                                 force: settings.force, exists: { self.exists($0) })
            guard case .run = decision else { result.skipped += 1; continue }
            if models == nil { models = try loadModels() }
            guard let models else { break }
            let label = "[\(position + 1)/\(mine.count)] \(item.name)"
            let record = process(item, stamp: stamp, models: models, claimed: claimed[item.input.source] ?? [],
                                 progress: { bar.update(label: label, $0) })
            bar.finish()
            try store.append(record, to: settings.recordFile)
            switch record.status {
            case .ok:
                result.ok += 1
                if !settings.quiet {
                    report("\(label): \(record.frames) frames, \(record.faces) faces in \(record.framesWithFaces) frames, \(Format.fixed(record.seconds, 2)) s")
                }
            case .failed:
                result.failed += 1
                report("\(label) failed: \(record.reason ?? "unknown reason")")
            case .stopped:
                result.interrupted = true
                report("\(label) stopped after \(record.frames) frames; a rerun does it again")
            }
            if result.interrupted { break }
        }
        if result.interrupted { result.stopSignal = control.signal }
        if settings.shard == nil {
            try BatchSummary.write(folder: settings.folder, requireRecords: false)
            result.wroteSummary = true
        }
        result.seconds = clock.now
        return result
    }

    private func process(_ item: BatchItem, stamp: FileStamp?, models: BatchModels, claimed: Set<String>,
                         progress: @escaping @Sendable (PipelineProgress) -> Void) -> BatchRecord {
        let clock = Clock()
        let shard = settings.shard?.description
        do {
            let source = try Sources.open(item.input.source, threads: settings.threads)
            defer { source.close() }
            for output in item.outputs.all { try createFolder((absolute(output) as NSString).deletingLastPathComponent) }
            var outputs = OutputSettings(video: item.outputs.video.map(absolute), csv: item.outputs.csv.map(absolute),
                                         jsonl: item.outputs.jsonl.map(absolute))
            outputs.overlay = settings.overlay
            outputs.encoderThreads = settings.threads
            outputs.inputs = item.input.isURL ? [] : [item.input.source]
            // The batch replaces what it wrote for this input before; anything else only with -y.
            outputs.overwrite = settings.overwrite || item.outputs.all.filter(exists).allSatisfy(claimed.contains)
            if settings.copyAudio && item.outputs.video != nil, let file = source as? VideoFileSource {
                outputs.audioTap = file.tapAudio()
            }
            let mediaTime = MediaTimeSink()
            let sinks = try outputs.openSinks(for: source.info) + [mediaTime]
            let pipeline = Pipeline(source: source, detector: models.makeDetector(), classifier: models.classifier,
                                    sinks: sinks, options: settings.options)
            control.begin(pipeline)
            defer { control.end() }
            let summary = try pipeline.run(progress: progress)
            return BatchRecord(input: item.input.source, name: item.name, stamp: stamp, outputs: item.outputs,
                               status: summary.stoppedEarly ? .stopped : .ok, frames: summary.frames, faces: summary.faces,
                               framesWithFaces: summary.framesWithFaces, duration: mediaTime.duration,
                               seconds: clock.now, emotionCounts: summary.emotionCounts, shard: shard)
        } catch {
            return BatchRecord(input: item.input.source, name: item.name, stamp: stamp, outputs: BatchOutputs(),
                               status: .failed, reason: String(describing: error), seconds: clock.now, shard: shard)
        }
    }

    private func absolute(_ relative: String) -> String {
        (settings.folder as NSString).appendingPathComponent(relative)
    }

    private func exists(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: absolute(relative))
    }

    private func createFolder(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw BatchError.cannotCreateFolder(path: path, reason: (error as NSError).localizedDescription)
        }
    }
}

/// Passes a stop (from the signal handler's queue) to the pipeline running now, and remembers
/// it so no further input starts.
final class StopControl: @unchecked Sendable {
    private let lock = NSLock()
    private var requested = false
    private var caught: Int32?
    private var current: Pipeline?

    var stopRequested: Bool {
        lock.lock(); defer { lock.unlock() }
        return requested
    }

    /// The first signal that asked for the stop.
    var signal: Int32? {
        lock.lock(); defer { lock.unlock() }
        return caught
    }

    func stop(signal: Int32? = nil) {
        lock.lock()
        requested = true
        if caught == nil { caught = signal }
        let pipeline = current
        lock.unlock()
        pipeline?.stop()
    }

    /// A stop that came while the input was being opened reaches its pipeline at once.
    func begin(_ pipeline: Pipeline) {
        lock.lock()
        current = pipeline
        let stopNow = requested
        lock.unlock()
        if stopNow { pipeline.stop() }
    }

    func end() {
        lock.lock(); current = nil; lock.unlock()
    }
}

/// The media time the frames cover: first to last timestamp plus one frame's share, for the
/// summary's duration column (a single image covers none).
final class MediaTimeSink: ResultSink {
    private var first: Double?
    private var last: Double = 0
    private var frames = 0

    func consume(_ result: FrameResult, frame: Frame) throws {
        if first == nil { first = result.time }
        last = result.time
        frames += 1
    }

    var duration: Double {
        guard let first, frames > 1 else { return 0 }
        return (last - first) * Double(frames) / Double(frames - 1)
    }

    func finish() throws {}
    func abandon() {}
}

/// One line on a terminal: which input of how many, then the frame bar of `ProgressBar`.
final class BatchProgressBar: @unchecked Sendable {
    private let enabled: Bool
    private let lock = NSLock()
    private var lastDraw = -1.0
    private var drewSomething = false

    init(enabled: Bool) { self.enabled = enabled }

    func update(label: String, _ p: PipelineProgress) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        guard p.elapsed - lastDraw >= 0.2 || p.elapsed < lastDraw else { return }
        lastDraw = p.elapsed
        FileHandle.standardError.write(Data(("\r\(label)  " + ProgressBar.line(p) + "\u{1B}[K").utf8))
        drewSomething = true
    }

    func finish() {
        lock.lock(); defer { lock.unlock() }
        guard enabled, drewSomething else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        drewSomething = false
        lastDraw = -1
    }
}
