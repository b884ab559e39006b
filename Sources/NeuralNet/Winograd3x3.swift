import CKernels

/// A 3x3 stride-1 unpadded convolution computed with Winograd F(2x2, 3x3) (`nn_wino3x3`):
/// 16 multiply-adds per 2x2 output tile and channel pair instead of 36, weights transformed once
/// here. Results agree with `Conv2D.forwardValid` to float rounding (about 1e-6 relative), not
/// bit for bit. Made for planar maps many tiles wide (MTCNN's P-Net conv2 and conv3).
public struct Winograd3x3: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    /// Transformed weights in the kernel's layout (`nn_wino3x3_pack`).
    let packed: [Float]
    let bias: [Float]
    let act: Int32
    let slopes: [Float]
    /// A 1x1 head fused after the activation (`nn_wino3x3_head`): weights `[6][outChannels]` and
    /// bias `[6]`; empty when there is none. With a head, `forwardValid` writes the head's 6
    /// channels and the layer's own map is never stored.
    let headWeight: [Float]
    let headBias: [Float]

    /// Output channels of `forwardValid`: the head's when there is one.
    public var storedChannels: Int { headBias.isEmpty ? outChannels : headBias.count }

    /// `head`: a 1x1 convolution to 6 outputs with no activation (P-Net's two heads) to run on
    /// this layer's activations as they are produced.
    public init(_ conv: Conv2D, head: Conv2D? = nil) throws {
        guard conv.kernelH == 3, conv.kernelW == 3, conv.strideH == 1, conv.strideW == 1, conv.padH == 0, conv.padW == 0 else {
            throw NeuralNetError.badInput(layer: "Winograd3x3", shape: [conv.outChannels, conv.inChannels, conv.kernelH, conv.kernelW],
                                          reason: "needs a 3x3 kernel, stride 1, no padding")
        }
        let cin = Int32(conv.inChannels), cout = Int32(conv.outChannels)
        inChannels = conv.inChannels; outChannels = conv.outChannels
        var p = [Float](repeating: 0, count: nn_wino3x3_packed_size(cin, cout))
        conv.weight.withUnsafeBufferPointer { w in
            p.withUnsafeMutableBufferPointer { u in
                guard let wp = w.baseAddress, let up = u.baseAddress else { return }
                nn_wino3x3_pack(wp, cin, cout, up)
            }
        }
        packed = p
        bias = conv.bias
        (act, slopes) = conv.activation.kernelArguments
        if let head {
            guard head.isFusableHead(after: conv.outChannels), conv.outChannels <= 64 else {
                throw NeuralNetError.badInput(layer: "Winograd3x3", shape: [head.outChannels, head.inChannels, head.kernelH, head.kernelW],
                                              reason: "a fused head must be a 1x1 convolution of the layer's channels (at most 64) to 6 outputs, without activation")
            }
            headWeight = head.weight
            headBias = head.bias
        } else {
            headWeight = []
            headBias = []
        }
    }

    /// Floats of per-thread scratch `forwardValid` needs.
    public var scratchCount: Int { nn_wino3x3_scratch_size(Int32(inChannels)) }

    /// One `[inChannels, height, width]` image into `[storedChannels, height - 2, width - 2]`.
    /// Preconditions (the caller's): buffers that large (no slack needed after the input),
    /// `scratch` holds `scratchCount` floats and is not shared with another thread.
    public func forwardValid(_ input: UnsafePointer<Float>, height: Int, width: Int,
                             scratch: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        packed.withUnsafeBufferPointer { ub in
            bias.withUnsafeBufferPointer { bb in
                slopes.withUnsafeBufferPointer { sb in
                    guard let up = ub.baseAddress, let bp = bb.baseAddress, let sp = sb.baseAddress else { return }
                    guard !headBias.isEmpty else {
                        nn_wino3x3(input, Int32(inChannels), Int32(height), Int32(width), up, bp, Int32(outChannels),
                                   act, sp, Int32(slopes.count), scratch, out)
                        return
                    }
                    headWeight.withUnsafeBufferPointer { hwb in
                        headBias.withUnsafeBufferPointer { hbb in
                            guard let hw = hwb.baseAddress, let hb = hbb.baseAddress else { return }
                            nn_wino3x3_head(input, Int32(inChannels), Int32(height), Int32(width), up, bp, Int32(outChannels),
                                            act, sp, Int32(slopes.count), hw, hb, scratch, out)
                        }
                    }
                }
            }
        }
    }
}

extension Conv2D {
    /// Whether this layer can run fused after a convolution with `channels` outputs as the C
    /// kernels' head (`nn_wino3x3_head`, `nn_wino4x4_nhwc_head`, both HEAD_OUT = 6): a 1x1
    /// convolution of those channels to 6 outputs, without activation (P-Net's two heads).
    func isFusableHead(after channels: Int) -> Bool {
        guard kernelH == 1, kernelW == 1, inChannels == channels, outChannels == 6, case .none = activation else { return false }
        return true
    }
}
