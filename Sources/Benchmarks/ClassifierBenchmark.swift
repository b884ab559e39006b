import Capture
import Classifier
import CoreTypes
import Foundation

/// `fer-live bench classify`: the cost of one face crop (RGB frame to normalised 48x48) and the
/// network's throughput on full batches, as medians over repeats. Synthetic input, no data files.
public struct ClassifierBenchmark {
    public struct Result: Sendable {
        public var cropMicroseconds: Double         // upright crop of a 200 px face
        public var rotatedCropMicroseconds: Double  // the same face rolled 20 degrees
        public var facesPerSecond: Double           // median over batches
        public var batch: Int
        public var batches: Int
        /// Faces per second of process CPU time (all threads) over the timed batches: on a busy
        /// machine wall-clock rates say more about the neighbours than about this code.
        public var facesPerCPUSecond: Double
    }

    public let classifier: EmotionClassifier

    public init(classifier: EmotionClassifier) { self.classifier = classifier }

    public func run(batch: Int, batches: Int) throws -> Result {
        // A 1280x720 frame with texture, and a face of about 200 px at its centre.
        var px = [UInt8](repeating: 0, count: 1280 * 720 * 3)
        for i in 0..<px.count { px[i] = UInt8(truncatingIfNeeded: (i &* 2_654_435_761) >> 13) }
        let frame = Frame(index: 0, time: 0, width: 1280, height: 720, pixels: px)
        let upright = Face(box: Box(x: 540, y: 260, width: 200, height: 240), score: 1, landmarks: [
            Point(x: 600, y: 350), Point(x: 680, y: 350), Point(x: 640, y: 390), Point(x: 610, y: 430), Point(x: 670, y: 430)])
        let a: Float = 20 * .pi / 180
        let rolled = Face(box: upright.box, score: 1, landmarks: upright.landmarks.map { q in
            let dx = q.x - 640, dy = q.y - 390
            return Point(x: 640 + dx * cosf(a) - dy * sinf(a), y: 390 + dx * sinf(a) + dy * cosf(a))
        })
        let p = classifier.preprocessor
        var out = [Float](repeating: 0, count: p.size * p.size)
        var crop: [Double] = [], rot: [Double] = []
        try out.withUnsafeMutableBufferPointer { buf in
            for _ in 0..<200 {
                crop.append(try Clock.seconds { try p.crop(upright, in: frame, into: buf) })
                rot.append(try Clock.seconds { try p.crop(rolled, in: frame, into: buf) })
            }
        }
        // Network: random gray faces, one warm-up batch.
        var gray = [UInt8](repeating: 0, count: batch * p.size * p.size)
        for i in 0..<gray.count { gray[i] = UInt8(truncatingIfNeeded: (i &* 40_503) >> 7) }
        var c = classifier
        c.maxBatch = max(c.maxBatch, batch * (c.flipTTA ? 2 : 1))
        _ = try c.classify(gray: gray, count: batch)
        var rates: [Double] = []
        let cpu0 = Clock.processCPU()
        for _ in 0..<max(1, batches) {
            let s = try Clock.seconds { _ = try c.classify(gray: gray, count: batch) }
            rates.append(Double(batch) / s)
        }
        let cpu = Clock.processCPU() - cpu0
        return Result(cropMicroseconds: Stats.median(crop) * 1e6, rotatedCropMicroseconds: Stats.median(rot) * 1e6,
                      facesPerSecond: Stats.median(rates), batch: batch, batches: rates.count,
                      facesPerCPUSecond: cpu > 0 ? Double(batch * rates.count) / cpu : 0)
    }
}
