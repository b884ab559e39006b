import Capture

/// Opens INPUT for the commands that read frames (detect, bench detect): a camera for
/// `/dev/video*`, FFmpeg for files, images and URLs.
enum FrameInput {
    static func open(_ path: String, threads: Int = 2) throws -> any FrameSource {
        try Sources.open(path, threads: threads)
    }
}
