import CKernels
import Capture

/// Area resampling exactly as torch.nn.functional.interpolate(mode="area"), which is
/// adaptive average pooling: output cell i of n, from an input of m, averages input indices
/// [floor(i*m/n), ceil((i+1)*m/n)). Window sums come from a summed-area table of the frame, so
/// every pyramid level and every crop costs O(output) instead of O(input).
///
/// The table is UInt32 with wrapping arithmetic: a window sum is exact whenever the true sum is
/// below 2^32 (any window under 16 million pixels), even though the running totals wrap.
struct IntegralImage: Sendable {
    let width: Int
    let height: Int
    /// (height + 1) x (width + 1) x 3, interleaved RGB; row 0 and column 0 are zero.
    let table: [UInt32]

    init(frame: Frame) {
        let width = frame.width, height = frame.height
        self.width = width
        self.height = height
        let w1 = width + 1
        var t = [UInt32](repeating: 0, count: (height + 1) * w1 * 3)
        frame.pixels.withUnsafeBufferPointer { px in
            t.withUnsafeMutableBufferPointer { tb in
                for y in 0..<height {
                    let src = y * frame.stride
                    let above = y * w1 * 3, row = (y + 1) * w1 * 3
                    var r: UInt32 = 0, g: UInt32 = 0, b: UInt32 = 0
                    for x in 0..<width {
                        r &+= UInt32(px[src + 3 * x])
                        g &+= UInt32(px[src + 3 * x + 1])
                        b &+= UInt32(px[src + 3 * x + 2])
                        let o = 3 * (x + 1)
                        tb[row + o] = tb[above + o] &+ r
                        tb[row + o + 1] = tb[above + o + 1] &+ g
                        tb[row + o + 2] = tb[above + o + 2] &+ b
                    }
                }
            }
        }
        table = t
    }

    /// Area-resamples the region (x0, y0, w, h) of the frame to outH x outW, writes output rows
    /// `rows` as planar normalized floats ((v - 127.5) / 128) into `dst`, laid out
    /// [3][rows.count][outW]. Callers keep the region inside the frame and sizes positive.
    func resample(x0: Int, y0: Int, w: Int, h: Int, outH: Int, outW: Int, rows: Range<Int>,
                  into dst: UnsafeMutablePointer<Float>) {
        run(x0: x0, y0: y0, w: w, h: h, outH: outH, outW: outW, rows: rows, interleaved: false, into: dst)
    }

    /// `resample` of a whole region to outH x outW, written channels-last: `[outH][outW][3]`.
    func resampleInterleaved(x0: Int, y0: Int, w: Int, h: Int, outH: Int, outW: Int, into dst: UnsafeMutablePointer<Float>) {
        run(x0: x0, y0: y0, w: w, h: h, outH: outH, outW: outW, rows: 0..<outH, interleaved: true, into: dst)
    }

    /// The C kernel (integer window sums, then sum / kh / kw vectorized) on scratch of this call.
    private func run(x0: Int, y0: Int, w: Int, h: Int, outH: Int, outW: Int, rows: Range<Int>, interleaved: Bool,
                     into dst: UnsafeMutablePointer<Float>) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2 * outW) { cols in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * outW) { buf in
                withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 3 * (w + 1)) { d in
                    table.withUnsafeBufferPointer { t in
                        guard let tb = t.baseAddress, let cb = cols.baseAddress, let bb = buf.baseAddress,
                              let db = d.baseAddress else { return }
                        nn_area_resample(tb, 3 * (width + 1), Int32(x0), Int32(y0), Int32(w), Int32(h), Int32(outH), Int32(outW),
                                         Int32(rows.lowerBound), Int32(rows.upperBound), interleaved ? 1 : 0, cb, bb, db, dst)
                    }
                }
            }
        }
    }
}
