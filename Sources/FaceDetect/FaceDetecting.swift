import Capture

/// The seam between the pipeline and a face detector.
public protocol FaceDetecting: Sendable {
    /// Faces in the frame, boxes in the frame's pixels, highest score first.
    func detect(in frame: Frame) throws -> [Face]
}
