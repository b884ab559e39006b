import Capture
import Classifier
import FaceDetect
import Foundation

/// One whole run as the commands start it: outputs opened first, then the pipeline, with
/// Ctrl-C / SIGTERM turned into a clean stop, progress on a terminal and a closing summary.
public struct Job {
    public var source: FrameSource
    public var detector: FaceDetecting
    public var classifier: EmotionClassifying
    public var outputs: OutputSettings
    public var options: PipelineOptions
    public var realtime = false
    public var showProgress = true
    /// Sinks the caller made itself (a live viewer), fed after the outputs.
    public var extraSinks: [ResultSink] = []
    /// Told after every frame, on the sinks' thread (the live viewer's figures).
    public var onProgress: (@Sendable (PipelineProgress) -> Void)?

    public init(source: FrameSource, detector: FaceDetecting, classifier: EmotionClassifying,
                outputs: OutputSettings, options: PipelineOptions) {
        self.source = source
        self.detector = detector
        self.classifier = classifier
        self.outputs = outputs
        self.options = options
    }

    public func run() throws -> PipelineSummary {
        defer { source.close() }
        let sinks = try outputs.openSinks(for: source.info) + extraSinks
        let pipeline = Pipeline(source: source, detector: detector, classifier: classifier,
                                sinks: sinks, options: options, realtime: realtime)
        let caught = CaughtSignal()
        let watcher = SignalWatcher { sig in
            caught.record(sig)
            pipeline.stop()
        }
        defer { watcher.cancel() }
        let bar = ProgressBar(enabled: showProgress && isatty(STDERR_FILENO) == 1 && !outputs.writesToTerminal)
        defer { bar.finish() }
        let observer = onProgress
        var summary = try pipeline.run { progress in
            bar.update(progress)
            observer?(progress)
        }
        summary.stopSignal = caught.value
        return summary
    }
}

/// The first signal that asked a run to stop, set from the signal queue, read after the run.
final class CaughtSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var signal: Int32?

    func record(_ sig: Int32) {
        lock.lock()
        if signal == nil { signal = sig }
        lock.unlock()
    }

    var value: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return signal
    }
}
