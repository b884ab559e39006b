import Capture
import NeuralNet
import Parallel

/// R-Net / O-Net as run on crops: channels-last layers (`ChannelsLastConv`, output channels in
/// the vector lanes) so that 24x24 and 48x48 maps keep the vectors full, applied to a small group
/// of crops at a time so each group's activations stay in the core's cache.
struct CropNet: Sendable {
    enum Op: Sendable {
        case conv(ChannelsLastConv)
        case pool(MaxPool2D)
        /// `[H][W][C]` read as one `[1][1][H*W*C]` feature vector (needs unpadded channels).
        case flatten
    }

    let ops: [Op]
    let size: Int
    /// Real outputs per crop (the last layer's unpadded channels).
    let outputs: Int
    /// Floats the largest activation of one crop takes.
    let perCropFloats: Int
    /// Where the dense tail starts (the op after `.flatten`; `ops.count` without one), the
    /// floats per crop entering it, and the widest activation inside it (padded).
    let denseStart: Int
    let featureCount: Int
    let denseFloats: Int

    init(ops: [Op], size: Int) throws {
        var h = size, w = size, c = 3, cs = 3, biggest = size * size * 3
        var denseStart = ops.count, featureCount = 0, denseFloats = 0
        for (i, op) in ops.enumerated() {
            switch op {
            case .conv(let k):
                guard k.inChannels <= cs, h >= k.kernelH, w >= k.kernelW else {
                    throw NeuralNetError.badInput(layer: "CropNet", shape: [h, w, cs], reason: "does not fit a \(k.kernelH)x\(k.kernelW) conv of \(k.inChannels) channels")
                }
                (h, w) = k.outputSize(height: h, width: w)
                c = k.outChannels; cs = k.paddedOut
            case .pool(let p):
                h = p.outputSize(h); w = p.outputSize(w)
            case .flatten:
                guard c == cs else {
                    throw NeuralNetError.badInput(layer: "CropNet", shape: [h, w, cs], reason: "flatten needs unpadded channels")
                }
                c = h * w * c; cs = c; h = 1; w = 1
                if denseStart == ops.count { denseStart = i + 1; featureCount = c }
            }
            biggest = max(biggest, h * w * cs)
            if i >= denseStart { denseFloats = max(denseFloats, h * w * cs) }
        }
        self.ops = ops
        self.size = size
        outputs = c
        perCropFloats = biggest
        self.denseStart = denseStart
        self.featureCount = denseStart == ops.count ? h * w * cs : featureCount
        self.denseFloats = max(denseFloats, self.featureCount)
    }

    /// Runs `n` crops `[n][size][size][3]` held in `a` (which is overwritten; `a` and `b` each
    /// hold n * perCropFloats floats) and writes `[n][outputs]` raw outputs to `out`.
    func run(_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>, n: Int, parallel: Bool,
             into out: UnsafeMutablePointer<Float>) {
        let features = runConvolutions(a, b, n: n, parallel: parallel)
        runDense(features, features == a ? b : a, n: n, parallel: parallel, into: out)
    }

    /// The layers up to the flattening on `n` crops in `a` (as `run`): returns `a` or `b`, whichever
    /// holds the `[n][featureCount]` features.
    func runConvolutions(_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>, n: Int, parallel: Bool)
        -> UnsafeMutablePointer<Float> {
        var src = a, dst = b
        var h = size, w = size, cs = 3
        var i = ops.startIndex
        while i < denseStart {
            let op = ops[i]
            i += 1
            switch op {
            case .conv(let k):
                // conv1 + its pool in one pass where the kernel can (R-Net's and O-Net's first pair).
                if i < denseStart, case .pool(let p) = ops[i], k.canRunPooled(p, height: h, width: w, channelStride: cs) {
                    k.forwardPooled(src, images: n, height: h, width: w, channelStride: cs, pool: p, into: dst, parallel: parallel)
                    (h, w) = k.outputSize(height: h, width: w)
                    h = p.outputSize(h); w = p.outputSize(w)
                    i += 1
                } else {
                    k.forward(src, images: n, height: h, width: w, channelStride: cs, into: dst, parallel: parallel)
                    (h, w) = k.outputSize(height: h, width: w)
                }
                cs = k.paddedOut
                swap(&src, &dst)
            case .pool(let p):
                p.forwardChannelsLast(src, images: n, height: h, width: w, channels: cs, into: dst)
                h = p.outputSize(h); w = p.outputSize(w)
                swap(&src, &dst)
            case .flatten:
                cs = h * w * cs; h = 1; w = 1
            }
        }
        return src
    }

    /// The dense tail on `n` feature rows `[n][featureCount]` in `x` (overwritten; `x` and `y` each
    /// hold n * denseFloats floats); writes `[n][outputs]` to `out`. Run over all of a frame's
    /// crops at once, so each dense layer's weights (1.2 MB for O-Net's first) are read once per
    /// frame instead of once per small cache-sized group.
    func runDense(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int, parallel: Bool,
                  into out: UnsafeMutablePointer<Float>) {
        var src = x, dst = y, cs = featureCount
        for op in ops[denseStart...] {
            guard case .conv(let k) = op else { continue }
            k.forward(src, images: n, height: 1, width: 1, channelStride: cs, into: dst, parallel: parallel)
            cs = k.paddedOut
            swap(&src, &dst)
        }
        for i in 0..<n {
            for j in 0..<outputs { out[i * outputs + j] = src[i * cs + j] }
        }
    }

    /// Runs an NCHW batch `[n, 3, size, size]` (tests, and `RNet.forward`): `[n, outputs]`.
    func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4, x.shape[1] == 3, x.shape[2] == size, x.shape[3] == size else {
            throw NeuralNetError.badInput(layer: "CropNet", shape: x.shape, reason: "expects [N, 3, \(size), \(size)]")
        }
        let n = x.shape[0], plane = size * size
        var a = [Float](repeating: 0, count: max(1, n * perCropFloats))
        var b = a
        var out = [Float](repeating: 0, count: n * outputs)
        x.storage.withUnsafeBufferPointer { xs in
            for i in 0..<n { for p in 0..<plane { for c in 0..<3 { a[(i * plane + p) * 3 + c] = xs[(i * 3 + c) * plane + p] } } }
        }
        a.withUnsafeMutableBufferPointer { ap in
            b.withUnsafeMutableBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { op in
                    guard let ab = ap.baseAddress, let bb = bp.baseAddress, let ob = op.baseAddress else { return }
                    run(ab, bb, n: n, parallel: true, into: ob)
                }
            }
        }
        return try Tensor(shape: [n, outputs], storage: out)
    }
}

extension CropNet {
    /// How crops are run: at most `chunk` per group, scratch from the detector's pool.
    struct RunOptions {
        let chunk: Int
        let scratchPool: ScratchPool
    }

    /// Stages 2 and 3: crops each box (`pad`, skipping empty ones), area-resamples it to the
    /// net's input size (channels-last) and runs the net. Crops go in small groups whose
    /// activations stay in the core's cache, groups spread over the cores, then the dense tail
    /// runs once over all crops. Returns the boxes that had a crop, with the network's raw
    /// output rows (`outputs` floats each).
    func run(on boxes: [Candidate], in frame: Frame, options: RunOptions,
             observer: (any CascadeObserver)?, steps: (crops: CascadeStep, net: CascadeStep)) -> (kept: [Candidate], out: [Float]) {
        var kept: [Candidate] = []
        var rects: [(x0: Int, y0: Int, x1: Int, y1: Int)] = []
        for b in boxes {
            if let r = BoxMath.cropRect(b, width: frame.width, height: frame.height) { kept.append(b); rects.append(r) }
        }
        let n = rects.count
        guard n > 0 else { return (kept, []) }
        // Crops run top to bottom, so that the next crop (boxes overlap a lot) finds most of
        // its rows of the frame in the cache; their features go back to the boxes' order.
        let order = rects.indices.sorted { (rects[$0].y0, rects[$0].x0, $0) < (rects[$1].y0, rects[$1].x0, $1) }
        // About 1 MiB of activations per buffer, and at least one group per core.
        let cacheGroup = max(1, min(options.chunk, 262_144 / perCropFloats))
        let group = max(1, min(cacheGroup, (n + Threads.cores - 1) / Threads.cores))
        let groups = (n + group - 1) / group
        // Features of every crop, for the dense tail.
        let features = ScratchBuffer(), denseScratch = ScratchBuffer()
        let featureRows = SharedPointer(base: features.reserve(n * denseFloats))
        Threads.forEach(count: groups) { g in
            let lo = g * group, hi = min(n, lo + group)
            let scratch = options.scratchPool.take()
            defer { options.scratchPool.give(scratch) }
            let a = scratch.cropA.reserve(group * perCropFloats), b = scratch.cropB.reserve(group * perCropFloats)
            observer.measure(steps.crops) {
                for i in lo..<hi {
                    let r = rects[order[i]]
                    AreaResampling.crop(frame, x0: r.x0, y0: r.y0, w: r.x1 - r.x0, h: r.y1 - r.y0, outH: size, outW: size,
                                        into: a + (i - lo) * 3 * size * size)
                }
            }
            // A lone group splits its pixels over the cores instead (then a thread CPU clock
            // sees only this thread's share).
            observer.measure(steps.net) {
                let f = runConvolutions(a, b, n: hi - lo, parallel: groups == 1)
                // Each crop's features at its box's row, so the outputs come in the boxes' order.
                for i in lo..<hi {
                    (featureRows.base + order[i] * featureCount).update(from: f + (i - lo) * featureCount, count: featureCount)
                }
            }
        }
        var out = [Float](repeating: 0, count: n * outputs)
        observer.measure(steps.net) {
            out.withUnsafeMutableBufferPointer { o in
                guard let o = o.baseAddress else { return }
                runDense(features.pointer, denseScratch.reserve(n * denseFloats), n: n, parallel: true, into: o)
            }
        }
        return (kept, out)
    }
}

/// Reorders a dense layer's columns trained on PyTorch's `x.permute(0, 3, 2, 1).flatten(1)` of a
/// `[N, C, H, W]` map ((W, H, C) order) to channels-last flattening ((H, W, C) order).
func columnsToHWC(_ w: Tensor, c: Int, h: Int, wd: Int) throws -> Tensor {
    let out = w.shape[0], inF = c * h * wd
    var r = [Float](repeating: 0, count: out * inF)
    for o in 0..<out {
        for ci in 0..<c { for hi in 0..<h { for wi in 0..<wd {
            r[o * inF + (hi * wd + wi) * c + ci] = w.storage[o * inF + (wi * h + hi) * c + ci]
        }}}
    }
    return try Tensor(shape: w.shape, storage: r)
}
