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

extension MaxPool2D {
    /// Pools `planes` planes of `height x width` into `outputSize(height) x outputSize(width)`.
    /// Precondition: no padding.
    public func forward(_ input: UnsafePointer<Float>, planes: Int, height: Int, width: Int,
                        into out: UnsafeMutablePointer<Float>) {
        nn_maxpool(input, Int32(planes), Int32(height), Int32(width), Int32(kernel), Int32(stride),
                   Int32(outputSize(height)), Int32(outputSize(width)), out)
    }
}
