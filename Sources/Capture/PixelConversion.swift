/// Pixel format conversions done in Swift (camera formats FFmpeg is not involved in).
public enum PixelConversion {
    /// YUYV 4:2:2 (bytes Y0 U Y1 V for each pair of pixels) to RGB24, BT.601 limited range, the
    /// encoding USB webcams use. Integer arithmetic with 8 fractional bits:
    /// R = 1.164(Y-16) + 1.596(V-128), G = 1.164(Y-16) - 0.391(U-128) - 0.813(V-128),
    /// B = 1.164(Y-16) + 2.018(U-128), each rounded and clamped to 0...255.
    ///
    /// `bytesPerLine` defaults to the packed size, `2 * width` rounded up to whole pixel pairs.
    /// An odd width uses the last pair's first pixel only.
    public static func yuyvToRGB(_ source: UnsafeBufferPointer<UInt8>, width: Int, height: Int,
                                 bytesPerLine: Int? = nil, name: String = "YUYV frame") throws -> [UInt8] {
        let pairs = (width + 1) / 2
        let line = bytesPerLine ?? 4 * pairs
        guard width > 0, height > 0, line >= 4 * pairs, source.count >= line * (height - 1) + 4 * pairs,
              let input = source.baseAddress else {
            throw CaptureError.unsupportedPixelFormat(
                input: name, reason: "\(source.count) bytes are too few for \(width)x\(height) YUYV with \(bytesPerLine ?? 4 * pairs) bytes a line")
        }
        let stride = 3 * width
        return [UInt8](unsafeUninitializedCapacity: stride * height) { output, count in
            guard let out = output.baseAddress else { return }
            for y in 0..<height {
                let row = input + y * line
                let outRow = out + y * stride
                for pair in 0..<pairs {
                    let p = row + 4 * pair
                    let u = Int32(p[1]) - 128, v = Int32(p[3]) - 128
                    let redOffset = 409 * v + 128
                    let greenOffset = -100 * u - 208 * v + 128
                    let blueOffset = 516 * u + 128
                    let x = 2 * pair
                    store(luma: p[0], redOffset, greenOffset, blueOffset, at: outRow + 3 * x)
                    if x + 1 < width { store(luma: p[2], redOffset, greenOffset, blueOffset, at: outRow + 3 * x + 3) }
                }
            }
            count = stride * height
        }
    }

    /// The array form, for tests and small buffers.
    public static func yuyvToRGB(_ source: [UInt8], width: Int, height: Int, bytesPerLine: Int? = nil) throws -> [UInt8] {
        try source.withUnsafeBufferPointer { try yuyvToRGB($0, width: width, height: height, bytesPerLine: bytesPerLine) }
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
