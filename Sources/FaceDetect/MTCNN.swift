import Capture
import Foundation
import NeuralNet

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
        /// P-Net output rows per tile: big pyramid levels are cut into horizontal bands.
        public var pnetBandCells: Int = 16_384

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
            guard maxCandidatesPerScale > 0, maxCandidatesPerStage > 0, cropChunk > 0, pnetBandCells > 0 else {
                throw FaceDetectError.badOptions("candidate caps, crop chunk and band size must be positive")
            }
        }
    }

    public static let modelFiles = ["pnet.safetensors", "rnet.safetensors", "onet.safetensors"]

    public let options: Options
    let pnet: PNet
    let rnet: RNet
    let onet: ONet
    let scratchPool = ScratchPool()

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
        try detect(in: frame, timings: nil)
    }

    /// Rejects a frame whose pixel buffer is shorter than its size and stride say.
    static func checkBuffer(_ frame: Frame) throws {
        guard frame.stride >= 3 * frame.width, frame.pixels.count >= frame.stride * (frame.height - 1) + 3 * frame.width else {
            throw FaceDetectError.badFrame(index: frame.index,
                                           reason: "\(frame.pixels.count) bytes for \(frame.width)x\(frame.height) RGB24 with stride \(frame.stride)")
        }
    }

    /// `detect(in:)`, accumulating where the time goes into `timings` when given.
    public func detect(in frame: Frame, timings: Timings?) throws -> [Face] {
        guard frame.width > 0, frame.height > 0 else { return [] }
        try Self.checkBuffer(frame)
        let scales = scales(width: frame.width, height: frame.height)
        guard !scales.isEmpty else { return [] }
        var w0 = Timings.wallNow()
        let image = timed(timings, .integral) { IntegralImage(frame: frame) }
        var boxes = try stage1(image, scales: scales, timings: timings)
        func lap(_ s: Timings.Stage) {
            guard let timings else { return }
            let now = Timings.wallNow()
            timings.addWall(s, now - w0)
            w0 = now
        }
        defer {
            timings?.frameDone(levels: scales.map { (Int(Double(frame.width) * $0 + 1), Int(Double(frame.height) * $0 + 1)) })
        }
        lap(.stage1)
        if boxes.isEmpty { return [] }
        boxes = try stage2(image, boxes, timings: timings)
        lap(.stage2)
        if boxes.isEmpty { return [] }
        let faces = try stage3(image, boxes, timings: timings)
        lap(.stage3)
        return faces.sorted { $0.score > $1.score }
    }

    // MARK: - Stage 1: P-Net over the pyramid

    private struct Tile { let scale: Int; let rows: Range<Int> }

    func stage1(_ image: IntegralImage, scales: [Double], timings: Timings? = nil) throws -> [Candidate] {
        let w = image.width, h = image.height
        // Pyramid sizes and their P-Net output maps; each level is cut into bands of output rows.
        var sizes: [(h: Int, w: Int, mapH: Int, mapW: Int)] = []
        var tiles: [Tile] = []
        for (si, s) in scales.enumerated() {
            let hs = Int(Double(h) * s + 1), ws = Int(Double(w) * s + 1)
            let mapH = PNetGeometry.outputSize(hs), mapW = PNetGeometry.outputSize(ws)
            sizes.append((hs, ws, mapH, mapW))
            guard mapH > 0, mapW > 0 else { continue }
            let band = max(1, options.pnetBandCells / mapW)
            var r = 0
            while r < mapH {
                tiles.append(Tile(scale: si, rows: r..<min(mapH, r + band)))
                r += band
            }
        }
        // Biggest tiles first, so the last ones to finish are small.
        tiles.sort { $0.rows.count * sizes[$0.scale].mapW > $1.rows.count * sizes[$1.scale].mapW }
        var results = [[Candidate]](repeating: [], count: tiles.count)
        var failure: Error?
        let lock = NSLock()
        let thr = options.thresholds[0]
        results.withUnsafeMutableBufferPointer { res in
            guard let base = res.baseAddress else { return }
            let out = SharedPointer(base: base)
            Threads.forEach(count: tiles.count) { ti in
                let t = tiles[ti], sz = sizes[t.scale], scale = scales[t.scale]
                do {
                    out.base[ti] = try runPNet(image, levelH: sz.h, levelW: sz.w, mapH: sz.mapH,
                                               rows: t.rows, scale: Float(scale), threshold: thr,
                                               level: t.scale, timings: timings)
                } catch {
                    lock.lock(); failure = error; lock.unlock()
                }
            }
        }
        if let failure { throw failure }
        // Gather per scale, in map order (row-major, as mask.nonzero()), then NMS per scale.
        var perScale = [[(tile: Int, rows: Int)]](repeating: [], count: scales.count)
        for (ti, t) in tiles.enumerated() { perScale[t.scale].append((ti, t.rows.lowerBound)) }
        let nms0 = timings.map { _ in Timings.threadCPU() } ?? 0
        var all: [Candidate] = []
        for list in perScale {
            var boxes: [Candidate] = []
            for (ti, _) in list.sorted(by: { $0.rows < $1.rows }) { boxes.append(contentsOf: results[ti]) }
            timings?.count(0, boxes.count)
            if boxes.count > options.maxCandidatesPerScale { boxes = Self.topScores(boxes, options.maxCandidatesPerScale) }
            let pick = BoxMath.nms(boxes, threshold: options.scaleNMS)
            all.append(contentsOf: pick.map { boxes[$0] })
        }
        let pick = BoxMath.nms(all, threshold: options.pnetNMS)
        var boxes = pick.map { all[$0] }
        if boxes.count > options.maxCandidatesPerStage { boxes = Array(boxes.prefix(options.maxCandidatesPerStage)) }
        for i in boxes.indices {
            BoxMath.regressStage1(&boxes[i])
            BoxMath.rerec(&boxes[i])
        }
        if let timings {
            timings.add(.pnetNMS, Timings.threadCPU() - nms0)
            timings.count(1, all.count)
            timings.count(2, boxes.count)
        }
        return boxes
    }

    static func topScores(_ c: [Candidate], _ k: Int) -> [Candidate] {
        let idx = c.indices.sorted { c[$0].score > c[$1].score }.prefix(k).sorted()
        return idx.map { c[$0] }
    }

    /// P-Net on output rows `rows` of one pyramid level: resamples just the input rows those
    /// need (2 * row .. 2 * row + 11) into reused scratch, runs the net, turns cells above
    /// threshold into boxes.
    func runPNet(_ image: IntegralImage, levelH: Int, levelW: Int, mapH: Int, rows: Range<Int>,
                 scale: Float, threshold: Float, level: Int = 0, timings: Timings? = nil) throws -> [Candidate] {
        let inLo = 2 * rows.lowerBound
        // The last band runs to the bottom so ceil-mode pooling sees the same partial window.
        let inHi = rows.upperBound == mapH ? levelH : min(levelH, 2 * (rows.upperBound - 1) + 12)
        let scratch = scratchPool.take()
        defer { scratchPool.give(scratch) }
        PNetScratch.grow(&scratch.input, 3 * (inHi - inLo) * levelW)
        timed(timings, .pyramid) {
            scratch.input.withUnsafeMutableBufferPointer { p in
                guard let base = p.baseAddress else { return }
                image.resample(x0: 0, y0: 0, w: image.width, h: image.height, outH: levelH, outW: levelW,
                               rows: inLo..<inHi, into: base)
            }
        }
        let c0 = timings.map { _ in Timings.threadCPU() } ?? 0
        let (oh, ow) = pnet.forwardInPlace(scratch, rows: inHi - inLo, cols: levelW)
        if let timings {
            let dt = Timings.threadCPU() - c0
            timings.add(.pnet, dt)
            timings.addScale(level, seconds: dt, cells: oh * ow)
        }
        return timed(timings, .pnetBoxes) { pnetBoxes(scratch, oh: oh, ow: ow, rows: rows, scale: scale, threshold: threshold) }
    }

    /// Cells of a P-Net map at or above the threshold, as stage-1 boxes.
    private func pnetBoxes(_ scratch: PNetScratch, oh: Int, ow: Int, rows: Range<Int>, scale: Float,
                           threshold: Float) -> [Candidate] {
        let plane = oh * ow
        // prob >= t exactly when logit1 - logit0 >= log(t / (1 - t)); the cheap test (with a margin
        // far above float error) skips the exponentials for nearly every cell.
        let gate: Float = threshold > 0 && threshold < 1 ? Foundation.log(threshold / (1 - threshold)) - 1e-3 : -.infinity
        var out: [Candidate] = []
        scratch.head.withUnsafeBufferPointer { p in
            for r in 0..<min(oh, rows.count) {
                for c in 0..<ow {
                    let k = r * ow + c
                    let a0 = p[k], a1 = p[plane + k]
                    guard a1 - a0 >= gate else { continue }
                    let prob = faceProbability(a0, a1)
                    guard prob >= threshold else { continue }
                    let bx = Float(c), by = Float(rows.lowerBound + r)
                    out.append(Candidate(
                        x1: ((2 * bx + 1) / scale).rounded(.down), y1: ((2 * by + 1) / scale).rounded(.down),
                        x2: ((2 * bx + 12) / scale).rounded(.down), y2: ((2 * by + 12) / scale).rounded(.down),
                        score: prob, reg: (p[2 * plane + k], p[3 * plane + k], p[4 * plane + k], p[5 * plane + k])))
                }
            }
        }
        return out
    }

    // MARK: - Stages 2 and 3: R-Net and O-Net on crops

    /// Crops (pad + skip empty), area-resamples each to the net's input size (channels-last) and
    /// runs the net. Crops go in small groups (activations of a group stay in the core's cache),
    /// groups spread over the cores. Returns the candidates that had a crop, with the network's
    /// raw output rows.
    private func runOnCrops(_ image: IntegralImage, _ boxes: [Candidate], net: CropNet, timings: Timings?,
                            _ sections: (crops: Timings.Section, net: Timings.Section)) -> (kept: [Candidate], out: [Float]) {
        var kept: [Candidate] = []
        var rects: [(x0: Int, y0: Int, x1: Int, y1: Int)] = []
        for b in boxes {
            if let r = BoxMath.cropRect(b, width: image.width, height: image.height) { kept.append(b); rects.append(r) }
        }
        let n = rects.count, size = net.size, outputs = net.outputs
        var result = [Float](repeating: 0, count: n * outputs)
        guard n > 0 else { return (kept, result) }
        // Features of every crop, for the dense tail run once over all of them (below).
        var features = [Float](repeating: 0, count: n * net.denseFloats)
        let featureCount = net.featureCount
        // About 1 MiB of activations per buffer, and at least one group per core.
        let cacheGroup = max(1, min(options.cropChunk, 262_144 / net.perCropFloats))
        let group = max(1, min(cacheGroup, (n + Threads.cores - 1) / Threads.cores))
        let groups = (n + group - 1) / group
        features.withUnsafeMutableBufferPointer { fp in
            guard let fb = fp.baseAddress else { return }
            let out = SharedPointer(base: fb)
            Threads.forEach(count: groups) { g in
                let lo = g * group, hi = min(n, lo + group)
                let scratch = scratchPool.take()
                defer { scratchPool.give(scratch) }
                PNetScratch.grow(&scratch.cropA, group * net.perCropFloats)
                PNetScratch.grow(&scratch.cropB, group * net.perCropFloats)
                scratch.cropA.withUnsafeMutableBufferPointer { ap in
                    scratch.cropB.withUnsafeMutableBufferPointer { bp in
                        guard let a = ap.baseAddress, let b = bp.baseAddress else { return }
                        timed(timings, sections.crops) {
                            for i in lo..<hi {
                                if i + 1 < hi {
                                    let nr = rects[i + 1]
                                    image.prefetch(x0: nr.x0, y0: nr.y0, w: nr.x1 - nr.x0, h: nr.y1 - nr.y0, outH: size)
                                }
                                let r = rects[i]
                                image.resampleInterleaved(x0: r.x0, y0: r.y0, w: r.x1 - r.x0, h: r.y1 - r.y0, outH: size, outW: size,
                                                          into: a + (i - lo) * 3 * size * size)
                            }
                        }
                        // A lone group splits its pixels over the cores instead (then the thread
                        // CPU timer sees only this thread's share).
                        timed(timings, sections.net) {
                            let f = net.runConvolutions(a, b, n: hi - lo, parallel: groups == 1)
                            (out.base + lo * featureCount).update(from: f, count: (hi - lo) * featureCount)
                        }
                    }
                }
            }
        }
        timed(timings, sections.net) {
            var y = [Float](repeating: 0, count: n * net.denseFloats)
            features.withUnsafeMutableBufferPointer { fp in
                y.withUnsafeMutableBufferPointer { yp in
                    result.withUnsafeMutableBufferPointer { rp in
                        guard let fb = fp.baseAddress, let yb = yp.baseAddress, let rb = rp.baseAddress else { return }
                        net.runDense(fb, yb, n: n, parallel: true, into: rb)
                    }
                }
            }
        }
        return (kept, result)
    }

    func stage2(_ image: IntegralImage, _ boxes: [Candidate], timings: Timings? = nil) throws -> [Candidate] {
        let (kept, out) = runOnCrops(image, boxes, net: rnet.net, timings: timings, (.rnetCrops, .rnetNet))
        let post0 = timings.map { _ in Timings.threadCPU() } ?? 0
        var passed: [Candidate] = []
        for (i, b) in kept.enumerated() {
            let o = out[(6 * i)..<(6 * i + 6)].map { $0 }
            let score = faceProbability(o[0], o[1])
            guard score > options.thresholds[1] else { continue }
            passed.append(Candidate(x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2, score: score, reg: (o[2], o[3], o[4], o[5])))
        }
        var result = BoxMath.nms(passed, threshold: options.rnetNMS).map { passed[$0] }
        if result.count > options.maxCandidatesPerStage { result = Array(result.prefix(options.maxCandidatesPerStage)) }
        for i in result.indices {
            BoxMath.bbreg(&result[i])
            BoxMath.rerec(&result[i])
        }
        if let timings {
            timings.add(.rnetPost, Timings.threadCPU() - post0)
            timings.count(3, passed.count)
            timings.count(4, result.count)
        }
        return result
    }

    func stage3(_ image: IntegralImage, _ boxes: [Candidate], timings: Timings? = nil) throws -> [Face] {
        let (kept, out) = runOnCrops(image, boxes, net: onet.net, timings: timings, (.onetCrops, .onetNet))
        let post0 = timings.map { _ in Timings.threadCPU() } ?? 0
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
        let pick = BoxMath.nmsMin(passed, threshold: options.finalNMS)
        if let timings {
            timings.add(.onetPost, Timings.threadCPU() - post0)
            timings.count(5, passed.count)
            timings.count(6, pick.count)
        }
        return pick.map { i in
            let c = passed[i]
            return Face(box: Box(x: c.x1, y: c.y1, width: c.x2 - c.x1, height: c.y2 - c.y1), score: c.score, landmarks: c.landmarks)
        }
    }
}

/// Sizes through P-Net: 3x3 conv, 2x2/2 ceil-mode pool, two 3x3 convs.
enum PNetGeometry {
    static func outputSize(_ n: Int) -> Int {
        let c1 = n - 2
        guard c1 >= 1 else { return 0 }
        let p = MaxPool2D(kernel: 2, stride: 2, ceilMode: true).outputSize(c1)
        return max(0, p - 4)
    }
}
