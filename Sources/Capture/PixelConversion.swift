/// Pixel format conversions done in Swift: the raw formats cameras send (FFmpeg is not
/// involved in these).
///
/// YUV is BT.601 limited range, what USB webcams (UVC) and V4L2's default for SDTV and webcam
/// sizes use. Integer arithmetic with 8 fractional bits:
/// R = 1.164(Y-16) + 1.596(V-128), G = 1.164(Y-16) - 0.391(U-128) - 0.813(V-128),
/// B = 1.164(Y-16) + 2.018(U-128), each rounded and clamped to 0...255.
///
/// Every converter takes the driver's line pitch (`bytesPerLine`, V4L2's `bytesperline`, the
/// luma plane's for planar formats), which may be more than the packed size; nil means packed.
/// Odd widths and heights use the last chroma sample for the last pixel or line.
public enum PixelConversion {
    /// YUYV 4:2:2 (Y0 U Y1 V for each pair of pixels), the format most webcams send raw.
    public static func yuyvToRGB(_ source: UnsafeBufferPointer<UInt8>, width: Int, height: Int,
                                 bytesPerLine: Int? = nil, name: String = "YUYV frame") throws -> [UInt8] {
        try packed422(source, width: width, height: height, bytesPerLine: bytesPerLine, name: name, format: "YUYV",
                      offsets: (y: 0, u: 1, v: 3))
    }

    /// UYVY 4:2:2 (U Y0 V Y1 for each pair of pixels).
    public static func uyvyToRGB(_ source: UnsafeBufferPointer<UInt8>, width: Int, height: Int,
                                 bytesPerLine: Int? = nil, name: String = "UYVY frame") throws -> [UInt8] {
        try packed422(source, width: width, height: height, bytesPerLine: bytesPerLine, name: name, format: "UYVY",
                      offsets: (y: 1, u: 0, v: 2))
    }

    /// NV12 4:2:0: the luma plane, then one plane of interleaved U V pairs at half the height
    /// with the luma plane's pitch.
    public static func nv12ToRGB(_ source: UnsafeBufferPointer<UInt8>, width: Int, height: Int,
                                 bytesPerLine: Int? = nil, name: String = "NV12 frame") throws -> [UInt8] {
        let line = bytesPerLine ?? width
        let chromaWidth = (width + 1) / 2, chromaHeight = (height + 1) / 2
        let lumaSize = line * height
        let needed = lumaSize + line * (chromaHeight - 1) + 2 * chromaWidth
        guard width > 0, height > 0, line >= width, line >= 2 * chromaWidth, source.count >= needed,
              let base = source.baseAddress else {
            throw tooShort(name, source.count, width, height, "NV12", line)
        }
        let chroma = base + lumaSize
        return convert(width: width, height: height, layout: YUVLayout(
            luma: base, lumaLine: line, lumaStep: 1,
            u: chroma, v: chroma + 1, chromaLine: line, chromaStep: 2, lumaRowsPerChromaRow: 2))
    }

    /// YU12 (I420) 4:2:0: the luma plane, then the U plane, then the V plane, each chroma plane
    /// at half the width and height with half the luma pitch (V4L2's layout for YUV420).
    public static func yu12ToRGB(_ source: UnsafeBufferPointer<UInt8>, width: Int, height: Int,
                                 bytesPerLine: Int? = nil, name: String = "YU12 frame") throws -> [UInt8] {
        let line = bytesPerLine ?? width
        let chromaWidth = (width + 1) / 2, chromaHeight = (height + 1) / 2
        let chromaLine = (line + 1) / 2
        let lumaSize = line * height, chromaSize = chromaLine * chromaHeight
        let needed = lumaSize + chromaSize + chromaLine * (chromaHeight - 1) + chromaWidth
        guard width > 0, height > 0, line >= width, chromaLine >= chromaWidth, source.count >= needed,
              let base = source.baseAddress else {
            throw tooShort(name, source.count, width, height, "YU12", line)
        }
        return convert(width: width, height: height, layout: YUVLayout(
            luma: base, lumaLine: line, lumaStep: 1,
            u: base + lumaSize, v: base + lumaSize + chromaSize, chromaLine: chromaLine, chromaStep: 1,
            lumaRowsPerChromaRow: 2))
    }

    /// RGB24 (R G B) or BGR24 (B G R) to packed RGB24: lines copied without their padding, the
    /// channels swapped for BGR.
    public static func rgb24ToRGB(_ source: UnsafeBufferPointer<UInt8>, width: Int, height: Int,
                                  bytesPerLine: Int? = nil, blueFirst: Bool = false,
                                  name: String = "RGB24 frame") throws -> [UInt8] {
        let stride = 3 * width
        let line = bytesPerLine ?? stride
        guard width > 0, height > 0, line >= stride, source.count >= line * (height - 1) + stride,
              let base = source.baseAddress else {
            throw tooShort(name, source.count, width, height, blueFirst ? "BGR24" : "RGB24", line)
        }
        return [UInt8](unsafeUninitializedCapacity: stride * height) { output, count in
            guard let out = output.baseAddress else { return }
            for y in 0..<height {
                let row = base + y * line, outRow = out + y * stride
                if blueFirst {
                    for x in 0..<width {
                        outRow[3 * x] = row[3 * x + 2]
                        outRow[3 * x + 1] = row[3 * x + 1]
                        outRow[3 * x + 2] = row[3 * x]
                    }
                } else {
                    outRow.update(from: row, count: stride)
                }
            }
            count = stride * height
        }
    }

    /// The array forms, for tests and small buffers.
    public static func yuyvToRGB(_ source: [UInt8], width: Int, height: Int, bytesPerLine: Int? = nil) throws -> [UInt8] {
        try source.withUnsafeBufferPointer { try yuyvToRGB($0, width: width, height: height, bytesPerLine: bytesPerLine) }
    }

    // MARK: - The shared kernel

    /// Where a picture's samples are: luma sample x of line y is at
    /// `luma + y * lumaLine + x * lumaStep`; the chroma pair for it at
    /// `u/v + (y / lumaRowsPerChromaRow) * chromaLine + (x / 2) * chromaStep`.
    private struct YUVLayout {
        var luma: UnsafePointer<UInt8>
        var lumaLine: Int
        var lumaStep: Int
        var u: UnsafePointer<UInt8>
        var v: UnsafePointer<UInt8>
        var chromaLine: Int
        var chromaStep: Int
        var lumaRowsPerChromaRow: Int
    }

    private static func packed422(_ source: UnsafeBufferPointer<UInt8>, width: Int, height: Int, bytesPerLine: Int?,
                                  name: String, format: String, offsets: (y: Int, u: Int, v: Int)) throws -> [UInt8] {
        let pairs = (width + 1) / 2
        let line = bytesPerLine ?? 4 * pairs
        guard width > 0, height > 0, line >= 4 * pairs, source.count >= line * (height - 1) + 4 * pairs,
              let base = source.baseAddress else {
            throw tooShort(name, source.count, width, height, format, line)
        }
        return convert(width: width, height: height, layout: YUVLayout(
            luma: base + offsets.y, lumaLine: line, lumaStep: 2,
            u: base + offsets.u, v: base + offsets.v, chromaLine: line, chromaStep: 4, lumaRowsPerChromaRow: 1))
    }

    private static func convert(width: Int, height: Int, layout: YUVLayout) -> [UInt8] {
        let stride = 3 * width
        return [UInt8](unsafeUninitializedCapacity: stride * height) { output, count in
            guard let out = output.baseAddress else { return }
            for y in 0..<height {
                let lumaRow = layout.luma + y * layout.lumaLine
                let chromaOffset = (y / layout.lumaRowsPerChromaRow) * layout.chromaLine
                let uRow = layout.u + chromaOffset, vRow = layout.v + chromaOffset
                let outRow = out + y * stride
                var x = 0
                while x < width {
                    let pair = (x / 2) * layout.chromaStep
                    let u = Int32(uRow[pair]) - 128, v = Int32(vRow[pair]) - 128
                    let redOffset = 409 * v + 128
                    let greenOffset = -100 * u - 208 * v + 128
                    let blueOffset = 516 * u + 128
                    store(luma: lumaRow[x * layout.lumaStep], redOffset, greenOffset, blueOffset, at: outRow + 3 * x)
                    if x + 1 < width {
                        store(luma: lumaRow[(x + 1) * layout.lumaStep], redOffset, greenOffset, blueOffset, at: outRow + 3 * x + 3)
                    }
                    x += 2
                }
            }
            count = stride * height
        }
    }

    private static func tooShort(_ name: String, _ count: Int, _ width: Int, _ height: Int, _ format: String, _ line: Int) -> CaptureError {
        .unsupportedPixelFormat(input: name, reason: "\(count) bytes are too few for \(width)x\(height) \(format) with \(line) bytes a line")
    }

    @inline(__always)
    private static func store(luma: UInt8, _ red: Int32, _ green: Int32, _ blue: Int32, at out: UnsafeMutablePointer<UInt8>) {
        let c = 298 * (Int32(luma) - 16)
        out[0] = clamp((c + red) >> 8)
        out[1] = clamp((c + green) >> 8)
        out[2] = clamp((c + blue) >> 8)
    }

    @inline(__always)
    private static func clamp(_ value: Int32) -> UInt8 {
        UInt8(truncatingIfNeeded: min(255, max(0, value)))
    }
}
