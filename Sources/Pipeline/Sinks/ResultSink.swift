import Capture

/// Where results go: a CSV file, a JSON-lines stream, a text log, an annotated video.
/// Sinks are fed in frame order from one thread.
public protocol ResultSink: AnyObject {
    /// `frame` is the decoded picture the result belongs to (sinks that draw need it).
    func consume(_ result: FrameResult, frame: Frame) throws
    /// Flushes, closes and moves the output into place; called once, also when the run is
    /// stopped early (Ctrl-C keeps what was done).
    func finish() throws
    /// Closes after a failed run without moving anything into place, so an earlier file at the
    /// output path is not replaced.
    func abandon()
}
