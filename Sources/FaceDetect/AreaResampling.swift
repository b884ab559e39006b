import CKernels
import Capture

/// Area resampling exactly as torch.nn.functional.interpolate(mode="area"), which is
/// adaptive average pooling: output cell i of n, from an input of m, averages input indices
/// [floor(i*m/n), ceil((i+1)*m/n)), then normalized as MTCNN feeds its nets ((v - 127.5) / 128).
/// Window sums are integers taken straight from the frame's RGB24 bytes (`area.c`): the
/// pyramid in one sweep down the frame, a crop from its own rows.
enum AreaResampling {
    /// Output rows `rows` of the frame resampled to `outH x outW`, written planar at `dst`:
    /// row i of channel c at `dst + (c * planeRows + i - rows.lowerBound) * outW`.
    struct LevelRows {
        let outH: Int, outW: Int
        let rows: Range<Int>
        let planeRows: Int
        let dst: UnsafeMutablePointer<Float>
    }

    /// Every level's rows in one pass over the frame rows their windows cover.
    /// Precondition (the caller's): a frame whose buffer holds its rows, positive sizes.
    static func pyramid(_ frame: Frame, _ levels: [LevelRows]) {
        let specs = levels.filter { !$0.rows.isEmpty }.map {
            nn_area_level(outH: Int32($0.outH), outW: Int32($0.outW), row0: Int32($0.rows.lowerBound),
                          row1: Int32($0.rows.upperBound), planeRows: $0.planeRows, dst: $0.dst)
        }
        guard !specs.isEmpty else { return }
        let w = Int32(frame.width)
        let bytes = nn_area_pyramid_scratch_size(w, Int32(specs.count), specs)
        withUnsafeTemporaryAllocation(byteCount: bytes, alignment: 64) { scratch in
            frame.pixels.withUnsafeBufferPointer { px in
                guard let src = px.baseAddress, let s = scratch.baseAddress else { return }
                nn_area_pyramid(src, frame.stride, w, Int32(frame.height), Int32(specs.count), specs, s)
            }
        }
    }

    /// The region (x0, y0, w, h) of the frame resampled to `outH x outW`, channels-last
    /// (`[outH][outW][3]`). Precondition: the region inside the frame, positive sizes.
    static func crop(_ frame: Frame, x0: Int, y0: Int, w: Int, h: Int, outH: Int, outW: Int, into dst: UnsafeMutablePointer<Float>) {
        let bytes = nn_area_crop_scratch_size(Int32(w), Int32(outW))
        withUnsafeTemporaryAllocation(byteCount: bytes, alignment: 64) { scratch in
            frame.pixels.withUnsafeBufferPointer { px in
                guard let src = px.baseAddress, let s = scratch.baseAddress else { return }
                nn_area_crop(src, frame.stride, Int32(x0), Int32(y0), Int32(w), Int32(h), Int32(outH), Int32(outW), s, dst)
            }
        }
    }
}
