import CKernels

/// Max pooling over NCHW. `ceilMode` rounds the output size up as Caffe and
/// torch.nn.MaxPool2d(ceil_mode=True) do (MTCNN needs it); windows are clipped at the border.
public struct MaxPool2D: Layer {
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let ceilMode: Bool

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false) {
        self.kernel = max(1, kernel)
        self.stride = max(1, stride ?? kernel)
        self.padding = max(0, padding)
        self.ceilMode = ceilMode
    }

    /// PyTorch's pooling_output_shape: in ceil mode the last window must start inside the input
    /// (or left padding).
    public func outputSize(_ size: Int) -> Int {
        let span = size + 2 * padding - kernel + (ceilMode ? stride - 1 : 0)
        guard span >= 0 else { return 0 }
        var out = span / stride + 1
        if ceilMode && (out - 1) * stride >= size + padding { out -= 1 }
        return out
    }

    public func forward(_ input: Tensor) throws -> Tensor {
        guard input.rank == 4 else {
            throw NeuralNetError.badInput(layer: "MaxPool2D", shape: input.shape, reason: "needs NCHW")
        }
        let nc = input.shape[0] * input.shape[1], h = input.shape[2], w = input.shape[3]
        let oh = outputSize(h), ow = outputSize(w)
        guard oh > 0, ow > 0 else {
            throw NeuralNetError.badInput(layer: "MaxPool2D", shape: input.shape, reason: "smaller than the \(kernel)x\(kernel) window")
        }
        var out = [Float](repeating: 0, count: nc * oh * ow)
        if padding == 0 {
            input.storage.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { y in
                    guard let xb = x.baseAddress, let yb = y.baseAddress else { return }
                    nn_maxpool(xb, Int32(nc), Int32(h), Int32(w), Int32(kernel), Int32(stride), Int32(oh), Int32(ow), yb)
                }
            }
            return Tensor(unchecked: [input.shape[0], input.shape[1], oh, ow], out)
        }
        input.storage.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                for p in 0..<nc {
                    let plane = p * h * w, oplane = p * oh * ow
                    for oy in 0..<oh {
                        let y0 = max(0, oy * stride - padding), y1 = min(h, oy * stride - padding + kernel)
                        for ox in 0..<ow {
                            let x0 = max(0, ox * stride - padding), x1 = min(w, ox * stride - padding + kernel)
                            var m = -Float.infinity
                            for yy in y0..<y1 {
                                let r = plane + yy * w
                                for xx in x0..<x1 { m = max(m, x[r + xx]) }
                            }
                            y[oplane + oy * ow + ox] = m
                        }
                    }
                }
            }
        }
        return Tensor(unchecked: [input.shape[0], input.shape[1], oh, ow], out)
    }
}
