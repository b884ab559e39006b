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
        let watcher = SignalWatcher { _ in pipeline.stop() }
        defer { watcher.cancel() }
        let bar = ProgressBar(enabled: showProgress && isatty(STDERR_FILENO) == 1)
        defer { bar.finish() }
        let observer = onProgress
        return try pipeline.run { progress in
            bar.update(progress)
            observer?(progress)
        }
    }
}
