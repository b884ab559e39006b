import CKernels
import Foundation
import NeuralNet

/// Buffers for one P-Net tile or crop group, reused from tile to tile and frame to frame.
final class PNetScratch {
    var input: [Float] = [], c1: [Float] = [], p1: [Float] = [], c2: [Float] = [], c2nhwc: [Float] = [], head: [Float] = []
    /// Winograd transforms of one tile group of conv3.
    var wino: [Float] = []
    /// Ping-pong activations of a group of R-Net / O-Net crops.
    var cropA: [Float] = [], cropB: [Float] = []

    static func grow(_ a: inout [Float], _ n: Int) {
        if a.count < n { a = [Float](repeating: 0, count: n + Conv2D.inputSlack) }
    }
}

/// A few scratch sets shared by the threads of one detector; a tile takes one and gives it back.
final class ScratchPool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [PNetScratch] = []

    func take() -> PNetScratch {
        lock.lock(); defer { lock.unlock() }
        return free.popLast() ?? PNetScratch()
    }

    func give(_ s: PNetScratch) {
        lock.lock(); defer { lock.unlock() }
        if free.count < 8 { free.append(s) }
    }
}

extension PNet {
    /// The P-Net map of one `[3, rows, cols]` input already in `scratch.input`: fills
    /// `scratch.head` with `[6, mapH, mapW]` raw outputs (2 logits, 4 regression values) and
    /// returns the map size. No allocation once the scratch has grown to the tile size.
    func forwardInPlace(_ scratch: PNetScratch, rows: Int, cols: Int) -> (mapH: Int, mapW: Int) {
        let h1 = rows - 2, w1 = cols - 2
        let ph = pool.outputSize(h1), pw = pool.outputSize(w1)
        let h2 = ph - 2, w2 = pw - 2, h3 = ph - 4, w3 = pw - 4
        guard h3 > 0, w3 > 0 else { return (0, 0) }
        PNetScratch.grow(&scratch.c1, conv1.pooled2Scratch(width: cols))
        PNetScratch.grow(&scratch.p1, 10 * ph * pw)
        PNetScratch.grow(&scratch.c2, 16 * h2 * w2)
        PNetScratch.grow(&scratch.head, 6 * h3 * w3)
        PNetScratch.grow(&scratch.wino, conv3w.scratchCount)
        let channelsLast = conv3Head.canRunHead(height: h2, width: w2, channelStride: 16)
        if channelsLast { PNetScratch.grow(&scratch.c2nhwc, 16 * h2 * w2) }
        scratch.input.withUnsafeBufferPointer { x in
        scratch.c1.withUnsafeMutableBufferPointer { c1 in
        scratch.p1.withUnsafeMutableBufferPointer { p1 in
        scratch.c2.withUnsafeMutableBufferPointer { c2 in
        scratch.head.withUnsafeMutableBufferPointer { hd in
        scratch.wino.withUnsafeMutableBufferPointer { wn in
        scratch.c2nhwc.withUnsafeMutableBufferPointer { c2n in
            guard let x = x.baseAddress, let c1 = c1.baseAddress, let p1 = p1.baseAddress, let c2 = c2.baseAddress,
                  let hd = hd.baseAddress, let wn = wn.baseAddress else { return }
            // conv1 + PReLU + 2x2 ceil-mode pool in one pass (the conv1 map is never stored).
            conv1.forwardValidPooled2(x, height: rows, width: cols, pooledH: ph, pooledW: pw, tmp: c1, into: p1)
            conv2.forwardValid(p1, height: ph, width: pw, into: c2)
            // conv3 + PReLU + the 6-channel head in one pass (the conv3 map is never stored).
            if channelsLast, let c2n = c2n.baseAddress {
                nn_planar_to_nhwc16(c2, 16, h2 * w2, c2n)
                conv3Head.forwardHead(c2n, images: 1, height: h2, width: w2, channelStride: 16, into: hd)
            } else {
                conv3w.forwardValid(c2, height: h2, width: w2, scratch: wn, into: hd)
            }
        }}}}}}}
        return (h3, w3)
    }
}

/// Face probability as torch.softmax computes it for two logits.
@inline(__always)
func faceProbability(_ a0: Float, _ a1: Float) -> Float {
    let m = max(a0, a1)
    let e0 = Foundation.exp(a0 - m), e1 = Foundation.exp(a1 - m)
    return e1 / (e0 + e1)
}
