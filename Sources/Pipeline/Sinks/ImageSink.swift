import Capture
import Foundation

/// Annotated still images (PNG or JPEG by extension). A plain path takes the one frame of an
/// image input; a path with a frame-number pattern (`out_%05d.png`, as ffmpeg's image muxer
/// takes) gets one image per frame, numbered by the frame's index (the CSV's `frame` column).
/// Each image is written under a temporary name and renamed into place.
public final class ImageSink: ResultSink {
    private let path: String
    private let overlay: Overlay
    private let pattern: Bool
    private let sourceName: String
    private var last: Frame?

    public init(path: String, overlay: Overlay = Overlay(), sourceName: String = "the input") throws {
        self.path = path
        self.overlay = overlay
        self.sourceName = sourceName
        pattern = Self.isPattern(path)
        guard ImageWriter.Format(path: path) != nil else {
            throw PipelineError.cannotCreateOutput(path: path, reason: "not an image extension (.png, .jpg, .jpeg)")
        }
        // Fail before any work when the folder cannot be written: try the temporary name.
        let probe = OutputFile(pattern ? Self.path(path, frame: 0) : path)
        let fd = open(probe.writePath, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else {
            throw PipelineError.cannotCreateOutput(path: path, reason: String(cString: strerror(errno)))
        }
        close(fd)
        probe.discard()
    }

    /// A `%d` / `%0Nd` conversion in the file name.
    public static func isPattern(_ path: String) -> Bool {
        path.range(of: #"%0?[0-9]*d"#, options: .regularExpression) != nil
    }

    static func path(_ pattern: String, frame: Int) -> String {
        guard let r = pattern.range(of: #"%0?[0-9]*d"#, options: .regularExpression) else { return pattern }
        let spec = String(pattern[r])
        return pattern.replacingCharacters(in: r, with: String(format: spec, frame))
    }

    public func consume(_ result: FrameResult, frame: Frame) throws {
        var annotated = frame
        overlay.draw(result, on: &annotated)
        if pattern {
            try write(annotated, to: Self.path(path, frame: result.frameIndex))
        } else {
            // A source that did not say it was a video can still turn out to be one.
            if last != nil { throw PipelineError.imageOutputForVideo(path: path, source: sourceName) }
            last = annotated
        }
    }

    public func finish() throws {
        if let last { try write(last, to: path) }
    }

    public func abandon() { last = nil }

    private func write(_ frame: Frame, to target: String) throws {
        let file = OutputFile(target)
        do { try ImageWriter.write(frame, to: file.writePath) } catch {
            file.discard()
            throw error
        }
        try file.commit()
    }
}
