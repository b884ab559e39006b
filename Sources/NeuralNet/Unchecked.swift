import CKernels

/// Allocation-free entry points for hot loops that own their buffers (MTCNN's P-Net runs every
/// pyramid tile through preallocated scratch). Callers guarantee sizes; `forward(_:)` is the
/// checked API.
extension Conv2D {
    /// Readable floats an input buffer of `forwardValid` needs past the image.
    public static let inputSlack = Int(NN_INPUT_SLACK)

    /// Unpadded stride-1 convolution of one `[inChannels, height, width]` image into
    /// `[outChannels, height - kh + 1, width - kw + 1]`. Precondition: stride 1, no padding.
    public func forwardValid(_ input: UnsafePointer<Float>, height: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
        let (act, slopes) = activation.kernelArguments
        weight.withUnsafeBufferPointer { wb in
            bias.withUnsafeBufferPointer { bb in
                slopes.withUnsafeBufferPointer { sb in
                    guard let wp = wb.baseAddress, let bp = bb.baseAddress, let sp = sb.baseAddress else { return }
                    nn_conv2d_direct(input, Int32(inChannels), Int32(height), Int32(width), wp, bp, Int32(outChannels),
                                     Int32(kernelH), Int32(kernelW), act, sp, Int32(slopes.count), out)
                }
            }
        }
    }
}

extension Conv2D {
    /// Floats of scratch `forwardValidPooled2` needs for an input `width` wide.
    public func pooled2Scratch(width: Int) -> Int { 2 * outChannels * max(0, width - 2) + inputSlack }

    private var inputSlack: Int { Conv2D.inputSlack }

    /// A 3x3 stride-1 unpadded convolution followed by 2x2 stride-2 max pooling (windows clipped
    /// at the border, as ceil mode), without storing the full-resolution convolution: one
    /// `[inChannels, height, width]` image into `[outChannels, pooledH, pooledW]`. The image may
    /// be rows of a taller one: `planeRows` (at least `height`) rows apart per channel.
    /// Preconditions: a 3x3 kernel, stride 1, no padding; `tmp` holds `pooled2Scratch(width:)`.
    public func forwardValidPooled2(_ input: UnsafePointer<Float>, height: Int, planeRows: Int? = nil, width: Int, pooledH: Int,
                                    pooledW: Int, tmp: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let (act, slopes) = activation.kernelArguments
        weight.withUnsafeBufferPointer { wb in
            bias.withUnsafeBufferPointer { bb in
                slopes.withUnsafeBufferPointer { sb in
                    guard let wp = wb.baseAddress, let bp = bb.baseAddress, let sp = sb.baseAddress else { return }
                    nn_conv_pool2(input, Int32(inChannels), Int32(height), Int32(max(height, planeRows ?? height)), Int32(width), wp, bp, Int32(outChannels), act, sp,
                                  Int32(slopes.count), Int32(pooledH), Int32(pooledW), tmp, out)
                }
            }
        }
    }
}

extension MaxPool2D {
    /// Pools `planes` planes of `height x width` into `outputSize(height) x outputSize(width)`.
    /// Precondition: no padding.
    public func forward(_ input: UnsafePointer<Float>, planes: Int, height: Int, width: Int,
                        into out: UnsafeMutablePointer<Float>) {
        nn_maxpool(input, Int32(planes), Int32(height), Int32(width), Int32(kernel), Int32(stride),
                   Int32(outputSize(height)), Int32(outputSize(width)), out)
    }
}
