import Capture
import CoreTypes

/// The seam between the pipeline and an emotion classifier.
public protocol EmotionClassifying: Sendable {
    /// One score set per face, in the order given; all faces are run as one batch.
    /// `faces[i].frame` is an index into `frames`, so faces of several frames share a batch.
    func classify(_ faces: [(frame: Int, face: Face)], in frames: [Frame]) throws -> [EmotionScores]
}
