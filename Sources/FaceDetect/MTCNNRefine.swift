import Capture
import CoreTypes

extension MTCNN {
    /// Finds the faces near `previous` boxes only: R-Net and O-Net on squared crops around
    /// each box (and a slightly larger one), skipping P-Net and the pyramid. In video a face
    /// moves little from one frame to the next, so this follows known faces at a small fraction
    /// of a full detection's cost; it cannot find new faces (see `KeyframeDetector`).
    public func refine(in frame: Frame, around previous: [Box]) throws -> [Face] {
        guard frame.width > 0, frame.height > 0, !previous.isEmpty else { return [] }
        try Self.checkBuffer(frame)
        var seeds: [Candidate] = []
        for box in previous {
            for grow: Float in [1.0, 1.25] {
                let w = box.width * grow, h = box.height * grow
                let cx = box.x + box.width / 2, cy = box.y + box.height / 2
                var c = Candidate(x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, score: 1)
                BoxMath.rerec(&c)
                seeds.append(c)
            }
        }
        // Crops are resampled straight from the frame's pixels, so following faces costs no
        // pass over the whole frame.
        let boxes = try stage2(frame, seeds)
        if boxes.isEmpty { return [] }
        return try stage3(frame, boxes).sorted { $0.score > $1.score }
    }
}

/// Full MTCNN at most every `interval` frames; in between, the faces already known are
/// followed (`MTCNN.refine`). A face lost by the follower triggers a full detection on the same
/// frame. `interval` 1 is a full detection on every frame.
///
/// New faces: in a quiet scene (at most one face, nobody new lately: a webcam, a talk) a face
/// that appears between two full detections is found at the next one, at most `interval - 1`
/// frames late, and the follower costs a small fraction of a detection. In a busy scene (two or
/// more faces, or a newcomer at one of the last few full detections: a crowd, a panning camera),
/// every frame between keyframes is also searched for faces larger than `coarseLevels` pyramid
/// levels above the smallest (`MTCNN.detect(in:skippingFinestLevels:)`, about 40 px at the
/// defaults, a quarter of a detection's P-Net work), so people walking in are found on the frame
/// they appear; smaller newcomers wait for the next keyframe. A newcomer also brings the next
/// full detection closer (`busyInterval`); each full detection without one moves it one frame
/// further, back to `interval`.
///
/// Holds the last frame's faces, so one instance serves one stream from one thread (the
/// pipeline's detect stage).
public final class KeyframeDetector: FaceDetecting, @unchecked Sendable {
    public let detector: MTCNN
    public let interval: Int
    /// The gap right after a newcomer was found.
    public let busyInterval: Int
    /// Finest pyramid levels left out of the search for newcomers between keyframes.
    public let coarseLevels: Int
    private var previous: [Face] = []
    private var framesSinceFull = Int.max
    private var gap: Int
    private var lastThumbnail: Thumbnail?

    public init(detector: MTCNN, interval: Int, busyInterval: Int = 2, coarseLevels: Int = 2) {
        self.detector = detector
        self.interval = max(1, interval)
        self.busyInterval = min(max(1, busyInterval), self.interval)
        self.coarseLevels = max(0, coarseLevels)
        gap = self.interval
    }

    public func forNewStream() -> FaceDetecting {
        KeyframeDetector(detector: detector, interval: interval, busyInterval: busyInterval, coarseLevels: coarseLevels)
    }

    /// Frames between full detections at this point of the stream (for tests and measurements).
    public var currentInterval: Int { gap }

    /// Whether frames between keyframes are searched for newcomers now.
    public var isBusy: Bool { previous.count >= 2 || gap < interval }

    public func detect(in frame: Frame) throws -> [Face] {
        let thumbnail = Thumbnail(frame)
        // A cut makes every known face stale: look at the whole picture at once.
        let cut = lastThumbnail.map { thumbnail.differs(from: $0) } ?? true
        lastThumbnail = thumbnail
        var faces: [Face]
        if cut || framesSinceFull >= gap - 1 {
            faces = try fullDetection(in: frame, known: cut ? nil : previous)
        } else {
            let busy = isBusy
            faces = try detector.refine(in: frame, around: previous.map(\.box))
            framesSinceFull += 1
            if faces.count < previous.count {
                // Lost someone: look at the whole picture again, on this frame rather than the
                // next, so a face the follower dropped is not missing from any frame's results.
                faces = try fullDetection(in: frame, known: previous)
            } else if busy {
                let large = try detector.detect(in: frame, skippingFinestLevels: coarseLevels)
                let newcomers = Self.unknown(large, known: faces)
                if !newcomers.isEmpty {
                    faces = (faces + newcomers).sorted { $0.score > $1.score }
                    gap = busyInterval
                }
            }
        }
        previous = faces
        return faces
    }

    /// The full cascade, and the next gap: `known` are the faces followed so far (nil after a
    /// cut, where every face counts as known and the gap is kept).
    private func fullDetection(in frame: Frame, known: [Face]?) throws -> [Face] {
        let faces = try detector.detect(in: frame)
        framesSinceFull = 0
        if let known {
            gap = Self.unknown(faces, known: known).isEmpty ? min(interval, gap + 1) : busyInterval
        }
        return faces
    }

    /// The faces of `found` that overlap none of `known` by an IoU of 0.3 or more (from one frame
    /// to the next a face moves and grows little enough that its boxes overlap far more).
    static func unknown(_ found: [Face], known: [Face]) -> [Face] {
        found.filter { face in !known.contains { $0.box.iou(face.box) >= 0.3 } }
    }
}

/// A 32x18 grid of luma samples of a frame, to tell a cut from motion at almost no cost.
struct Thumbnail {
    static let columns = 32, rows = 18
    /// Mean absolute luma difference, in levels, above which two frames are taken for a cut.
    static let cutThreshold: Float = 28
    private(set) var luma: [Float]

    init(_ frame: Frame) {
        var values = [Float](repeating: 0, count: Self.columns * Self.rows)
        if frame.width > 0, frame.height > 0, frame.pixels.count >= frame.stride * frame.height {
            for r in 0..<Self.rows {
                let y = (2 * r + 1) * frame.height / (2 * Self.rows)
                for c in 0..<Self.columns {
                    let x = (2 * c + 1) * frame.width / (2 * Self.columns)
                    let o = y * frame.stride + 3 * x
                    values[r * Self.columns + c] = 0.299 * Float(frame.pixels[o]) + 0.587 * Float(frame.pixels[o + 1])
                        + 0.114 * Float(frame.pixels[o + 2])
                }
            }
        }
        luma = values
    }

    func differs(from other: Thumbnail) -> Bool {
        var total: Float = 0
        for (a, b) in zip(luma, other.luma) { total += abs(a - b) }
        return total / Float(luma.count) > Self.cutThreshold
    }
}
