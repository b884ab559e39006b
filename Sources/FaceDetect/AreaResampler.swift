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
    /// Size of the whole frame: crop geometry (clamping, padding) is always in frame pixels.
    let width: Int
    let height: Int
    /// The part of the frame the table covers: the whole frame for a full detection, a
    /// rectangle around the known faces for `refine`, where a full-frame table cost more than
    /// the two small nets. Window sums inside it are the same integers either way.
    let originX: Int
    let originY: Int
    let tableWidth: Int
    let tableHeight: Int
    /// (tableHeight + 1) x (tableWidth + 1) x 3, interleaved RGB; row 0 and column 0 are zero.
    let table: [UInt32]

    init(frame: Frame) {
        self.init(frame: frame, x0: 0, y0: 0, x1: frame.width, y1: frame.height)
    }

    /// The table of the frame's pixels [x0, x1) x [y0, y1), clamped to the frame.
    init(frame: Frame, x0: Int, y0: Int, x1: Int, y1: Int) {
        let width = frame.width, height = frame.height
        let ox = min(max(0, x0), width), oy = min(max(0, y0), height)
        let tw = max(0, min(width, x1) - ox), th = max(0, min(height, y1) - oy)
        self.width = width
        self.height = height
        originX = ox
        originY = oy
        tableWidth = tw
        tableHeight = th
        let count = (th + 1) * (tw + 1) * 3
        table = frame.pixels.withUnsafeBufferPointer { px in
            // The C kernel writes every entry, so the table needs no zeroing first.
            [UInt32](unsafeUninitializedCapacity: count) { buf, initialized in
                if let out = buf.baseAddress, let src = px.baseAddress {
                    nn_integral_rgb(src, frame.stride, Int32(ox), Int32(oy), Int32(tw), Int32(th), out)
                } else if let out = buf.baseAddress {
                    out.initialize(repeating: 0, count: count)
                }
                initialized = count
            }
        }
    }

    /// Whether the frame rectangle [x0, x1) x [y0, y1) lies inside the table.
    func covers(x0: Int, y0: Int, x1: Int, y1: Int) -> Bool {
        x0 >= originX && y0 >= originY && x1 <= originX + tableWidth && y1 <= originY + tableHeight
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

    /// Asks the memory system for the table rows `resampleInterleaved` of this region will read,
    /// without waiting for them (issued for the next crop while one is being resampled).
    func prefetch(x0: Int, y0: Int, w: Int, h: Int, outH: Int) {
        guard w > 0, h > 0, outH > 0, covers(x0: x0, y0: y0, x1: x0 + w, y1: y0 + h) else { return }
        table.withUnsafeBufferPointer { t in
            guard let tb = t.baseAddress else { return }
            nn_area_prefetch(tb, 3 * (tableWidth + 1), Int32(x0 - originX), Int32(y0 - originY), Int32(w), Int32(h), Int32(outH))
        }
    }

    /// The C kernel (integer window sums, then sum / kh / kw vectorized) on scratch of this call.
    private func run(x0: Int, y0: Int, w: Int, h: Int, outH: Int, outW: Int, rows: Range<Int>, interleaved: Bool,
                     into dst: UnsafeMutablePointer<Float>) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2 * outW) { cols in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * outW) { buf in
                withUnsafeTemporaryAllocation(of: Double.self, capacity: outW) { rkw in
                    withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 3 * (w + 1)) { d in
                        table.withUnsafeBufferPointer { t in
                            guard let tb = t.baseAddress, let cb = cols.baseAddress, let bb = buf.baseAddress,
                                  let rb = rkw.baseAddress, let db = d.baseAddress else { return }
                            nn_area_resample(tb, 3 * (tableWidth + 1), Int32(x0 - originX), Int32(y0 - originY), Int32(w), Int32(h),
                                             Int32(outH), Int32(outW), Int32(rows.lowerBound), Int32(rows.upperBound), interleaved ? 1 : 0,
                                             cb, bb, rb, db, dst)
                        }
                    }
                }
            }
        }
    }
}
