import CKernels
import Parallel

/// A stride-1 unpadded convolution (or a dense layer, as a 1x1 convolution) over channels-last
/// (`[N, H, W, C]`) batches, computed by the CKernels kernel that puts output channels in the
/// vector lanes. Made for many small maps (MTCNN's 24x24 and 48x48 crops), where the planar
/// kernel wastes most of each vector on 3- to 22-pixel rows.
///
/// Output channels are padded to a multiple of 16 (`paddedOut`) with zero weights and bias, so
/// the padding lanes hold zeros after any activation; the next layer reads them as its channel
/// stride and ignores them.
public struct ChannelsLastConv: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let paddedOut: Int
    public let kernelH: Int, kernelW: Int
    /// `[kh][kw][in][paddedOut]`.
    let packed: [Float]
    let bias: [Float]
    let slopes: [Float]
    let act: Int32
    /// Winograd weights when built with `winograd: true`: F(2x2, 3x3) `[16][in][paddedOut]`
    /// (`nn_wino3x3_nhwc`), with `outputTile: 3` F(3x3, 3x3) `[25][in][paddedOut]`
    /// (`nn_winof3_nhwc`), with `outputTile: 4` F(4x4, 3x3) `[36][in][paddedOut]`
    /// (`nn_wino4x4_nhwc`); empty otherwise.
    let winogradPacked: [Float]
    /// 2, 3 or 4: the Winograd output tile's side.
    let winogradTile: Int
    /// Weights of the row Winograd kernel (`nn_rowwino_nhwc`), cache-line aligned, when built with
    /// `rowWinograd: true`.
    let rowWinogradPacked: AlignedFloats?
    /// A fused 1x1 head (`forwardHead`): weights `[6][paddedOut]` and bias `[6]`; empty without one.
    let headWeight: [Float]
    let headBias: [Float]

    /// Output channel count rounded up to whole 16-lane vectors.
    public static func padded(_ n: Int) -> Int { (n + 15) / 16 * 16 }

    /// `winograd`: run as Winograd F(2x2, 3x3) (`nn_wino3x3_nhwc`; 3x3 kernels, at most 64 input
    /// and output channels) when the input's channel stride covers the input channels
    /// rounded up to 16; results within float rounding of the direct kernel, about 1.7-2x faster
    /// on O-Net's conv2 and conv3. `outputTile: 4` makes it F(4x4, 3x3) (`nn_wino4x4_nhwc`,
    /// 2.25 products per output instead of 4) on maps of at least 6x6; smaller ones run direct.
    /// `outputTile: 3` is F(3x3, 3x3) (`nn_winof3_nhwc`, 2.78 per output), for maps whose side
    /// is a multiple of 3 but not of 4 (R-Net's 9x9 conv2), where F(4x4) computes outputs it drops.
    ///
    /// `head`: a 1x1 convolution of this layer's activations to 6 outputs without activation
    /// (P-Net's two heads), run per tile inside the F(4x4) kernel by `forwardHead` so this layer's
    /// own map is never stored. Needs `winograd: true, outputTile: 4`.
    ///
    /// `rowWinograd`: a 3x3 convolution of 3 input channels (R-Net's and O-Net's conv1 on RGB
    /// crops) by Winograd F(4, 3) along the rows only (`nn_rowwino_nhwc`), where the 2-D
    /// transforms would cost more than they save: 1.4x the direct kernel on 24x24 crops and
    /// 1.6-1.7x on 48x48 with AVX-512 (`tools/bench_crop_conv1.c`). Maps of an odd output width
    /// or wider than `NN_ROWWINO_MAXW` run direct. Results within float rounding of the direct kernel.
    public init(_ conv: Conv2D, winograd: Bool = false, outputTile: Int = 2, head: Conv2D? = nil, rowWinograd: Bool = false) throws {
        guard conv.strideH == 1, conv.strideW == 1, conv.padH == 0, conv.padW == 0, conv.kernelH * conv.kernelW <= 64 else {
            throw NeuralNetError.badInput(layer: "ChannelsLastConv", shape: [conv.outChannels, conv.inChannels, conv.kernelH, conv.kernelW],
                                          reason: "needs stride 1, no padding, kernel area <= 64")
        }
        let cin = conv.inChannels, cout = conv.outChannels, kh = conv.kernelH, kw = conv.kernelW
        let cp = Self.padded(cout)
        var p = [Float](repeating: 0, count: kh * kw * cin * cp)
        for o in 0..<cout {
            for c in 0..<cin { for y in 0..<kh { for x in 0..<kw {
                p[((y * kw + x) * cin + c) * cp + o] = conv.weight[((o * cin + c) * kh + y) * kw + x]
            }}}
        }
        var u: [Float] = []
        if winograd {
            // Input channels rounded up to whole vectors with zero weights: the kernel reads the
            // padding lanes of the input's channel stride, which then cannot change the result.
            let cinP = Self.padded(cin)
            guard kh == 3, kw == 3, cinP <= 64, cp <= 64, (2...4).contains(outputTile) else {
                throw NeuralNetError.badInput(layer: "ChannelsLastConv", shape: [cout, cin, kh, kw],
                                              reason: "Winograd needs a 3x3 kernel, at most 64 input and output channels, output tile 2, 3 or 4")
            }
            var wpad = [Float](repeating: 0, count: cout * cinP * 9)
            for o in 0..<cout { for c in 0..<cin { for k in 0..<9 { wpad[(o * cinP + c) * 9 + k] = conv.weight[(o * cin + c) * 9 + k] } } }
            let count = switch outputTile {
            case 4: nn_wino4x4_nhwc_packed_size(Int32(cinP), Int32(cp))
            case 3: nn_winof3_nhwc_packed_size(Int32(cinP), Int32(cp))
            default: nn_wino3x3_nhwc_packed_size(Int32(cinP), Int32(cp))
            }
            u = [Float](repeating: 0, count: count)
            wpad.withUnsafeBufferPointer { w in
                u.withUnsafeMutableBufferPointer { ub in
                    guard let wp = w.baseAddress, let up = ub.baseAddress else { return }
                    switch outputTile {
                    case 4: nn_wino4x4_pack_nhwc(wp, Int32(cinP), Int32(cout), Int32(cp), up)
                    case 3: nn_winof3_pack_nhwc(wp, Int32(cinP), Int32(cout), Int32(cp), up)
                    default: nn_wino3x3_pack_nhwc(wp, Int32(cinP), Int32(cout), Int32(cp), up)
                    }
                }
            }
        }
        var rows: AlignedFloats?
        if rowWinograd {
            guard !winograd, cin == 3, kh == 3, kw == 3 else {
                throw NeuralNetError.badInput(layer: "ChannelsLastConv", shape: [cout, cin, kh, kw],
                                              reason: "row Winograd needs a 3x3 kernel of 3 input channels (and not 2-D Winograd too)")
            }
            var r = [Float](repeating: 0, count: nn_rowwino_nhwc_packed_size(Int32(cp)))
            conv.weight.withUnsafeBufferPointer { w in
                r.withUnsafeMutableBufferPointer { rb in
                    guard let wp = w.baseAddress, let rp = rb.baseAddress else { return }
                    nn_rowwino_pack_nhwc(wp, Int32(cout), Int32(cp), rp)
                }
            }
            rows = AlignedFloats(r)
        }
        var hw: [Float] = [], hb: [Float] = []
        if let head {
            guard winograd, outputTile == 4, head.isFusableHead(after: cout) else {
                throw NeuralNetError.badInput(layer: "ChannelsLastConv", shape: [head.outChannels, head.inChannels, head.kernelH, head.kernelW],
                                              reason: "a fused head needs F(4x4) Winograd and a 1x1 convolution of the layer's channels to 6 outputs, without activation")
            }
            hw = [Float](repeating: 0, count: 6 * cp)
            for j in 0..<6 { for c in 0..<cout { hw[j * cp + c] = head.weight[j * cout + c] } }
            hb = head.bias
        }
        self.init(inChannels: cin, outChannels: cout, kernelH: kh, kernelW: kw, packed: p, bias: conv.bias,
                  activation: conv.activation, winogradPacked: u, winogradTile: outputTile, rowWinogradPacked: rows,
                  headWeight: hw, headBias: hb)
    }

    /// A dense layer on flattened channels-last features (the caller orders the weight's
    /// columns as `[H][W][C]`).
    public init(_ linear: Linear) {
        let cin = linear.inFeatures, cout = linear.outFeatures, cp = Self.padded(cout)
        var p = [Float](repeating: 0, count: cin * cp)
        for o in 0..<cout { for c in 0..<cin { p[c * cp + o] = linear.weight[o * cin + c] } }
        self.init(inChannels: cin, outChannels: cout, kernelH: 1, kernelW: 1, packed: p, bias: linear.bias,
                  activation: linear.activation)
    }

    private init(inChannels: Int, outChannels: Int, kernelH: Int, kernelW: Int, packed: [Float], bias: [Float],
                 activation: Activation, winogradPacked: [Float] = [], winogradTile: Int = 2, rowWinogradPacked: AlignedFloats? = nil,
                 headWeight: [Float] = [], headBias: [Float] = []) {
        self.winogradPacked = winogradPacked
        self.rowWinogradPacked = rowWinogradPacked
        self.winogradTile = winogradTile
        self.headWeight = headWeight
        self.headBias = headBias
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernelH = kernelH; self.kernelW = kernelW
        paddedOut = Self.padded(outChannels)
        self.packed = packed
        var b = [Float](repeating: 0, count: paddedOut)
        b.replaceSubrange(0..<outChannels, with: bias)
        self.bias = b
        var s = [Float](repeating: 0, count: paddedOut)
        switch activation {
        case .none: act = Int32(NN_ACT_NONE)
        case .relu: act = Int32(NN_ACT_RELU)
        case .prelu(let sl):
            act = Int32(NN_ACT_PRELU)
            for o in 0..<outChannels { s[o] = sl.count == 1 ? sl[0] : sl[o] }
        }
        slopes = s
    }

    /// Output map size for an input of `height x width`.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        (height - kernelH + 1, width - kernelW + 1)
    }

    /// `images` maps `[height][width][channelStride]` (channels `0..<inChannels` read) to
    /// `[images][oh][ow][paddedOut]`. With `parallel`, pixel ranges are spread over the cores.
    /// Preconditions (the caller's): channelStride >= inChannels, map at least the kernel's size,
    /// buffers that large.
    public func forward(_ input: UnsafePointer<Float>, images: Int, height: Int, width: Int, channelStride: Int,
                        into out: UnsafeMutablePointer<Float>, parallel: Bool) {
        let (oh, ow) = outputSize(height: height, width: width)
        guard images > 0, oh > 0, ow > 0 else { return }
        if !winogradPacked.isEmpty && oh >= winogradTile && ow >= winogradTile && channelStride >= Self.padded(inChannels) {
            forwardWinograd(input, images: images, height: height, width: width, channelStride: channelStride, into: out,
                            parallel: parallel)
            return
        }
        if let rows = rowWinogradPacked, runsRowWinograd(height: height, width: width, channelStride: channelStride) {
            forwardRowWinograd(rows, input, images: images, height: height, width: width, channelStride: channelStride, into: out,
                               parallel: parallel)
            return
        }
        let total = images * oh * ow
        let macsPerPixel = kernelH * kernelW * inChannels * paddedOut
        packed.withUnsafeBufferPointer { wb in
            bias.withUnsafeBufferPointer { bb in
                slopes.withUnsafeBufferPointer { sb in
                    guard let wp = wb.baseAddress, let bp = bb.baseAddress, let sp = sb.baseAddress else { return }
                    let run = { (r: Range<Int>) in
                        nn_conv_nhwc(input, Int32(height), Int32(width), Int32(channelStride), Int32(inChannels), wp, bp, sp,
                                     Int32(paddedOut), Int32(kernelH), Int32(kernelW), act, out, r.lowerBound, r.upperBound)
                    }
                    Self.split(total, macsEach: macsPerPixel, minChunk: 24, parallel: parallel, run)
                }
            }
        }
    }
}

extension ChannelsLastConv {
    /// Whether `forwardHead` can run on maps of this size (a fused head, inputs at least 6x6).
    public func canRunHead(height: Int, width: Int, channelStride: Int) -> Bool {
        !headBias.isEmpty && height >= 6 && width >= 6 && channelStride >= Self.padded(inChannels)
    }

    /// This layer, its activation and the fused head on `images` maps `[height][width][channelStride]`,
    /// writing only the head's planar maps `[images][6][height - 2][width - 2]`, on this thread.
    /// Precondition (the caller's): `canRunHead(height:width:channelStride:)`, buffers that large.
    public func forwardHead(_ input: UnsafePointer<Float>, images: Int, height: Int, width: Int, channelStride: Int,
                            into out: UnsafeMutablePointer<Float>) {
        let tiles = images * ((height - 2 + 3) / 4) * ((width - 2 + 3) / 4)
        guard canRunHead(height: height, width: width, channelStride: channelStride), tiles > 0 else { return }
        winogradPacked.withUnsafeBufferPointer { ub in
            bias.withUnsafeBufferPointer { bb in
                slopes.withUnsafeBufferPointer { sb in
                    headWeight.withUnsafeBufferPointer { hwb in
                        headBias.withUnsafeBufferPointer { hbb in
                            guard let up = ub.baseAddress, let bp = bb.baseAddress, let sp = sb.baseAddress,
                                  let hw = hwb.baseAddress, let hb = hbb.baseAddress else { return }
                            nn_wino4x4_nhwc_head(input, Int32(height), Int32(width), Int32(channelStride), Int32(Self.padded(inChannels)),
                                                 Int32(inChannels), up, bp, sp, Int32(paddedOut), act, hw, hb, out, 0, tiles)
                        }
                    }
                }
            }
        }
    }

    /// Runs `run` over `0..<count` work items (pixels, rows, tiles) of `macsEach` multiply-adds
    /// each: in chunks over the cores with `parallel` when there are a few million in all (a
    /// thread hop costs tens of microseconds), else at once on this thread.
    private static func split(_ count: Int, macsEach: Int, minChunk: Int, parallel: Bool, _ run: @escaping (Range<Int>) -> Void) {
        if parallel && count * macsEach >= 4_000_000 {
            let box = SendableBox(run)
            Threads.forEachChunk(count: count, minChunk: minChunk) { box.value($0) }
        } else {
            run(0..<count)
        }
    }

    /// Whether the row Winograd kernel takes maps of this size (`nn_rowwino_nhwc`'s limits): an
    /// even output width, at most `NN_ROWWINO_MAXW` wide, the input channels within the stride.
    private func runsRowWinograd(height: Int, width: Int, channelStride: Int) -> Bool {
        let (oh, ow) = outputSize(height: height, width: width)
        return rowWinogradPacked != nil && oh >= 1 && ow >= 2 && ow % 2 == 0 && width <= Int(NN_ROWWINO_MAXW)
            && channelStride >= inChannels
    }

    /// Whether `forwardPooled` runs this layer with `pool` fused after it on maps of this size:
    /// a row Winograd layer (`rowWinograd: true`) on maps it takes, an output of at least 3x3
    /// whose rows fit `NN_ROWWINO_POOL_ROW`, and a 3x3 stride-2 unpadded pool.
    public func canRunPooled(_ pool: MaxPool2D, height: Int, width: Int, channelStride: Int) -> Bool {
        let (oh, ow) = outputSize(height: height, width: width)
        return runsRowWinograd(height: height, width: width, channelStride: channelStride) && pool.kernel == 3 && pool.stride == 2
            && pool.padding == 0 && oh >= 3 && ow >= 3 && ow * paddedOut <= Int(NN_ROWWINO_POOL_ROW)
    }

    /// This layer, then `pool`, on `images` maps `[height][width][channelStride]` into
    /// `[images][pool.outputSize(oh)][pool.outputSize(ow)][paddedOut]`, without storing this layer's
    /// map (`nn_rowwino_pool_nhwc`: each pooled row pooled from the 3 convolution rows just made,
    /// while they are in L1). With `parallel`, pooled rows are spread over the cores.
    /// Precondition (the caller's): `canRunPooled(pool, height:width:channelStride:)`, buffers that large.
    public func forwardPooled(_ input: UnsafePointer<Float>, images: Int, height: Int, width: Int, channelStride: Int,
                              pool: MaxPool2D, into out: UnsafeMutablePointer<Float>, parallel: Bool) {
        guard let weights = rowWinogradPacked, canRunPooled(pool, height: height, width: width, channelStride: channelStride) else { return }
        let (oh, ow) = outputSize(height: height, width: width)
        let ph = pool.outputSize(oh), pw = pool.outputSize(ow)
        let act = act, paddedOut = Int32(paddedOut)
        withRowWinogradArguments(weights) { up, bp, sp in
            let run = { (r: Range<Int>) in
                nn_rowwino_pool_nhwc(input, Int32(height), Int32(width), Int32(channelStride), up, bp, sp, paddedOut, act,
                                     Int32(ph), Int32(pw), out, r.lowerBound, r.upperBound)
            }
            Self.split(images * ph, macsEach: 2 * ow * 27 * Int(paddedOut), minChunk: 4, parallel: parallel, run)
        }
    }

    /// The row Winograd weights, bias and slopes as the kernels take them.
    private func withRowWinogradArguments(_ weights: AlignedFloats,
                                          _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>) -> Void) {
        weights.withPointer { up in
            bias.withUnsafeBufferPointer { bb in
                slopes.withUnsafeBufferPointer { sb in
                    guard let bp = bb.baseAddress, let sp = sb.baseAddress else { return }
                    body(up, bp, sp)
                }
            }
        }
    }

    /// The row Winograd path of `forward`: the output rows of all images split over the cores.
    private func forwardRowWinograd(_ weights: AlignedFloats, _ input: UnsafePointer<Float>, images: Int, height: Int, width: Int,
                                    channelStride: Int, into out: UnsafeMutablePointer<Float>, parallel: Bool) {
        let act = act, paddedOut = Int32(paddedOut)
        withRowWinogradArguments(weights) { up, bp, sp in
            let run = { (r: Range<Int>) in
                nn_rowwino_nhwc(input, Int32(height), Int32(width), Int32(channelStride), up, bp, sp, paddedOut, act,
                                out, r.lowerBound, r.upperBound)
            }
            Self.split(images * (height - 2), macsEach: (width - 2) * 27 * Int(paddedOut), minChunk: 4, parallel: parallel, run)
        }
    }

    /// The Winograd path of `forward`: the output tiles of all images split over the cores.
    private func forwardWinograd(_ input: UnsafePointer<Float>, images: Int, height: Int, width: Int, channelStride: Int,
                                 into out: UnsafeMutablePointer<Float>, parallel: Bool) {
        let m = winogradTile, oh = height - 2, ow = width - 2
        let tiles = images * ((oh + m - 1) / m) * ((ow + m - 1) / m)
        let macsPerTile = (m + 2) * (m + 2) * inChannels * paddedOut
        winogradPacked.withUnsafeBufferPointer { ub in
            bias.withUnsafeBufferPointer { bb in
                slopes.withUnsafeBufferPointer { sb in
                    guard let up = ub.baseAddress, let bp = bb.baseAddress, let sp = sb.baseAddress else { return }
                    let run = { (r: Range<Int>) in
                        switch m {
                        case 4:
                            nn_wino4x4_nhwc(input, Int32(height), Int32(width), Int32(channelStride), Int32(Self.padded(inChannels)), Int32(inChannels),
                                            up, bp, sp, Int32(paddedOut), act, out, r.lowerBound, r.upperBound)
                        case 3:
                            nn_winof3_nhwc(input, Int32(height), Int32(width), Int32(channelStride), Int32(Self.padded(inChannels)), Int32(inChannels),
                                           up, bp, sp, Int32(paddedOut), act, out, r.lowerBound, r.upperBound)
                        default:
                            nn_wino3x3_nhwc(input, Int32(height), Int32(width), Int32(channelStride), Int32(Self.padded(inChannels)), Int32(inChannels),
                                            up, bp, sp, Int32(paddedOut), act, out, r.lowerBound, r.upperBound)
                        }
                    }
                    Self.split(tiles, macsEach: macsPerTile, minChunk: 12, parallel: parallel, run)
                }
            }
        }
    }
}

extension MaxPool2D {
    /// Pools channels-last maps `[images][height][width][channels]` into
    /// `[images][outputSize(height)][outputSize(width)][channels]`. Precondition: no padding.
    public func forwardChannelsLast(_ input: UnsafePointer<Float>, images: Int, height: Int, width: Int, channels: Int,
                                    into out: UnsafeMutablePointer<Float>) {
        nn_maxpool_nhwc(input, Int32(images), Int32(height), Int32(width), Int32(channels), Int32(kernel), Int32(stride),
                        Int32(outputSize(height)), Int32(outputSize(width)), out)
    }
}
