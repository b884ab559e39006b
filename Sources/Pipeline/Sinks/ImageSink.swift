import Capture
import Foundation

/// Annotated still images: an image input gives an annotated image (PNG or JPEG by extension).
/// For a multi-frame input the last frame is kept.
public final class ImageSink: ResultSink {
    private let path: String
    private let overlay: Overlay
    private var last: Frame?

    public init(path: String, overlay: Overlay = Overlay()) throws {
        self.path = path
        self.overlay = overlay
        guard ImageWriter.Format(path: path) != nil else {
            throw PipelineError.cannotCreateOutput(path: path, reason: "not an image extension (.png, .jpg, .jpeg)")
        }
        // Fail before any work when the path cannot be written.
        let fd = open(path, O_WRONLY | O_CREAT, 0o644)
        guard fd >= 0 else {
            throw PipelineError.cannotCreateOutput(path: path, reason: String(cString: strerror(errno)))
        }
        close(fd)
    }

    public func consume(_ result: FrameResult, frame: Frame) throws {
        var annotated = frame
        overlay.draw(result, on: &annotated)
        last = annotated
    }

    public func finish() throws {
        if let last { try ImageWriter.write(last, to: path) }
    }
}
