import Capture

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
        let image = IntegralImage(frame: frame)
        let boxes = try stage2(image, seeds)
        if boxes.isEmpty { return [] }
        return try stage3(image, boxes).sorted { $0.score > $1.score }
    }
}

/// Full MTCNN every `interval` frames; in between, only the faces already known are followed
/// (`MTCNN.refine`). A face that appears between two full detections is found at the next one,
/// at most `interval - 1` frames late; a face lost by the follower triggers a full detection on
/// the next frame. `interval` 1 is a full detection on every frame.
///
/// Holds the last frame's faces, so one instance serves one stream from one thread (the
/// pipeline's detect stage).
public final class KeyframeDetector: FaceDetecting, @unchecked Sendable {
    public let detector: MTCNN
    public let interval: Int
    private var previous: [Face] = []
    private var framesSinceFull = Int.max

    public init(detector: MTCNN, interval: Int) {
        self.detector = detector
        self.interval = max(1, interval)
    }

    public func detect(in frame: Frame) throws -> [Face] {
        let faces: [Face]
        if framesSinceFull >= interval - 1 {
            faces = try detector.detect(in: frame)
            framesSinceFull = 0
        } else {
            faces = try detector.refine(in: frame, around: previous.map(\.box))
            // Lost someone: look at the whole picture again on the next frame.
            framesSinceFull = faces.count < previous.count ? Int.max - 1 : framesSinceFull + 1
        }
        previous = faces
        return faces
    }
}
