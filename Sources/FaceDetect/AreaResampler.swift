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
        let w1 = width + 1
        let plane = rows.count * outW
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * outW) { cols in
            for j in 0..<outW {
                cols[2 * j] = (j * w) / outW
                cols[2 * j + 1] = ((j + 1) * w + outW - 1) / outW
            }
            table.withUnsafeBufferPointer { t in
                for (ri, i) in rows.enumerated() {
                    let ya = (i * h) / outH, yb = ((i + 1) * h + outH - 1) / outH
                    let kh = Float(yb - ya)
                    let top = (y0 + ya) * w1 * 3, bottom = (y0 + yb) * w1 * 3
                    let out = dst + ri * outW
                    for j in 0..<outW {
                        let xa = 3 * (x0 + cols[2 * j]), xb = 3 * (x0 + cols[2 * j + 1])
                        let kw = Float(cols[2 * j + 1] - cols[2 * j])
                        for c in 0..<3 {
                            let s = t[bottom + xb + c] &- t[bottom + xa + c] &- t[top + xb + c] &+ t[top + xa + c]
                            out[c * plane + j] = (Float(s) / kh / kw - 127.5) * 0.0078125
                        }
                    }
                }
            }
        }
    }

    /// `resample` of a whole region to outH x outW, written channels-last: `[outH][outW][3]`.
    func resampleInterleaved(x0: Int, y0: Int, w: Int, h: Int, outH: Int, outW: Int, into dst: UnsafeMutablePointer<Float>) {
        let w1 = width + 1
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * outW) { cols in
            for j in 0..<outW {
                cols[2 * j] = 3 * (x0 + (j * w) / outW)
                cols[2 * j + 1] = 3 * (x0 + ((j + 1) * w + outW - 1) / outW)
            }
            table.withUnsafeBufferPointer { t in
                for i in 0..<outH {
                    let ya = (i * h) / outH, yb = ((i + 1) * h + outH - 1) / outH
                    let kh = Float(yb - ya)
                    let top = (y0 + ya) * w1 * 3, bottom = (y0 + yb) * w1 * 3
                    let out = dst + i * outW * 3
                    for j in 0..<outW {
                        let xa = cols[2 * j], xb = cols[2 * j + 1]
                        let kw = Float((xb - xa) / 3)
                        for c in 0..<3 {
                            let s = t[bottom + xb + c] &- t[bottom + xa + c] &- t[top + xb + c] &+ t[top + xa + c]
                            out[3 * j + c] = (Float(s) / kh / kw - 127.5) * 0.0078125
                        }
                    }
                }
            }
        }
    }
}
