import Capture
import Pipeline

/// The pipeline's side of `--serve`: hands each frame to the hub. The result comes to the sink
/// first and the pipeline's figures for it (latency, drops) right after, through `progressed`;
/// the two are published together so the page's numbers always match its frame.
public final class ViewerSink: ResultSink, @unchecked Sendable {
    private let hub: LiveHub
    private var pending: (result: FrameResult, frame: Frame)?

    public init(hub: LiveHub) { self.hub = hub }

    public func consume(_ result: FrameResult, frame: Frame) throws {
        flush(progress: nil)
        pending = (result, frame)
    }

    /// The pipeline's report after the frame `consume` got last (`Job.onProgress`).
    public func progressed(_ progress: PipelineProgress) {
        flush(progress: progress)
    }

    public func finish() throws {
        flush(progress: nil)
        hub.end(.ended)
    }

    public func abandon() {
        pending = nil
        hub.end(.failed)
    }

    private func flush(progress: PipelineProgress?) {
        guard let pending else { return }
        self.pending = nil
        hub.publish(pending.result, frame: pending.frame, progress: progress)
    }
}
