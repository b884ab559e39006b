import Capture
import CoreTypes
import Foundation

/// Where a face sits in a FER2013 48x48 image, in the 48x48 frame's pixel units (origin at the
/// top-left corner of the top-left pixel). The classifier was trained on faces framed this way,
/// so a face found in a video frame is cut out to land at the same place and scale.
public struct FaceGeometry: Sendable, Equatable {
    /// Midpoint of the two eyes.
    public var eyeCenter: Point
    /// Distance between the eyes.
    public var eyeDistance: Float
    /// Distance from the eyes' midpoint to the mouth corners' midpoint.
    public var eyeToMouth: Float
    /// The MTCNN box of a FER face (used when a face comes without landmarks).
    public var box: Box

    public init(eyeCenter: Point, eyeDistance: Float, eyeToMouth: Float, box: Box) {
        self.eyeCenter = eyeCenter; self.eyeDistance = eyeDistance; self.eyeToMouth = eyeToMouth; self.box = box
    }

    /// Measured with `fer-live measure-framing` (Sources/fer-live/MeasureFramingCommand.swift):
    /// the first 400 PublicTest rows of ../shared/data/fer2013, each upscaled 48 -> 192
    /// (bilinear) and centred on a 288x288 mid-gray canvas, through this project's MTCNN (default
    /// options): 356 of 400 faces found; medians mapped back to 48x48 units (quartiles in
    /// Sources/Classifier/README.md). Eye midpoint measured at (24.3, 18.7): x is set to the
    /// centre, 24, since training flips faces left-right. Eye distance (median 17.9) and
    /// eye-to-mouth distance (19.2) are stretched together by the median of the larger ratio so
    /// the crop scale is 1 on the median FER face. Box: median MTCNN box (landmark-free faces).
    public static let fer2013 = FaceGeometry(
        eyeCenter: Point(x: 24.0, y: 18.7), eyeDistance: 18.6, eyeToMouth: 19.9,
        box: Box(x: 4.3, y: -0.5, width: 38.3, height: 49.8))
}

/// Maps output pixel (u, v) of the 48x48 crop (pixel centres at +0.5) to source coordinates:
/// `source = origin + u' * axisU + v' * axisV`, with u' = u + 0.5 etc.
public struct CropTransform: Sendable, Equatable {
    /// Source position of the output's top-left corner.
    public var origin: Point
    /// Source displacement of one output pixel step along x and along y.
    public var axisU: Point
    public var axisV: Point

    /// Source pixels per output pixel.
    public var scale: Float { (axisU.x * axisU.x + axisU.y * axisU.y).squareRoot() }
    /// True when the crop is not rotated (the fast separable path applies).
    public var isAxisAligned: Bool { abs(axisU.y) <= 1e-4 * scale && abs(axisV.x) <= 1e-4 * scale }

    public func apply(_ u: Float, _ v: Float) -> Point {
        Point(x: origin.x + u * axisU.x + v * axisV.x, y: origin.y + u * axisU.y + v * axisV.y)
    }
}

/// Cuts faces out of RGB frames into normalised gray model input, framed like FER2013.
///
/// Steps, all in one pass from the RGB frame into the float buffer: the crop geometry (eyes level
/// when `align` and landmarks are there; scale from eye distance and eye-to-mouth distance,
/// whichever is larger, so a turned or tilted head does not zoom in), gray by ITU-R BT.601
/// (0.299 R + 0.587 G + 0.114 B, as the model JSON says), area averaging when shrinking and
/// bilinear interpolation when enlarging (per-axis weights computed once per face), then
/// `(gray * scale - mean) / std`. Outside the frame the border pixels are repeated.
public struct FacePreprocessor: Sendable {
    public let size: Int
    public let normalization: Preprocessing
    public var geometry: FaceGeometry
    /// Rotate so the eyes are level (needs landmarks). Otherwise crops are axis-aligned.
    public var align: Bool
    /// Rotations below this angle (radians) are ignored: the separable path is faster and sharper.
    public var minRotation: Float = 1.5 * .pi / 180

    public init(size: Int = 48, normalization: Preprocessing, geometry: FaceGeometry = .fer2013, align: Bool = true) {
        self.size = max(1, size)
        self.normalization = normalization
        self.geometry = geometry
        self.align = align
    }

    // MARK: geometry

    /// Where the crop of `face` comes from, in source pixels.
    public func transform(for face: Face) -> CropTransform {
        let k = Float(size) / 48
        let g = geometry
        let lm = face.landmarks
        if lm.count >= 2, lm.allSatisfy({ $0.x.isFinite && $0.y.isFinite }) {
            let le = lm[0], re = lm[1]
            let ex = re.x - le.x, ey = re.y - le.y
            let eyeDist = (ex * ex + ey * ey).squareRoot()
            let mid = Point(x: (le.x + re.x) / 2, y: (le.y + re.y) / 2)
            var s = eyeDist / (g.eyeDistance * k)
            if lm.count >= 5 {
                let mouth = Point(x: (lm[3].x + lm[4].x) / 2, y: (lm[3].y + lm[4].y) / 2)
                let mx = mouth.x - mid.x, my = mouth.y - mid.y
                s = max(s, (mx * mx + my * my).squareRoot() / (g.eyeToMouth * k))
            }
            // A degenerate landmark set (all points together) falls back to the box.
            if s > 1e-3, s.isFinite {
                var angle = align ? atan2f(ey, ex) : 0
                if abs(angle) < minRotation { angle = 0 }
                let c = cosf(angle) * s, sn = sinf(angle) * s
                let axisU = Point(x: c, y: sn), axisV = Point(x: -sn, y: c)
                let cu = g.eyeCenter.x * k, cv = g.eyeCenter.y * k
                let origin = Point(x: mid.x - cu * axisU.x - cv * axisV.x, y: mid.y - cu * axisU.y - cv * axisV.y)
                return CropTransform(origin: origin, axisU: axisU, axisV: axisV)
            }
        }
        // Box only: the detector's box lands where MTCNN puts it on FER faces.
        let sx = max(face.box.width, 1e-3) / (g.box.width * k), sy = max(face.box.height, 1e-3) / (g.box.height * k)
        let s = (sx + sy) / 2
        return CropTransform(origin: Point(x: face.box.x - g.box.x * k * s, y: face.box.y - g.box.y * k * s),
                             axisU: Point(x: s, y: 0), axisV: Point(x: 0, y: s))
    }

    // MARK: sampling

    /// Writes `size * size` normalised values for `face` into `out` (row-major), mirrored
    /// left-right when `mirrored`. The frame must hold `stride * height` bytes (checked).
    public func crop(_ face: Face, in frame: Frame, into out: UnsafeMutableBufferPointer<Float>, mirrored: Bool = false) throws {
        try crop(transform(for: face), in: frame, into: out, mirrored: mirrored)
    }

    /// One crop as a new array.
    public func crop(_ face: Face, in frame: Frame, mirrored: Bool = false) throws -> [Float] {
        var out = [Float](repeating: 0, count: size * size)
        try out.withUnsafeMutableBufferPointer { try crop(face, in: frame, into: $0, mirrored: mirrored) }
        return out
    }

    public func crop(_ t: CropTransform, in frame: Frame, into out: UnsafeMutableBufferPointer<Float>, mirrored: Bool = false) throws {
        guard out.count >= size * size else {
            throw ClassifierError.badRequest(reason: "crop buffer holds \(out.count) values, needs \(size * size)")
        }
        guard frame.width > 0, frame.height > 0, frame.stride >= 3 * frame.width,
              frame.pixels.count >= frame.stride * (frame.height - 1) + 3 * frame.width else {
            throw ClassifierError.badRequest(reason: "frame \(frame.index): \(frame.pixels.count) bytes for \(frame.width)x\(frame.height) RGB24 with stride \(frame.stride)")
        }
        guard [t.origin.x, t.origin.y, t.axisU.x, t.axisU.y, t.axisV.x, t.axisV.y].allSatisfy({ $0.isFinite && abs($0) < 1e7 }),
              t.scale > 0 else {
            throw ClassifierError.badRequest(reason: "frame \(frame.index): face geometry is not finite")
        }
        if t.isAxisAligned {
            separable(t, frame, out)
        } else if t.scale <= 1 {
            rotatedBilinear(t, frame, out)
        } else {
            rotatedShrinking(t, frame, out)
        }
        let m = normalization.multiplier, o = normalization.offset
        let n = size
        for i in 0..<(n * n) { out[i] = out[i] * m + o }
        if mirrored {
            for y in 0..<n {
                let row = y * n
                for x in 0..<(n / 2) { out.swapAt(row + x, row + n - 1 - x) }
            }
        }
    }

    /// Per-axis resampling weights: output i covers source [start + i*step, start + (i+1)*step).
    /// Area (box filter with fractional edge weights) when step > 1, bilinear at the cell centre
    /// otherwise; indices clamped into 0..<limit (the border repeats). Weights of each output sum to 1.
    struct AxisWeights {
        var first: [Int32] = []    // first tap index per output
        var offsets: [Int32] = []  // taps of output i are [offsets[i], offsets[i+1]) in idx/w
        var idx: [Int32] = []
        var w: [Float] = []

        init(start: Float, step: Float, count: Int, limit: Int) {
            offsets.reserveCapacity(count + 1)
            offsets.append(0)
            let last = limit - 1
            for i in 0..<count {
                if step > 1 {
                    let a = start + Float(i) * step, b = a + step
                    // The parts outside the frame weigh on the border pixel as one tap each,
                    // so a huge or far-off crop costs no more than the frame is wide.
                    if a < 0 { idx.append(0); w.append((min(b, 0) - a) / step) }
                    if b > Float(limit) { idx.append(Int32(last)); w.append((b - max(a, Float(limit))) / step) }
                    var p = max(0, Int(floorf(max(a, 0))))
                    let end = min(limit, Int(ceilf(min(b, Float(limit)))))
                    while p < end {
                        let lo = max(a, Float(p)), hi = min(b, Float(p + 1))
                        if hi > lo {
                            idx.append(Int32(p))
                            w.append((hi - lo) / step)
                        }
                        p += 1
                    }
                } else {
                    let c = start + (Float(i) + 0.5) * step - 0.5
                    let f = floorf(c), t = c - f
                    let p = Int(f)
                    idx.append(Int32(min(max(p, 0), last))); w.append(1 - t)
                    idx.append(Int32(min(max(p + 1, 0), last))); w.append(t)
                }
                offsets.append(Int32(idx.count))
            }
        }

        var minIndex: Int { Int(idx.min() ?? 0) }
        var maxIndex: Int { Int(idx.max() ?? 0) }
    }

    @inline(__always)
    private static func gray(_ p: UnsafePointer<UInt8>) -> Float {
        0.299 * Float(p[0]) + 0.587 * Float(p[1]) + 0.114 * Float(p[2])
    }

    /// Axis-aligned: horizontal pass over the source rows the crop touches (gray on the fly),
    /// then a vertical pass; result is gray 0-255 (normalised by the caller).
    private func separable(_ t: CropTransform, _ frame: Frame, _ out: UnsafeMutableBufferPointer<Float>) {
        let n = size
        let wx = AxisWeights(start: t.origin.x, step: t.axisU.x, count: n, limit: frame.width)
        let wy = AxisWeights(start: t.origin.y, step: t.axisV.y, count: n, limit: frame.height)
        let r0 = wy.minIndex, r1 = wy.maxIndex
        let c0 = wx.minIndex, c1 = wx.maxIndex
        var rows = [Float](repeating: 0, count: (r1 - r0 + 1) * n)
        // One source row at a time: gray for the columns the crop reads (contiguous, cheap), then
        // the horizontal taps on those floats.
        var line = [Float](repeating: 0, count: c1 - c0 + 1)
        let stride = frame.stride
        frame.pixels.withUnsafeBufferPointer { px in
            guard let base = px.baseAddress else { return }
            rows.withUnsafeMutableBufferPointer { rb in
                line.withUnsafeMutableBufferPointer { lb in
                    wx.offsets.withUnsafeBufferPointer { off in
                        wx.idx.withUnsafeBufferPointer { xi in
                            wx.w.withUnsafeBufferPointer { xw in
                                for r in r0...r1 {
                                    let src = base + r * stride + 3 * c0
                                    for c in 0..<lb.count {
                                        lb[c] = 0.299 * Float(src[3 * c]) + 0.587 * Float(src[3 * c + 1]) + 0.114 * Float(src[3 * c + 2])
                                    }
                                    let dst = (r - r0) * n
                                    for i in 0..<n {
                                        var s: Float = 0
                                        for k in Int(off[i])..<Int(off[i + 1]) { s += xw[k] * lb[Int(xi[k]) - c0] }
                                        rb[dst + i] = s
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        rows.withUnsafeBufferPointer { rb in
            for j in 0..<n {
                let o = j * n
                for i in 0..<n { out[o + i] = 0 }
                for k in Int(wy.offsets[j])..<Int(wy.offsets[j + 1]) {
                    let wgt = wy.w[k], src = (Int(wy.idx[k]) - r0) * n
                    for i in 0..<n { out[o + i] += wgt * rb[src + i] }
                }
            }
        }
    }

    /// Rotated and enlarging (or 1:1): bilinear straight from the frame.
    private func rotatedBilinear(_ t: CropTransform, _ frame: Frame, _ out: UnsafeMutableBufferPointer<Float>) {
        let n = size, w = frame.width, h = frame.height, stride = frame.stride
        frame.pixels.withUnsafeBufferPointer { px in
            guard let base = px.baseAddress else { return }
            for v in 0..<n {
                for u in 0..<n {
                    let p = t.apply(Float(u) + 0.5, Float(v) + 0.5)
                    out[v * n + u] = Self.bilinear(x: p.x - 0.5, y: p.y - 0.5, w: w, h: h) { xx, yy in
                        Self.gray(base + yy * stride + 3 * xx)
                    }
                }
            }
        }
    }

    @inline(__always)
    private static func bilinear(x: Float, y: Float, w: Int, h: Int, _ at: (Int, Int) -> Float) -> Float {
        let fx = floorf(x), fy = floorf(y)
        let tx = x - fx, ty = y - fy
        let x0 = min(max(Int(fx), 0), w - 1), x1 = min(max(Int(fx) + 1, 0), w - 1)
        let y0 = min(max(Int(fy), 0), h - 1), y1 = min(max(Int(fy) + 1, 0), h - 1)
        let top = at(x0, y0) * (1 - tx) + at(x1, y0) * tx
        let bottom = at(x0, y1) * (1 - tx) + at(x1, y1) * tx
        return top * (1 - ty) + bottom * ty
    }

    /// Rotated and shrinking: area-average the axis-aligned square around the crop down to the
    /// output's pixel size (separable, as above), then rotate that small image bilinearly.
    private func rotatedShrinking(_ t: CropTransform, _ frame: Frame, _ out: UnsafeMutableBufferPointer<Float>) {
        let n = size, s = t.scale
        let cosA = t.axisU.x / s, sinA = t.axisU.y / s
        // Intermediate grid: source-aligned, pixel size s, covering the rotated square (+1 px margin).
        let m = Int(ceilf(Float(n) * (abs(cosA) + abs(sinA)))) + 2
        let centre = t.apply(Float(n) / 2, Float(n) / 2)
        let gx0 = centre.x - Float(m) * s / 2, gy0 = centre.y - Float(m) * s / 2
        let mid = FacePreprocessor(size: m, normalization: normalization, geometry: geometry, align: false)
        var grid = [Float](repeating: 0, count: m * m)
        grid.withUnsafeMutableBufferPointer { g in
            mid.separable(CropTransform(origin: Point(x: gx0, y: gy0), axisU: Point(x: s, y: 0), axisV: Point(x: 0, y: s)),
                          frame, g)
        }
        grid.withUnsafeBufferPointer { g in
            for v in 0..<n {
                for u in 0..<n {
                    let p = t.apply(Float(u) + 0.5, Float(v) + 0.5)
                    let gx = (p.x - gx0) / s - 0.5, gy = (p.y - gy0) / s - 0.5
                    out[v * n + u] = Self.bilinear(x: gx, y: gy, w: m, h: m) { xx, yy in g[yy * m + xx] }
                }
            }
        }
    }
}
