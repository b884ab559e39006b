import Capture

/// Where results go: a CSV file, a JSON-lines stream, a text log, an annotated video.
/// Sinks are fed in frame order from one thread.
public protocol ResultSink: AnyObject {
    /// `frame` is the decoded picture the result belongs to (sinks that draw need it).
    func consume(_ result: FrameResult, frame: Frame) throws
    /// Flushes and closes; called once, also when the run stops early.
    func finish() throws
}
