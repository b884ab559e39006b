import CKernels

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

    /// Output channel count rounded up to whole 16-lane vectors.
    public static func padded(_ n: Int) -> Int { (n + 15) / 16 * 16 }

    public init(_ conv: Conv2D) throws {
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
        self.init(inChannels: cin, outChannels: cout, kernelH: kh, kernelW: kw, packed: p, bias: conv.bias,
                  activation: conv.activation)
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
                 activation: Activation) {
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
                    // A thread hop costs tens of microseconds: only split work of a few million MACs.
                    if parallel && total * macsPerPixel >= 4_000_000 {
                        let box = SendableBox(run)
                        Threads.forEachChunk(count: total, minChunk: 24) { box.value($0) }
                    } else {
                        run(0..<total)
                    }
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
