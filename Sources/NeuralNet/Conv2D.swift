import Foundation
import CKernels
import Parallel

/// 2-D convolution over NCHW batches, weights `[out, in, kh, kw]` as in PyTorch (groups = 1).
/// Computed as im2col + one sgemm per image (OpenBLAS, single-threaded), batch items spread over
/// the cores; bias and activation are fused into the output pass.
public struct Conv2D: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelH: Int, kernelW: Int
    public let strideH: Int, strideW: Int
    public let padH: Int, padW: Int
    /// `[out, in * kh * kw]`, row-major.
    public let weight: [Float]
    public let bias: [Float]
    public let activation: Activation

    /// - Parameters: `weight` of shape `[out, in, kh, kw]`, `bias` of shape `[out]` (zeros when nil).
    public init(weight: Tensor, bias: Tensor? = nil,
                stride: (h: Int, w: Int), padding: (h: Int, w: Int),
                activation: Activation = .none) throws {
        guard weight.rank == 4, weight.shape.allSatisfy({ $0 > 0 }) else {
            throw NeuralNetError.badInput(layer: "Conv2D", shape: weight.shape, reason: "weight must be [out, in, kh, kw]")
        }
        guard stride.h > 0, stride.w > 0, padding.h >= 0, padding.w >= 0 else {
            throw NeuralNetError.badInput(layer: "Conv2D", shape: weight.shape, reason: "bad stride \(stride) or padding \(padding)")
        }
        let out = weight.shape[0]
        if let bias, bias.shape != [out] {
            throw NeuralNetError.badInput(layer: "Conv2D", shape: bias.shape, reason: "bias must be [\(out)]")
        }
        if case .prelu(let s) = activation, s.count != out, s.count != 1 {
            throw NeuralNetError.badInput(layer: "Conv2D", shape: [s.count], reason: "PReLU needs \(out) slopes")
        }
        inChannels = weight.shape[1]
        outChannels = out
        kernelH = weight.shape[2]; kernelW = weight.shape[3]
        strideH = stride.h; strideW = stride.w
        padH = padding.h; padW = padding.w
        self.weight = weight.storage
        self.bias = bias?.storage ?? [Float](repeating: 0, count: out)
        self.activation = activation
    }

    /// Square stride and padding.
    public init(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                activation: Activation = .none) throws {
        try self.init(weight: weight, bias: bias, stride: (stride, stride), padding: (padding, padding),
                      activation: activation)
    }

    private init(copying c: Conv2D, weight: [Float], bias: [Float], activation: Activation) {
        inChannels = c.inChannels; outChannels = c.outChannels
        kernelH = c.kernelH; kernelW = c.kernelW
        strideH = c.strideH; strideW = c.strideW
        padH = c.padH; padW = c.padW
        self.weight = weight; self.bias = bias; self.activation = activation
    }

    /// This convolution followed by inference batch norm, as one convolution:
    /// w' = w * gamma / sqrt(var + eps), b' = (b - mean) * gamma / sqrt(var + eps) + beta.
    public func foldingBatchNorm(gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor,
                                 eps: Float = 1e-5) throws -> Conv2D {
        for t in [gamma, beta, mean, variance] where t.shape != [outChannels] {
            throw NeuralNetError.badInput(layer: "Conv2D.foldingBatchNorm", shape: t.shape,
                                          reason: "expected [\(outChannels)]")
        }
        let per = inChannels * kernelH * kernelW
        var w = weight, b = bias
        for o in 0..<outChannels {
            let s = gamma.storage[o] / (variance.storage[o] + eps).squareRoot()
            for i in 0..<per { w[o * per + i] *= s }
            b[o] = (b[o] - mean.storage[o]) * s + beta.storage[o]
        }
        return Conv2D(copying: self, weight: w, bias: b, activation: activation)
    }

    /// The same convolution with another fused activation.
    public func with(activation: Activation) -> Conv2D {
        Conv2D(copying: self, weight: weight, bias: bias, activation: activation)
    }

    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height + 2 * padH - kernelH) / strideH + 1, (width + 2 * padW - kernelW) / strideW + 1)
    }

    /// Up to this many multiply-adds per output value (in_channels x kh x kw) the direct C kernel
    /// wins; above it, one sgemm over several images does. Measured on the emotion network
    /// (faces per CPU-second: direct for all 266, sgemm for all 546, split at 100: 592, at 300: 478).
    static let directMaxK = 100

    public func forward(_ input: Tensor) throws -> Tensor {
        guard input.rank == 4, input.shape[1] == inChannels else {
            throw NeuralNetError.badInput(layer: "Conv2D", shape: input.shape, reason: "expects [N, \(inChannels), H, W]")
        }
        let n = input.shape[0], h = input.shape[2], w = input.shape[3]
        guard h + 2 * padH >= kernelH, w + 2 * padW >= kernelW else {
            throw NeuralNetError.badInput(layer: "Conv2D", shape: input.shape,
                                          reason: "smaller than the \(kernelH)x\(kernelW) kernel")
        }
        _ = BLASSetup.configure
        let (oh, ow) = outputSize(height: h, width: w)
        var out = [Float](repeating: 0, count: n * outChannels * oh * ow)
        let inPer = inChannels * h * w, outPer = outChannels * oh * ow
        let k = inChannels * kernelH * kernelW
        // Batch items in parallel when each is big enough to pay for a thread hop.
        let minChunk = max(1, 2_000_000 / max(1, outPer * k))
        input.storage.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                let sp = SendableBox(s), dp = SharedPointer(base: d)
                Threads.forEachChunk(count: n, minChunk: minChunk) { range in
                    if strideH == 1 && strideW == 1 && k <= Conv2D.directMaxK {
                        directForward(sp.value, range: range, h: h, w: w, inPer: inPer, outPer: outPer, into: dp.base)
                    } else {
                        let hw = oh * ow
                        let group = max(1, min(n, 512 / max(1, hw), (8 << 20) / max(1, 4 * k * hw)))
                        groupedForward(sp.value, range: range, group: group, h: h, w: w, oh: oh, ow: ow, inPer: inPer, outPer: outPer, into: dp.base)
                    }
                }
            }
        }
        return Tensor(unchecked: [n, outChannels, oh, ow], out)
    }

    /// Stride 1: the direct kernel (CKernels) on a padded copy with the slack it reads past rows.
    private func directForward(_ x: UnsafePointer<Float>, range: Range<Int>, h: Int, w: Int, inPer: Int, outPer: Int,
                               into y: UnsafeMutablePointer<Float>) {
        let ph = h + 2 * padH, pw = w + 2 * padW
        var scratch = [Float](repeating: 0, count: inChannels * ph * pw + Int(NN_INPUT_SLACK))
        let (act, slopes) = activation.kernelArguments
        scratch.withUnsafeMutableBufferPointer { sb in
            weight.withUnsafeBufferPointer { wb in
                bias.withUnsafeBufferPointer { bb in
                    slopes.withUnsafeBufferPointer { slb in
                        guard let pad = sb.baseAddress, let wp = wb.baseAddress, let bp = bb.baseAddress,
                              let sl = slb.baseAddress else { return }
                        for b in range {
                            let img = x + b * inPer
                            for c in 0..<inChannels {
                                for r in 0..<h {
                                    (pad + (c * ph + r + padH) * pw + padW).update(from: img + (c * h + r) * w, count: w)
                                }
                            }
                            nn_conv2d_direct(pad, Int32(inChannels), Int32(ph), Int32(pw), wp, bp, Int32(outChannels),
                                             Int32(kernelH), Int32(kernelW), act, sl, Int32(slopes.count), y + b * outPer)
                        }
                    }
                }
            }
        }
    }

    /// Images `range`, `group` at a time: im2col blocks side by side in one `[k, g * hw]` matrix,
    /// one sgemm into `[out, g * hw]`, then bias and activation on the way to each image's NCHW slot.
    private func groupedForward(_ x: UnsafePointer<Float>, range: Range<Int>, group: Int, h: Int, w: Int,
                                oh: Int, ow: Int, inPer: Int, outPer: Int, into y: UnsafeMutablePointer<Float>) {
        let hw = oh * ow, k = inChannels * kernelH * kernelW
        var col = [Float](repeating: 0, count: k * group * hw)
        var tmp = [Float](repeating: 0, count: outChannels * group * hw)
        col.withUnsafeMutableBufferPointer { colBuf in
            tmp.withUnsafeMutableBufferPointer { tmpBuf in
                weight.withUnsafeBufferPointer { wp in
                    guard let cb = colBuf.baseAddress, let tb = tmpBuf.baseAddress, let wb = wp.baseAddress else { return }
                    var start = range.lowerBound
                    while start < range.upperBound {
                        let g = min(group, range.upperBound - start)
                        let cols = g * hw
                        for j in 0..<g {
                            im2col(x + (start + j) * inPer, h: h, w: w, oh: oh, ow: ow, into: cb + j * hw, rowStride: cols)
                        }
                        sgemm(m: outChannels, n: cols, k: k, a: wb, lda: k, b: cb, ldb: cols, c: tb, ldc: cols, accumulate: false)
                        for j in 0..<g {
                            let img = y + (start + j) * outPer
                            for o in 0..<outChannels {
                                let src = tb + o * cols + j * hw, dst = img + o * hw
                                let bv = bias[o]
                                switch activation {
                                case .none:
                                    for i in 0..<hw { dst[i] = src[i] + bv }
                                case .relu:
                                    for i in 0..<hw { dst[i] = max(src[i] + bv, 0) }
                                case .prelu(let slopes):
                                    let a = slopes[slopes.count == 1 ? 0 : o]
                                    for i in 0..<hw {
                                        let v = src[i] + bv
                                        dst[i] = v < 0 ? v * a : v
                                    }
                                }
                            }
                        }
                        start += g
                    }
                }
            }
        }
    }

    /// y[o, p] = act(bias[o] + sum_k w[o, k] * cols[k, p]).
    private func compute(cols: UnsafePointer<Float>, outHW: Int, k: Int, into y: UnsafeMutablePointer<Float>) {
        for o in 0..<outChannels {
            let bv = bias[o]
            (y + o * outHW).update(repeating: bv, count: outHW)
        }
        weight.withUnsafeBufferPointer { wp in
            guard let wb = wp.baseAddress else { return }
            sgemm(m: outChannels, n: outHW, k: k, a: wb, lda: k, b: cols, ldb: outHW,
                  c: y, ldc: outHW, accumulate: true)
        }
        switch activation {
        case .none: break
        case .relu:
            for i in 0..<(outChannels * outHW) where y[i] < 0 { y[i] = 0 }
        case .prelu(let slopes):
            for o in 0..<outChannels {
                let a = slopes[slopes.count == 1 ? 0 : o]
                let row = y + o * outHW
                for i in 0..<outHW where row[i] < 0 { row[i] *= a }
            }
        }
    }

    /// Unfolds one image `[C, H, W]` into `[C * kh * kw, oh * ow]`, zeros where padding; rows of
    /// the result are `rowStride` floats apart (more than `oh * ow` when images share a matrix).
    private func im2col(_ x: UnsafePointer<Float>, h: Int, w: Int, oh: Int, ow: Int,
                        into col: UnsafeMutablePointer<Float>, rowStride: Int) {
        var row = col
        for c in 0..<inChannels {
            let plane = x + c * h * w
            for ky in 0..<kernelH {
                for kx in 0..<kernelW {
                    for oy in 0..<oh {
                        let iy = oy * strideH - padH + ky
                        let dst = row + oy * ow
                        if iy < 0 || iy >= h {
                            dst.update(repeating: 0, count: ow)
                            continue
                        }
                        let srcRow = plane + iy * w
                        if strideW == 1 {
                            // Columns [lo, hi) of the output read inside the image.
                            let lo = max(0, padW - kx), hi = min(ow, w + padW - kx)
                            if lo > 0 { dst.update(repeating: 0, count: lo) }
                            if hi > lo { (dst + lo).update(from: srcRow + (lo - padW + kx), count: hi - lo) }
                            if hi < ow { (dst + max(hi, 0)).update(repeating: 0, count: ow - max(hi, 0)) }
                        } else {
                            for ox in 0..<ow {
                                let ix = ox * strideW - padW + kx
                                dst[ox] = (ix >= 0 && ix < w) ? srcRow[ix] : 0
                            }
                        }
                    }
                    row += rowStride
                }
            }
        }
    }
}
