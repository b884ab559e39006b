import Capture
import CoreTypes

/// The seam between the pipeline and a face detector.
public protocol FaceDetecting: Sendable {
    /// Faces in the frame, boxes in the frame's pixels, highest score first.
    func detect(in frame: Frame) throws -> [Face]

    /// A detector for a new stream: one that keeps state between frames (the faces it follows)
    /// starts from none, sharing the loaded networks. Each run asks for one, so nothing of an
    /// earlier run leaks into the next.
    func forNewStream() -> FaceDetecting
}

extension FaceDetecting {
    /// Stateless detectors serve every stream as they are.
    public func forNewStream() -> FaceDetecting { self }
}
