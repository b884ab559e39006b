import Capture
import CoreTypes
import Foundation
import NeuralNet
import Parallel

/// The MTCNN cascade (Zhang et al. 2016) with facenet-pytorch's `detect_face` arithmetic:
/// an area-resampled image pyramid through P-Net, then R-Net on 24x24 crops and O-Net on 48x48
/// crops, each stage followed by box regression and non-maximum suppression.
public struct MTCNN: FaceDetecting {
    public struct Options: Sendable, Equatable {
        /// Smallest face searched for, in pixels (the pyramid starts at 12 / minFaceSize).
        public var minFaceSize: Double = 20
        /// Ratio between pyramid levels.
        public var scaleFactor: Double = 0.709
        /// Score thresholds of P-Net (>=), R-Net (>) and O-Net (>).
        public var thresholds: [Float] = [0.6, 0.7, 0.7]
        /// IoU thresholds: P-Net within a scale, P-Net across scales, R-Net; O-Net uses the
        /// intersection over the smaller box ("Min") with `finalNMS`.
        public var scaleNMS: Double = 0.5
        public var pnetNMS: Double = 0.7
        public var rnetNMS: Double = 0.7
        public var finalNMS: Float = 0.7
        /// Bounds on work for crowded or huge frames: P-Net boxes kept per scale (highest scores)
        /// before NMS, and crops sent to R-Net / O-Net. Far above what ordinary frames produce.
        public var maxCandidatesPerScale: Int = 8000
        public var maxCandidatesPerStage: Int = 3000
        /// Crops resampled and run through R-Net / O-Net at a time (bounds memory).
        public var cropChunk: Int = 256
        /// P-Net output cells per tile: big pyramid levels are cut into horizontal strips that
        /// run on the cores at once.
        public var pnetBandCells: Int = 65_536
        /// P-Net output cells per chunk inside a strip: a strip runs chunk after chunk, each
        /// carrying its last pooled rows to the next, so the chunk's maps stay in the cache
        /// without recomputing rows above it.
        public var pnetChunkCells: Int = 8_192
        /// Floats of pyramid images resampled before P-Net runs over them: every level of a
        /// frame up to about 4K at the default minimum face size (a 1080p pyramid is 4.5
        /// million); bigger pyramids run in several passes, keeping memory bounded.
        public var pyramidPassFloats: Int = 1 << 25

        public init() {}

        public init(minFaceSize: Double = 20, scaleFactor: Double = 0.709, thresholds: [Float] = [0.6, 0.7, 0.7]) {
            self.minFaceSize = minFaceSize
            self.scaleFactor = scaleFactor
            self.thresholds = thresholds
        }

        func validate() throws {
            guard minFaceSize.isFinite, minFaceSize >= 1 else { throw FaceDetectError.badOptions("min face size \(minFaceSize) must be >= 1") }
            guard scaleFactor > 0.05, scaleFactor < 0.99 else {
                throw FaceDetectError.badOptions("scale factor \(scaleFactor) must lie in (0.05, 0.99)")
            }
            guard thresholds.count == 3, thresholds.allSatisfy({ $0.isFinite }) else {
                throw FaceDetectError.badOptions("thresholds must be three numbers, got \(thresholds)")
            }
            guard maxCandidatesPerScale > 0, maxCandidatesPerStage > 0, cropChunk > 0, pnetBandCells > 0, pnetChunkCells > 0,
                  pyramidPassFloats > 0 else {
                throw FaceDetectError.badOptions("candidate caps, crop chunk and band size must be positive")
            }
        }
    }

    public static let modelFiles = ["pnet.safetensors", "rnet.safetensors", "onet.safetensors"]

    public let options: Options
    let pnet: PNet
    let rnet: RNet
    let onet: ONet
    let scratchPool = ScratchPool { PNetScratch() }
    /// The pyramid images of the frames in flight.
    let pyramidPool = ReusePool { ScratchBuffer() }

    /// Loads the three networks from `directory` (holding pnet/rnet/onet.safetensors).
    public init(modelDirectory directory: String, options: Options = Options()) throws {
        try options.validate()
        self.options = options
        let dir = directory as NSString
        pnet = try PNet(path: dir.appendingPathComponent("pnet.safetensors"))
        rnet = try RNet(path: dir.appendingPathComponent("rnet.safetensors"))
        onet = try ONet(path: dir.appendingPathComponent("onet.safetensors"))
    }

    /// Finds models/mtcnn (see `ModelLocator`: --models DIR, $FER_LIVE_MODELS, next to the
    /// executable, then up from it) and loads it.
    public init(searching explicit: String? = nil, options: Options = Options()) throws {
        let dir = try ModelLocator.find(subdirectory: "mtcnn", requiredFiles: Self.modelFiles, explicit: explicit)
        try self.init(modelDirectory: dir, options: options)
    }

    /// Pyramid scales as detect_face computes them (in Double, as Python does).
    public func scales(width: Int, height: Int) -> [Double] {
        let m = 12.0 / options.minFaceSize
        var minl = Double(min(width, height)) * m
        var s = m
        var out: [Double] = []
        while minl >= 12 {
            out.append(s)
            s *= options.scaleFactor
            minl *= options.scaleFactor
        }
        return out
    }

    public func detect(in frame: Frame) throws -> [Face] {
        try detect(in: frame, observer: nil)
    }

    /// Rejects a frame whose pixel buffer is shorter than its size and stride say.
    static func checkBuffer(_ frame: Frame) throws {
        guard frame.stride >= 3 * frame.width, frame.pixels.count >= frame.stride * (frame.height - 1) + 3 * frame.width else {
            throw FaceDetectError.badFrame(index: frame.index,
                                           reason: "\(frame.pixels.count) bytes for \(frame.width)x\(frame.height) RGB24 with stride \(frame.stride)")
        }
    }

    /// `detect(in:)`, with `observer` called at the named points of the cascade (profiling).
    public func detect(in frame: Frame, observer: (any CascadeObserver)?) throws -> [Face] {
        try detect(in: frame, skippingFinestLevels: 0, observer: observer)
    }

    /// The cascade without the `count` finest pyramid levels: only faces larger than
    /// `minFaceSize / scaleFactor^count` are searched for (about 40 px for 2 levels at the
    /// defaults), at a fraction of the cost, since the finest levels are the largest images
    /// (the first two hold three quarters of P-Net's pixels). The remaining levels are exactly
    /// those of a full detection. `KeyframeDetector` looks for newcomers this way between
    /// keyframes.
    public func detect(in frame: Frame, skippingFinestLevels count: Int, observer: (any CascadeObserver)? = nil) throws -> [Face] {
        guard frame.width > 0, frame.height > 0 else { return [] }
        try Self.checkBuffer(frame)
        let scales = Array(scales(width: frame.width, height: frame.height).dropFirst(max(0, count)))
        guard !scales.isEmpty else { return [] }
        defer {
            observer?.frameFinished(levels: scales.map { (Int(Double(frame.width) * $0 + 1), Int(Double(frame.height) * $0 + 1)) })
        }
        // Stage 1 (P-Net, the proposal network): candidate windows over the image pyramid.
        let proposals = try observer.measure(.proposal) { try stage1(frame, scales: scales, observer: observer) }
        guard !proposals.isEmpty else { return [] }
        // Stage 2 (R-Net, the refine network): rejects most candidates, refines the others.
        let refined = try observer.measure(.refinement) { try stage2(frame, proposals, observer: observer) }
        guard !refined.isEmpty else { return [] }
        // Stage 3 (O-Net, the output network): the final boxes and five landmarks.
        let faces = try observer.measure(.output) { try stage3(frame, refined, observer: observer) }
        return faces.sorted { $0.score > $1.score }
    }

    // MARK: - Stage 1: P-Net over the pyramid

    /// P-Net on every pyramid level, boxes from the cells at or above the threshold, NMS per
    /// level and over all levels, regression and squaring (`rerec`).
    func stage1(_ frame: Frame, scales: [Double], observer: (any CascadeObserver)? = nil) throws -> [Candidate] {
        let pyramid = PNetPyramid(width: frame.width, height: frame.height, scales: scales, bandCells: options.pnetBandCells,
                                  passFloats: options.pyramidPassFloats)
        let buffer = pyramidPool.take()
        defer { pyramidPool.give(buffer) }
        let perLevel = try pyramid.run(frame, buffer: buffer, observer: observer) { level, rows, image in
            runPNet(image, level: level, rows: rows, threshold: options.thresholds[0], observer: observer)
        }
        return observer.measure(.pnetNMS) {
            var all: [Candidate] = []
            for boxes in perLevel {
                observer.count(.pnetPassed, boxes.count)
                let capped = boxes.count > options.maxCandidatesPerScale ? Self.topScores(boxes, options.maxCandidatesPerScale) : boxes
                all += BoxMath.nms(capped, threshold: options.scaleNMS).map { capped[$0] }
            }
            observer.count(.afterScaleNMS, all.count)
            var boxes = BoxMath.nms(all, threshold: options.pnetNMS).prefix(options.maxCandidatesPerStage).map { all[$0] }
            for i in boxes.indices {
                BoxMath.regressStage1(&boxes[i])
                BoxMath.rerec(&boxes[i])
            }
            observer.count(.rnetInput, boxes.count)
            return boxes
        }
    }

    static func topScores(_ c: [Candidate], _ k: Int) -> [Candidate] {
        let idx = c.indices.sorted { c[$0].score > c[$1].score }.prefix(k).sorted()
        return idx.map { c[$0] }
    }

    /// P-Net on map rows `rows` (a strip) of one pyramid level, in chunks of about
    /// `pnetChunkCells` cells: each chunk runs `PNet.forwardChunk` on the input rows of its new
    /// pooled rows after the 4 pooled rows the chunk before left, and turns cells at or above
    /// the threshold into boxes. Strips too short for two chunks, and levels too narrow, run as
    /// one band (`PNet.forwardInPlace`).
    func runPNet(_ image: PNetPyramid.LevelImage, level: PNetPyramid.Level, rows: Range<Int>, threshold: Float,
                 observer: (any CascadeObserver)? = nil) -> [Candidate] {
        let scratch = scratchPool.take()
        defer { scratchPool.give(scratch) }
        // Whole rows of conv3's 4x4 Winograd tiles (a partial tile row computes outputs it drops).
        let chunk = max(PNet.minChunkRows, options.pnetChunkCells / max(1, level.mapWidth) / 4 * 4)
        guard PNet.runsInChunks(mapWidth: level.mapWidth), rows.count >= 2 * chunk else {
            return runPNetPiece(image, level: level, mapRows: rows, firstPooled: rows.lowerBound, scratch: scratch,
                                threshold: threshold, observer: observer) {
                pnet.forwardInPlace(scratch, input: $0, planeRows: image.planeRows, rows: $1, cols: level.width)
            }
        }
        let pw = pnet.pool.outputSize(level.width - 2)
        // The largest chunk (the last takes a remainder under minChunkRows) and its 4 carried rows.
        scratch.p1nhwc.reserve(16 * (chunk + PNet.minChunkRows + 4) * pw)
        var out: [Candidate] = []
        var a = rows.lowerBound, carried = 0
        while a < rows.upperBound {
            var b = min(rows.upperBound, a + chunk)
            if rows.upperBound - b < PNet.minChunkRows { b = rows.upperBound }
            // Pooled rows [a + carried, b + 4) are new.
            let p0 = a + carried, newPooled = b + 4 - p0
            out += runPNetPiece(image, level: level, mapRows: a..<b, firstPooled: p0, scratch: scratch,
                                threshold: threshold, observer: observer) {
                pnet.forwardChunk(scratch, input: $0, planeRows: image.planeRows, inputRows: $1, cols: level.width,
                                  newPooled: newPooled, carried: carried)
            }
            carried = 4
            a = b
        }
        return out
    }

    /// One piece of a level, map rows `mapRows` whose new pooled rows start at `firstPooled`:
    /// runs `forward` on the input rows those need (from twice the first pooled row to two
    /// past twice the last, `2 * row + 11` for the last map row; the level's last piece runs to
    /// its bottom so the ceil-mode pool sees the same partial window), and turns the map's cells
    /// at or above the threshold into boxes.
    private func runPNetPiece(_ image: PNetPyramid.LevelImage, level: PNetPyramid.Level, mapRows: Range<Int>, firstPooled: Int,
                              scratch: PNetScratch, threshold: Float, observer: (any CascadeObserver)?,
                              forward: (_ input: UnsafePointer<Float>, _ inputRows: Int) -> (mapH: Int, mapW: Int)) -> [Candidate] {
        let inLo = 2 * firstPooled
        let inHi = PNetPyramid.inputRows(of: .init(level: level.index, rows: firstPooled..<mapRows.upperBound), in: level).upperBound
        let (oh, ow) = observer.measure(.pnet, level: level.index) { forward(image.rows(from: inLo), inHi - inLo) }
        observer.count(.pnetMapCells, oh * ow, level: level.index)
        return observer.measure(.pnetBoxes, level: level.index) {
            pnetBoxes(scratch.head, oh: oh, ow: ow, rows: mapRows, scale: Float(level.scale), threshold: threshold)
        }
    }

    /// Cells of a P-Net map at or above the threshold, as stage-1 boxes.
    private func pnetBoxes(_ scratch: ScratchBuffer, oh: Int, ow: Int, rows: Range<Int>, scale: Float,
                           threshold: Float) -> [Candidate] {
        let plane = oh * ow
        // The pointer, read once: going through the buffer object per cell costs an access check each time.
        let head = UnsafePointer(scratch.pointer)
        // prob >= t exactly when logit1 - logit0 >= log(t / (1 - t)); the cheap test (with a margin
        // far above float error) skips the exponentials for nearly every cell.
        let gate: Float = threshold > 0 && threshold < 1 ? Foundation.log(threshold / (1 - threshold)) - 1e-3 : -.infinity
        var out: [Candidate] = []
        for r in 0..<min(oh, rows.count) {
            for c in 0..<ow {
                let k = r * ow + c
                let a0 = head[k], a1 = head[plane + k]
                guard a1 - a0 >= gate else { continue }
                let prob = faceProbability(a0, a1)
                guard prob >= threshold else { continue }
                let bx = Float(c), by = Float(rows.lowerBound + r)
                out.append(Candidate(
                    x1: ((2 * bx + 1) / scale).rounded(.down), y1: ((2 * by + 1) / scale).rounded(.down),
                    x2: ((2 * bx + 12) / scale).rounded(.down), y2: ((2 * by + 12) / scale).rounded(.down),
                    score: prob, reg: (head[2 * plane + k], head[3 * plane + k], head[4 * plane + k], head[5 * plane + k])))
            }
        }
        return out
    }

    // MARK: - Stage 2: R-Net on 24x24 crops

    /// Score > threshold, NMS, regression (`bbreg`) and squaring (`rerec`).
    func stage2(_ frame: Frame, _ boxes: [Candidate], observer: (any CascadeObserver)? = nil) throws -> [Candidate] {
        let (kept, out) = rnet.net.run(on: boxes, in: frame, options: cropOptions, observer: observer, steps: (.rnetCrops, .rnet))
        return observer.measure(.rnetNMS) {
            var passed: [Candidate] = []
            for (i, b) in kept.enumerated() {
                let o = out[(6 * i)..<(6 * i + 6)].map { $0 }
                let score = faceProbability(o[0], o[1])
                guard score > options.thresholds[1] else { continue }
                passed.append(Candidate(x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2, score: score, reg: (o[2], o[3], o[4], o[5])))
            }
            observer.count(.rnetPassed, passed.count)
            var result = BoxMath.nms(passed, threshold: options.rnetNMS).prefix(options.maxCandidatesPerStage).map { passed[$0] }
            for i in result.indices {
                BoxMath.bbreg(&result[i])
                BoxMath.rerec(&result[i])
            }
            observer.count(.onetInput, result.count)
            return result
        }
    }

    // MARK: - Stage 3: O-Net on 48x48 crops

    /// Score > threshold, landmarks, regression, NMS by intersection over the smaller box.
    func stage3(_ frame: Frame, _ boxes: [Candidate], observer: (any CascadeObserver)? = nil) throws -> [Face] {
        let (kept, out) = onet.net.run(on: boxes, in: frame, options: cropOptions, observer: observer, steps: (.onetCrops, .onet))
        return observer.measure(.onetNMS) {
            var passed: [Candidate] = []
            for (i, b) in kept.enumerated() {
                let o = Array(out[(16 * i)..<(16 * i + 16)])
                let score = faceProbability(o[0], o[1])
                guard score > options.thresholds[2] else { continue }
                let wi = b.x2 - b.x1 + 1, hi = b.y2 - b.y1 + 1
                var c = Candidate(x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2, score: score, reg: (o[2], o[3], o[4], o[5]))
                c.landmarks = (0..<5).map { k in Point(x: wi * o[6 + k] + b.x1 - 1, y: hi * o[11 + k] + b.y1 - 1) }
                BoxMath.bbreg(&c)
                passed.append(c)
            }
            observer.count(.onetPassed, passed.count)
            let pick = BoxMath.nmsMin(passed, threshold: options.finalNMS)
            observer.count(.faces, pick.count)
            return pick.map { i in
                let c = passed[i]
                return Face(box: Box(x: c.x1, y: c.y1, width: c.x2 - c.x1, height: c.y2 - c.y1), score: c.score, landmarks: c.landmarks)
            }
        }
    }

    private var cropOptions: CropNet.RunOptions { .init(chunk: options.cropChunk, scratchPool: scratchPool) }
}
