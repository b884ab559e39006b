import Classifier
import CoreTypes
import FaceDetect
import Foundation

/// Follows faces from frame to frame by box overlap, so each person keeps one `face_id`,
/// and smooths each track's emotion probabilities over time.
public struct Tracker: Sendable {
    public struct Options: Sendable {
        /// Minimum IoU between a track's last box and a new face for them to be the same person.
        public var minIoU: Float = 0.3
        /// Frames a track survives without a match (a missed detection must not change the id).
        public var maxMissedFrames: Int = 15
        /// Time constant of the exponential smoothing, in seconds; 0 turns smoothing off.
        public var smoothingSeconds: Double = 0.25
        public init() {}
    }

    private struct Track: Sendable {
        var id: Int
        var box: Box
        var lastFrame: Int
        var lastTime: Double
        var probabilities: [Float]
    }

    public let options: Options
    private var tracks: [Track] = []
    private var nextID = 0

    public init(options: Options = Options()) { self.options = options }

    /// Assigns ids to this frame's faces (greedy, best overlap first) and returns them smoothed.
    public mutating func update(frameIndex: Int, time: Double,
                                faces: [Face], scores: [EmotionScores]) -> [TrackedFace] {
        tracks.removeAll { frameIndex - $0.lastFrame > options.maxMissedFrames }

        var pairs: [(iou: Float, face: Int, track: Int)] = []
        for (f, face) in faces.enumerated() {
            for (t, track) in tracks.enumerated() {
                let iou = face.box.iou(track.box)
                if iou >= options.minIoU { pairs.append((iou, f, t)) }
            }
        }
        pairs.sort { $0.iou > $1.iou }
        var trackForFace = [Int?](repeating: nil, count: faces.count)
        var trackTaken = [Bool](repeating: false, count: tracks.count)
        for p in pairs where trackForFace[p.face] == nil && !trackTaken[p.track] {
            trackForFace[p.face] = p.track
            trackTaken[p.track] = true
        }

        var out: [TrackedFace] = []
        out.reserveCapacity(faces.count)
        for (f, face) in faces.enumerated() {
            let raw = scores[f].probabilities
            if let t = trackForFace[f] {
                let dt = max(0, time - tracks[t].lastTime)
                let smoothed = Tracker.smooth(previous: tracks[t].probabilities, current: raw,
                                              dt: dt, tau: options.smoothingSeconds)
                tracks[t].box = face.box
                tracks[t].lastFrame = frameIndex
                tracks[t].lastTime = time
                tracks[t].probabilities = smoothed
                out.append(TrackedFace(id: tracks[t].id, face: face, scores: EmotionScores(probabilities: smoothed)))
            } else {
                let track = Track(id: nextID, box: face.box, lastFrame: frameIndex, lastTime: time, probabilities: raw)
                nextID += 1
                tracks.append(track)
                out.append(TrackedFace(id: track.id, face: face, scores: scores[f]))
            }
        }
        return out
    }

    /// Exponential moving average whose weight depends on the time step, so the smoothing
    /// behaves the same at any frame rate. The result is renormalized to sum to 1.
    static func smooth(previous: [Float], current: [Float], dt: Double, tau: Double) -> [Float] {
        guard tau > 0, previous.count == current.count else { return current }
        let keep = Float(exp(-dt / tau))
        var mixed = zip(previous, current).map { keep * $0 + (1 - keep) * $1 }
        let sum = mixed.reduce(0, +)
        if sum > 0 { mixed = mixed.map { $0 / sum } }
        return mixed
    }
}
