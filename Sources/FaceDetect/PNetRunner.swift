import CKernels
import Foundation
import NeuralNet

/// Floats owned by one scratch set: grows (never shrinks) and is read and written through
/// `pointer`, so the kernels get plain pointers without a closure per buffer. Every allocation
/// carries `Conv2D.inputSlack` floats past the requested size (the kernels read a few floats
/// beyond a row's end) and starts zeroed.
final class ScratchBuffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    init() {
        capacity = Conv2D.inputSlack
        pointer = .allocate(capacity: capacity)
        pointer.initialize(repeating: 0, count: capacity)
    }

    deinit { pointer.deallocate() }

    /// Makes room for `count` floats (contents are not kept across a growth) and returns the pointer.
    @discardableResult
    func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        let needed = count + Conv2D.inputSlack
        if needed > capacity {
            pointer.deallocate()
            pointer = .allocate(capacity: needed)
            pointer.initialize(repeating: 0, count: needed)
            capacity = needed
        }
        return pointer
    }

    subscript(index: Int) -> Float {
        precondition(index >= 0 && index < capacity, "scratch index \(index) outside \(capacity)")
        return pointer[index]
    }
}

/// Buffers for one P-Net tile or crop group, reused from tile to tile and frame to frame.
final class PNetScratch {
    let c1 = ScratchBuffer(), p1 = ScratchBuffer(), c2 = ScratchBuffer()
    let c2nhwc = ScratchBuffer(), p1nhwc = ScratchBuffer(), head = ScratchBuffer()
    /// Winograd transforms of one tile group of conv3.
    let wino = ScratchBuffer()
    /// Ping-pong activations of a group of R-Net / O-Net crops.
    let cropA = ScratchBuffer(), cropB = ScratchBuffer()
}

/// A few reusable objects (scratch sets, pyramid buffers) shared by the threads of one
/// detector: a tile or a frame takes one and gives it back, so buffers grown once are reused
/// from frame to frame.
final class ReusePool<Object: AnyObject>: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [Object] = []
    private let make: @Sendable () -> Object

    init(_ make: @escaping @Sendable () -> Object) { self.make = make }

    func take() -> Object {
        lock.lock()
        let o = free.popLast()
        lock.unlock()
        return o ?? make()
    }

    func give(_ o: Object) {
        lock.lock(); defer { lock.unlock() }
        if free.count < 8 { free.append(o) }
    }
}

typealias ScratchPool = ReusePool<PNetScratch>

extension PNet {
    /// The P-Net map of one `[3, rows, cols]` input (channel planes `planeRows` rows apart):
    /// fills
    /// `scratch.head` with `[6, mapH, mapW]` raw outputs (2 logits, 4 regression values) and
    /// returns the map size. No allocation once the scratch has grown to the tile size.
    func forwardInPlace(_ scratch: PNetScratch, input x: UnsafePointer<Float>, planeRows: Int, rows: Int, cols: Int) -> (mapH: Int, mapW: Int) {
        let h1 = rows - 2, w1 = cols - 2
        let ph = pool.outputSize(h1), pw = pool.outputSize(w1)
        let h2 = ph - 2, w2 = pw - 2, h3 = ph - 4, w3 = pw - 4
        guard h3 > 0, w3 > 0 else { return (0, 0) }
        let c1 = scratch.c1.reserve(conv1.pooled2Scratch(width: cols))
        let p1 = scratch.p1.reserve(10 * ph * pw)
        let head = scratch.head.reserve(6 * h3 * w3)
        // conv1 + PReLU + 2x2 ceil-mode pool in one pass (the conv1 map is never stored).
        conv1.forwardValidPooled2(x, height: rows, planeRows: planeRows, width: cols, pooledH: ph, pooledW: pw, tmp: c1, into: p1)
        if conv3Head.canRunHead(height: h2, width: w2, channelStride: 16) {
            // conv2 and conv3 channels-last, both Winograd F(4x4, 3x3); conv3 + PReLU + the
            // 6-channel head in one pass (the conv3 map is never stored).
            let p1n = scratch.p1nhwc.reserve(16 * ph * pw)
            nn_planar_to_nhwc16(p1, 10, ph * pw, p1n)
            let c2n = scratch.c2nhwc.reserve(16 * h2 * w2)
            conv2w.forward(p1n, images: 1, height: ph, width: pw, channelStride: 16, into: c2n, parallel: false)
            conv3Head.forwardHead(c2n, images: 1, height: h2, width: w2, channelStride: 16, into: head)
        } else {
            let c2 = scratch.c2.reserve(16 * h2 * w2)
            conv2.forwardValid(p1, height: ph, width: pw, into: c2)
            conv3w.forwardValid(c2, height: h2, width: w2, scratch: scratch.wino.reserve(conv3w.scratchCount), into: head)
        }
        return (h3, w3)
    }
}

extension PNet {
    /// Map rows of the smallest chunk `forwardChunk` runs: conv3's channels-last kernel needs a
    /// conv2 map of at least 6 rows, i.e. 8 pooled rows, 4 map rows.
    static let minChunkRows = 4

    /// Whether a level `mapWidth` cells wide can run in chunks (conv2's map at least 6 wide).
    static func runsInChunks(mapWidth: Int) -> Bool { mapWidth >= 4 }

    /// One chunk of a strip of map rows: conv1 + PReLU + pool of the `inputRows` rows at
    /// `input` (channel planes `planeRows` rows apart; `newPooled` pooled rows), transposed channels-last after the `carried`
    /// pooled rows the previous chunk left at the start of `scratch.p1nhwc`, then conv2 and
    /// conv3 + head over all of them: `scratch.head` gets `carried + newPooled - 4` map rows.
    /// Then the last 4 pooled rows move to the start, for the next chunk: a strip computes each
    /// pooled row once, where independent bands each recomputed the 4 above them (and the 8
    /// input rows and 8 conv1 rows under those). The caller reserves `scratch.p1nhwc` for the
    /// strip's largest chunk before the first (a growth does not keep the carried rows), and
    /// keeps `carried + newPooled >= 8` and the pooled map at least 8 wide.
    func forwardChunk(_ scratch: PNetScratch, input: UnsafePointer<Float>, planeRows: Int, inputRows: Int, cols: Int,
                      newPooled: Int, carried: Int) -> (mapH: Int, mapW: Int) {
        let pw = pool.outputSize(cols - 2)
        let rows = carried + newPooled
        let h2 = rows - 2, w2 = pw - 2, h3 = rows - 4, w3 = pw - 4
        // The caller's sizes guarantee this; a map returned empty would lose the chunk's cells.
        assert(rows >= 8 && pw >= 8, "chunk of \(rows) pooled rows, \(pw) wide: too small for forwardChunk")
        guard h3 > 0, w3 > 0, conv3Head.canRunHead(height: h2, width: w2, channelStride: 16) else { return (0, 0) }
        let c1 = scratch.c1.reserve(conv1.pooled2Scratch(width: cols))
        let p1 = scratch.p1.reserve(10 * newPooled * pw)
        let head = scratch.head.reserve(6 * h3 * w3)
        conv1.forwardValidPooled2(input, height: inputRows, planeRows: planeRows, width: cols, pooledH: newPooled, pooledW: pw, tmp: c1, into: p1)
        let p1n = scratch.p1nhwc.pointer
        nn_planar_to_nhwc16(p1, 10, newPooled * pw, p1n + carried * pw * 16)
        let c2n = scratch.c2nhwc.reserve(16 * h2 * w2)
        conv2w.forward(p1n, images: 1, height: rows, width: pw, channelStride: 16, into: c2n, parallel: false)
        conv3Head.forwardHead(c2n, images: 1, height: h2, width: w2, channelStride: 16, into: head)
        p1n.update(from: p1n + (rows - 4) * pw * 16, count: 4 * pw * 16)
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
