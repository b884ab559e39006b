import Classifier
import CoreTypes
import FaceDetect

/// One face in one frame, as the sinks see it.
public struct TrackedFace: Sendable, Equatable {
    /// Stable across frames while the tracker follows the same person.
    public var id: Int
    public var face: Face
    /// The classifier's probabilities, smoothed over the track when smoothing is on.
    public var scores: EmotionScores

    public init(id: Int, face: Face, scores: EmotionScores) {
        self.id = id; self.face = face; self.scores = scores
    }
}

/// Everything the pipeline learned about one frame.
public struct FrameResult: Sendable, Equatable {
    public var frameIndex: Int
    public var time: Double
    public var faces: [TrackedFace]

    public init(frameIndex: Int, time: Double, faces: [TrackedFace]) {
        self.frameIndex = frameIndex; self.time = time; self.faces = faces
    }
}
