import CKernels
import Foundation
import Parallel

/// A chain of layers (convolutions, max pooling, global average pooling, flatten, dense layers,
/// softmax) run channels-last from the first layer to the last, for batches of small images
/// (the emotion classifier's 48x48 faces).
///
/// Why not layer by layer in NCHW (`Sequential`): at 48x48 and below, im2col copies, padded
/// copies, separate bias/ReLU/pool passes and a barrier per layer cost more than the
/// multiply-adds (fernet: sgemm was a third of the time). Here every map is `[rows][cols][C]`
/// with the zero border its reader's padding needs built into the layout, each convolution
/// writes straight into the interior of the next map (a following 2x2 max pooling fused in), and
/// each core takes a contiguous slice of the batch and runs it through the whole network,
/// a few images at a time so the maps stay in cache.
public struct ChannelsLastNetwork: Sendable {
    /// One layer of the chain, in execution order.
    public enum Op: Sendable {
        case conv(Conv2D)
        case maxPool(MaxPool2D)
        case globalAveragePool
        case flatten
        case linear(Linear)
        case activation(Activation)
        case softmax
    }

    /// A map as stored: `rows x cols` values of `stride` floats (channels `0..<channels` real,
    /// the rest zero), inside a zero border of `pad` pixels.
    struct Map: Equatable {
        var rows: Int, cols: Int, channels: Int, stride: Int, pad: Int
        var paddedRows: Int { rows + 2 * pad }
        var paddedCols: Int { cols + 2 * pad }
        var floats: Int { paddedRows * paddedCols * stride }
    }

    struct PackedConv {
        let cin: Int, coutp: Int, kh: Int, kw: Int
        /// `[kh][kw][cin][coutp]`.
        let weights: [Float]
        let bias: [Float]
        let slopes: [Float]
        let act: Int32
        let pool: Bool
    }

    /// A 3x3 pad-1 convolution in Winograd F(2x2, 3x3) form.
    struct WinogradConv {
        let cs: Int, coutp: Int
        /// `[16][cs][coutp]`: G g G^T per (input, output) channel pair.
        let u: [Float]
        let bias: [Float]
        let slopes: [Float]
        let act: Int32
        let pool: Bool
    }

    enum Spatial {
        case conv(PackedConv)
        case winograd(WinogradConv)
        case pool(kernel: Int, stride: Int)
    }

    /// Most Winograd tiles transformed and multiplied at a time (V and M stay in L2); a multiple of 8.
    /// Each chunk streams all of the layer's U (fernet's last 6x6 layer: 2.4 MB), so 72 = the tiles
    /// of that layer for a group of 8 images.
    public var winogradChunk = 72 {
        didSet { winogradChunk = max(8, (winogradChunk + 7) / 8 * 8) }
    }

    struct Dense {
        let inStride: Int, out: Int
        /// `[out][inStride]`, columns in the order the features are stored.
        let weights: [Float]
        let bias: [Float]
        let activation: Activation
    }

    enum Tail {
        case globalAveragePool
        case dense(Dense)
        case activation(Activation)
        case softmax
    }

    let input: (channels: Int, height: Int, width: Int)
    /// `maps[0]` is the input, `maps[i + 1]` the output of `spatial[i]`.
    let maps: [Map]
    let spatial: [Spatial]
    let tail: [Tail]
    /// Floats per image of the feature vector after each tail step (`featureStrides[0]`: the flattened last map).
    let featureStrides: [Int]
    public let outputs: Int
    /// Images per group on one core (maps of a group stay in L2).
    public var groupSize = 8

    /// Compiles `ops` for `[channels, height, width]` images. Throws `NeuralNetError.badInput`
    /// naming the first op it cannot run (strided or non-square-padded convolution, padded
    /// pooling, a spatial op after the flatten, activation on a map).
    ///
    /// With `winograd`, 3x3 pad-1 convolutions on maps of even size whose input has a multiple
    /// of 16 channels (in storage) run as Winograd F(2x2, 3x3): 2.25x fewer multiply-adds.
    public init(input shape: [Int], ops: [Op], winograd: Bool = true) throws {
        guard shape.count == 3, shape.allSatisfy({ $0 > 0 }) else {
            throw NeuralNetError.badInput(layer: "ChannelsLastNetwork", shape: shape, reason: "input must be [C, H, W]")
        }
        input = (shape[0], shape[1], shape[2])
        var maps = [Map(rows: shape[1], cols: shape[2], channels: shape[0], stride: shape[0], pad: 0)]
        var spatial: [Spatial] = []
        var i = 0
        func fail(_ reason: String) -> NeuralNetError {
            .badInput(layer: "ChannelsLastNetwork op \(i)", shape: [maps[maps.count - 1].channels, maps[maps.count - 1].rows,
                                                                  maps[maps.count - 1].cols], reason: reason)
        }
        // Spatial part.
        spatialLoop: while i < ops.count {
            let x = maps[maps.count - 1]
            switch ops[i] {
            case .conv(let c):
                guard c.strideH == 1, c.strideW == 1 else { throw fail("strided convolution") }
                guard c.padH == c.padW else { throw fail("padding differs between height and width") }
                guard c.inChannels == x.channels else { throw fail("conv expects \(c.inChannels) channels") }
                guard c.kernelH * c.kernelW <= 64 else { throw fail("kernel area over 64") }
                maps[maps.count - 1].pad = c.padH
                let oh = x.rows + 2 * c.padH - c.kernelH + 1, ow = x.cols + 2 * c.padW - c.kernelW + 1
                guard oh > 0, ow > 0 else { throw fail("map smaller than the kernel") }
                // A following 2x2 / 2 max pooling is fused when it drops no window (floor mode,
                // or even sizes in ceil mode).
                var pool = false
                if i + 1 < ops.count, case .maxPool(let m) = ops[i + 1], m.kernel == 2, m.stride == 2, m.padding == 0,
                   oh >= 2, ow >= 2, m.outputSize(oh) == oh / 2, m.outputSize(ow) == ow / 2 {
                    pool = true
                }
                let coutp = ChannelsLastConv.padded(c.outChannels)
                if winograd && c.kernelH == 3 && c.kernelW == 3 && c.padH == 1 && x.stride % 16 == 0 && oh % 2 == 0 && ow % 2 == 0 {
                    spatial.append(.winograd(Self.winograd(c, cs: x.stride, coutp: coutp, pool: pool)))
                } else {
                    spatial.append(.conv(Self.pack(c, coutp: coutp, pool: pool)))
                }
                maps.append(Map(rows: pool ? oh / 2 : oh, cols: pool ? ow / 2 : ow, channels: c.outChannels, stride: coutp, pad: 0))
                i += pool ? 2 : 1
            case .maxPool(let m):
                guard m.padding == 0 else { throw fail("padded max pooling") }
                let oh = m.outputSize(x.rows), ow = m.outputSize(x.cols)
                guard oh > 0, ow > 0 else { throw fail("map smaller than the pooling window") }
                spatial.append(.pool(kernel: m.kernel, stride: m.stride))
                maps.append(Map(rows: oh, cols: ow, channels: x.channels, stride: x.stride, pad: 0))
                i += 1
            default:
                break spatialLoop
            }
        }
        // Tail: vectors. The stored features of the last map are [rows][cols][stride];
        // `column[j]` is where logical (NCHW-flattened) feature j is stored.
        let last = maps[maps.count - 1]
        var column: [Int] = []
        for c in 0..<last.channels { for y in 0..<last.rows { for xx in 0..<last.cols {
            column.append((y * last.cols + xx) * last.stride + c)
        }}}
        var stride = last.rows * last.cols * last.stride
        var strides = [stride]
        var tail: [Tail] = []
        var pooled = false
        while i < ops.count {
            switch ops[i] {
            case .conv, .maxPool:
                throw fail("spatial op after the maps were flattened")
            case .globalAveragePool:
                guard !pooled, tail.isEmpty else { throw fail("global average pooling after the maps were flattened") }
                pooled = true
                tail.append(.globalAveragePool)
                column = Array(0..<last.channels)
                stride = last.stride
            case .flatten:
                break
            case .linear(let l):
                guard l.inFeatures == column.count else { throw fail("linear expects \(l.inFeatures) features, gets \(column.count)") }
                var w = [Float](repeating: 0, count: l.outFeatures * stride)
                for o in 0..<l.outFeatures { for j in 0..<l.inFeatures { w[o * stride + column[j]] = l.weight[o * l.inFeatures + j] } }
                tail.append(.dense(Dense(inStride: stride, out: l.outFeatures, weights: w, bias: l.bias, activation: l.activation)))
                column = Array(0..<l.outFeatures)
                stride = l.outFeatures
            case .activation(let a):
                guard !tail.isEmpty else { throw fail("activation on a map (fuse it into the convolution)") }
                if case .prelu(let s) = a, s.count != 1, s.count != column.count { throw fail("PReLU has \(s.count) slopes") }
                tail.append(.activation(a))
            case .softmax:
                guard stride == column.count else { throw fail("softmax over \(column.count) features stored \(stride) apart") }
                tail.append(.softmax)
            }
            if tail.count == strides.count { strides.append(stride) }  // flatten adds no step
            i += 1
        }
        // The output must be dense features in logical order.
        guard column == Array(0..<column.count) else {
            throw NeuralNetError.badInput(layer: "ChannelsLastNetwork", shape: shape, reason: "the chain does not end in a vector")
        }
        self.maps = maps
        self.spatial = spatial
        self.tail = tail
        self.featureStrides = strides
        self.outputs = column.count
    }

    /// U = G g G^T for every (input, output) channel pair, G = [[1, 0, 0], [1/2, 1/2, 1/2],
    /// [1/2, -1/2, 1/2], [0, 0, 1]] (computed in Double).
    static func winograd(_ c: Conv2D, cs: Int, coutp: Int, pool: Bool) -> WinogradConv {
        let g: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
        let cin = c.inChannels
        var u = [Float](repeating: 0, count: 16 * cs * coutp)
        for o in 0..<c.outChannels {
            for ci in 0..<cin {
                let k = (0..<9).map { Double(c.weight[(o * cin + ci) * 9 + $0]) }
                // t = G k (4x3), then t G^T (4x4).
                var t = [[Double]](repeating: [0, 0, 0], count: 4)
                for i in 0..<4 { for j in 0..<3 { for r in 0..<3 { t[i][j] += g[i][r] * k[r * 3 + j] } } }
                for i in 0..<4 {
                    for j in 0..<4 {
                        var v = 0.0
                        for r in 0..<3 { v += t[i][r] * g[j][r] }
                        u[((i * 4 + j) * cs + ci) * coutp + o] = Float(v)
                    }
                }
            }
        }
        let p = pack(c, coutp: 16, pool: pool, weights: false)
        var b = [Float](repeating: 0, count: coutp), s = [Float](repeating: 0, count: coutp)
        b.replaceSubrange(0..<c.outChannels, with: c.bias)
        if case .prelu(let sl) = c.activation { for o in 0..<c.outChannels { s[o] = sl.count == 1 ? sl[0] : sl[o] } }
        return WinogradConv(cs: cs, coutp: coutp, u: u, bias: b, slopes: s, act: p.act, pool: pool)
    }

    private static func pack(_ c: Conv2D, coutp: Int, pool: Bool, weights: Bool = true) -> PackedConv {
        let cin = c.inChannels, kh = c.kernelH, kw = c.kernelW
        var p = [Float](repeating: 0, count: weights ? kh * kw * cin * coutp : 0)
        for o in 0..<c.outChannels where weights {
            for ci in 0..<cin { for y in 0..<kh { for x in 0..<kw {
                p[((y * kw + x) * cin + ci) * coutp + o] = c.weight[((o * cin + ci) * kh + y) * kw + x]
            }}}
        }
        var b = [Float](repeating: 0, count: coutp)
        var s = [Float](repeating: 0, count: coutp)
        if weights { b.replaceSubrange(0..<c.outChannels, with: c.bias) }
        let act: Int32
        switch c.activation {
        case .none: act = Int32(NN_ACT_NONE)
        case .relu: act = Int32(NN_ACT_RELU)
        case .prelu(let sl):
            act = Int32(NN_ACT_PRELU)
            for o in 0..<c.outChannels where weights { s[o] = sl.count == 1 ? sl[0] : sl[o] }
        }
        return PackedConv(cin: cin, coutp: coutp, kh: kh, kw: kw, weights: p, bias: b, slopes: s, act: act, pool: pool)
    }

    /// Number of convolutions with their max pooling fused (for tests).
    public var fusedPools: Int {
        spatial.reduce(0) { n, s in
            switch s {
            case .conv(let c): return c.pool ? n + 1 : n
            case .winograd(let c): return c.pool ? n + 1 : n
            case .pool: return n
            }
        }
    }

    /// Number of convolutions run as Winograd F(2x2, 3x3) (for tests).
    public var winogradConvs: Int {
        spatial.reduce(0) { n, s in if case .winograd = s { return n + 1 }; return n }
    }

    // MARK: running

    /// `[N, C, H, W]` to `[N, outputs]`.
    public func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4, x.shape[1] == input.channels, x.shape[2] == input.height, x.shape[3] == input.width else {
            throw NeuralNetError.badInput(layer: "ChannelsLastNetwork", shape: x.shape,
                                          reason: "expects [N, \(input.channels), \(input.height), \(input.width)]")
        }
        _ = BLASSetup.configure
        let n = x.shape[0]
        var out = [Float](repeating: 0, count: n * outputs)
        guard n > 0 else { return Tensor(unchecked: [0, outputs], out) }
        let perImage = input.channels * input.height * input.width
        x.storage.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                let sp = SendableBox(s), dp = SharedPointer(base: d)
                if n == 1 {
                    // One image: the direct convolutions' pixels are spread over the cores instead.
                    let parts = Threads.cores
                    withScratch(group: n) { scratch, layout in
                        runGroup(sp.value, count: n, scratch: scratch, layout: layout, into: dp.base, parts: parts)
                    }
                    return
                }
                // Groups of images handed out one at a time to one worker per core: a core that
                // the machine's other work slows down just takes fewer groups (a fixed split left
                // the faster core idle at the end of every batch).
                let g = max(1, min(groupSize, (n + Threads.cores - 1) / Threads.cores))
                let groups = (n + g - 1) / g
                let next = WorkCounter()
                Threads.forEach(count: min(Threads.cores, groups)) { _ in
                    withScratch(group: g) { scratch, layout in
                        while let k = next.take(below: groups) {
                            let start = k * g, count = min(g, n - start)
                            runGroup(sp.value + start * perImage, count: count, scratch: scratch, layout: layout,
                                     into: dp.base + start * outputs, parts: 1)
                        }
                    }
                }
            }
        }
        return Tensor(unchecked: [n, outputs], out)
    }

    /// Where each buffer of a worker's scratch starts (floats).
    struct ScratchLayout {
        /// One per map, then two feature buffers.
        var maps: [Int] = []
        var features: (Int, Int) = (0, 0)
        /// Winograd V and M planes.
        var v = 0, m = 0
        /// A row of zeros (the Winograd products' bias).
        var zeros = 0
        var total = 0
    }

    /// Runs `body` with one zeroed allocation holding every buffer for `group` images (map
    /// borders are never written, so they stay 0 from group to group).
    private func withScratch(group g: Int, _ body: (UnsafeMutablePointer<Float>, ScratchLayout) -> Void) {
        var l = ScratchLayout()
        func take(_ n: Int) -> Int { defer { l.total += n + 16 }; return l.total }
        for m in maps { l.maps.append(take(g * m.floats)) }
        let featureFloats = g * (featureStrides.max() ?? 1)
        l.features = (take(featureFloats), take(featureFloats))
        var vFloats = 0, mFloats = 0, zeros = 0
        for case .winograd(let c) in spatial {
            vFloats = max(vFloats, 16 * winogradChunk * c.cs)
            mFloats = max(mFloats, 16 * winogradChunk * c.coutp)
            zeros = max(zeros, c.coutp)
        }
        l.v = take(vFloats)
        l.m = take(mFloats)
        l.zeros = take(zeros)
        var scratch = [Float](repeating: 0, count: l.total)
        scratch.withUnsafeMutableBufferPointer { sb in
            guard let base = sb.baseAddress else { return }
            body(base, l)
        }
    }

    /// `g` images through the chain; with `parts` > 1 each large direct convolution is split into
    /// pixel ranges run in parallel.
    private func runGroup(_ x: UnsafePointer<Float>, count g: Int, scratch: UnsafeMutablePointer<Float>, layout: ScratchLayout,
                          into y: UnsafeMutablePointer<Float>, parts: Int) {
        let parallelPixels = parts > 1
        // NCHW input into the first map's interior.
        let m0 = maps[0], c0 = input.channels, h0 = input.height, w0 = input.width
        let in0 = scratch + layout.maps[0]
        for b in 0..<g {
            let img = x + b * c0 * h0 * w0, dst = in0 + b * m0.floats
            for c in 0..<c0 {
                for r in 0..<h0 {
                    let row = img + (c * h0 + r) * w0
                    let d = dst + ((r + m0.pad) * m0.paddedCols + m0.pad) * m0.stride + c
                    for col in 0..<w0 { d[col * m0.stride] = row[col] }
                }
            }
        }
        for (i, stage) in spatial.enumerated() {
            let a = maps[i], b = maps[i + 1]
            let src = scratch + layout.maps[i], dst = scratch + layout.maps[i + 1]
            switch stage {
            case .conv(let c):
                let positions = g * b.rows * b.cols
                c.weights.withUnsafeBufferPointer { wb in
                    c.bias.withUnsafeBufferPointer { bb in
                        c.slopes.withUnsafeBufferPointer { slb in
                            guard let wp = wb.baseAddress, let bp = bb.baseAddress, let sp = slb.baseAddress else { return }
                            let body = { (r: Range<Int>) in
                                fercls_conv_nhwc(src, a.floats, Int32(a.paddedRows), Int32(a.paddedCols), Int32(a.stride), Int32(c.cin),
                                                 wp, bp, sp, Int32(c.coutp), Int32(c.kh), Int32(c.kw), c.act,
                                                 dst, b.floats, Int32(b.paddedCols), Int32(b.pad), c.pool ? 1 : 0,
                                                 r.lowerBound, r.upperBound)
                            }
                            // A thread hop costs tens of microseconds: split only a few million MACs.
                            let macs = positions * (c.pool ? 4 : 1) * c.kh * c.kw * c.cin * c.coutp
                            if parallelPixels && macs >= 2_000_000 {
                                let box = SendableBox(body)
                                Threads.forEachChunk(count: positions, minChunk: 8) { box.value($0) }
                            } else {
                                body(0..<positions)
                            }
                        }
                    }
                }
            case .winograd(let c):
                // Not split over the cores for one image: measured slower (per image and per
                // CPU-second) than one core doing all the tiles with U streamed once.
                let z = scratch + layout.zeros, tiles = g * (a.paddedRows - 2) * (a.paddedCols - 2) / 4
                let v = scratch + layout.v, m = scratch + layout.m
                c.u.withUnsafeBufferPointer { ub in
                    c.bias.withUnsafeBufferPointer { bb in
                        c.slopes.withUnsafeBufferPointer { slb in
                            guard let up = ub.baseAddress, let bp = bb.baseAddress, let sp = slb.baseAddress else { return }
                            fercls_winograd3x3(src, a.floats, Int32(a.paddedRows), Int32(a.paddedCols), Int32(c.cs), up, bp, sp,
                                               Int32(c.coutp), c.act, dst, b.floats, Int32(b.paddedCols), Int32(b.pad),
                                               c.pool ? 1 : 0, g, v, m, Int32(winogradChunk), z, 0, tiles)
                        }
                    }
                }
            case let .pool(k, s):
                fercls_maxpool_nhwc(src, a.floats, Int32(a.rows), Int32(a.cols), Int32(a.stride), Int32(k), Int32(s),
                                    Int32(b.rows), Int32(b.cols), dst, b.floats, Int32(b.paddedCols), Int32(b.pad), g)
            }
        }
        // Vectors: ping-pong between two feature buffers, starting from the last map.
        let last = maps[maps.count - 1]
        var cur = scratch + layout.maps[maps.count - 1]
        var curStride = last.floats
        var spare = scratch + layout.features.0, other = scratch + layout.features.1
        for (j, step) in tail.enumerated() {
            let stride = featureStrides[j + 1]
            switch step {
            case .globalAveragePool:
                fercls_global_avg_nhwc(cur, last.floats, Int32(last.rows * last.cols), Int32(last.stride), spare, g)
                cur = spare; swap(&spare, &other)
            case .dense(let d):
                d.weights.withUnsafeBufferPointer { wb in
                    guard let wp = wb.baseAddress else { return }
                    for b in 0..<g { (spare + b * d.out).update(from: d.bias, count: d.out) }
                    sgemm(m: g, n: d.out, k: d.inStride, a: cur, lda: curStride, b: wp, ldb: d.inStride, transB: true,
                          c: spare, ldc: d.out, accumulate: true)
                }
                Self.activate(spare, count: g, width: d.out, d.activation)
                cur = spare; swap(&spare, &other)
            case .activation(let a):
                Self.activate(cur, count: g, width: stride, a)
            case .softmax:
                for b in 0..<g {
                    let row = cur + b * stride
                    var m = -Float.infinity
                    for k in 0..<stride { m = max(m, row[k]) }
                    var sum: Float = 0
                    for k in 0..<stride { row[k] = (row[k] - m).exp; sum += row[k] }
                    for k in 0..<stride { row[k] /= sum }
                }
            }
            curStride = stride
        }
        // With no dense layer the last map itself is the output (a 1x1 map, or GAP features).
        for b in 0..<g { (y + b * outputs).update(from: cur + b * curStride, count: outputs) }
    }

    private static func activate(_ p: UnsafeMutablePointer<Float>, count: Int, width: Int, _ a: Activation) {
        switch a {
        case .none: return
        case .relu:
            for i in 0..<(count * width) where p[i] < 0 { p[i] = 0 }
        case .prelu(let s):
            for b in 0..<count {
                for k in 0..<width where p[b * width + k] < 0 { p[b * width + k] *= s[s.count == 1 ? 0 : k] }
            }
        }
    }
}

/// Hands out 0, 1, 2, ... to workers, once each.
private final class WorkCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0

    func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < limit else { return nil }
        next += 1
        return next - 1
    }
}
