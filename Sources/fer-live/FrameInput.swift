import Capture

/// Opens INPUT for the commands that read frames (detect, bench detect).
/// TEMPORARY on branch `detect`: Capture's `VideoFileSource` lives on branch `capture`. Once both
/// are merged the body is one line: `try VideoFileSource(path: path)`.
enum FrameInput {
    static func open(_ path: String) throws -> any FrameSource {
        throw NotBuiltYet(what: "reading \(path) (Capture's VideoFileSource, wired when branch capture is merged)")
    }
}
