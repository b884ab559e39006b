import Capture

/// Something that encodes frames: `VideoWriter` from Capture, or any other encoder.
public protocol FrameWriting: AnyObject {
    func write(_ frame: Frame) throws
    /// Writes the trailer; safe to call twice.
    func close() throws
}

/// Draws the results onto each frame and hands it to an encoder.
public final class VideoSink: ResultSink {
    private let writer: FrameWriting
    private let overlay: Overlay
    private let file: OutputFile?

    /// `file`: where `writer` writes (its `writePath`), moved into place when the run ends.
    public init(writer: FrameWriting, overlay: Overlay = Overlay(), file: OutputFile? = nil) {
        self.writer = writer
        self.overlay = overlay
        self.file = file
    }

    public func consume(_ result: FrameResult, frame: Frame) throws {
        var annotated = frame
        overlay.draw(result, on: &annotated)
        try writer.write(annotated)
    }

    public func finish() throws {
        do { try writer.close() } catch {
            file?.discard()
            throw error
        }
        try file?.commit()
    }

    public func abandon() {
        try? writer.close()
        file?.discard()
    }
}
