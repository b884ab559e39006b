import CV4L2
import Foundation

/// What a camera offers: each pixel format with its frame sizes and, for each size, its frame
/// rates (VIDIOC_ENUM_FMT, VIDIOC_ENUM_FRAMESIZES, VIDIOC_ENUM_FRAMEINTERVALS). `fer-live probe`
/// prints it; `CameraSource` chooses from it.
public struct CameraFormatOffer: Sendable, Equatable {
    /// The fourcc as four characters ("YUYV", "MJPG").
    public var fourcc: String
    public var code: UInt32
    /// The driver's own name for it ("YUYV 4:2:2").
    public var description: String
    /// A format libv4l2 makes by converting another (not sent by the camera itself).
    public var emulated: Bool
    public var sizes: [CameraFrameSize]

    /// fer-live's name for the format, when it reads it.
    public var pixelFormat: CameraPixelFormat? { CameraPixelFormat(fourcc: code) }
}

public struct CameraFrameSize: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// A range of sizes (stepwise or continuous): up to `maxWidth` x `maxHeight` in steps.
    public var range: (maxWidth: Int, maxHeight: Int, stepWidth: Int, stepHeight: Int)?
    /// Discrete frame rates, slowest first; for a range of rates, its two ends.
    public var framesPerSecond: [Double]
    public var rateIsRange = false

    public static func == (a: Self, b: Self) -> Bool {
        a.width == b.width && a.height == b.height && a.framesPerSecond == b.framesPerSecond
            && a.rateIsRange == b.rateIsRange && a.range?.maxWidth == b.range?.maxWidth
            && a.range?.maxHeight == b.range?.maxHeight && a.range?.stepWidth == b.range?.stepWidth
            && a.range?.stepHeight == b.range?.stepHeight
    }

    /// Whether `width` x `height` is one of these sizes.
    public func includes(width w: Int, height h: Int) -> Bool {
        guard let range else { return w == width && h == height }
        return (width...range.maxWidth).contains(w) && (height...range.maxHeight).contains(h)
            && (range.stepWidth <= 1 || (w - width) % range.stepWidth == 0)
            && (range.stepHeight <= 1 || (h - height) % range.stepHeight == 0)
    }

    /// Whether the size can run at `fps` (within 1%); true when the driver lists no rates.
    public func allows(framesPerSecond fps: Double) -> Bool {
        guard !framesPerSecond.isEmpty else { return true }
        if rateIsRange, let low = framesPerSecond.first, let high = framesPerSecond.last {
            return fps >= low * 0.99 && fps <= high * 1.01
        }
        return framesPerSecond.contains { abs($0 - fps) <= 0.01 * fps }
    }

    /// "640x480: 5, 10, 15, 25, 30 fps", "16x16 to 16384x8640 (steps of 2x2)".
    public var summary: String {
        var text = "\(width)x\(height)"
        if let range {
            text += " to \(range.maxWidth)x\(range.maxHeight)"
            if range.stepWidth > 1 || range.stepHeight > 1 { text += " (steps of \(range.stepWidth)x\(range.stepHeight))" }
        }
        if !framesPerSecond.isEmpty {
            let rates = framesPerSecond.map(Self.rate)
            text += ": " + (rateIsRange ? rates.joined(separator: " to ") : rates.joined(separator: ", ")) + " fps"
        }
        return text
    }

    static func rate(_ fps: Double) -> String {
        abs(fps - fps.rounded()) < 0.005 ? String(Int(fps.rounded())) : String(format: "%.2f", fps)
    }
}

extension V4L2Device {
    /// Every capture format the device lists (libv4l2's conversions included, flagged).
    func formatOffers() -> [CameraFormatOffer] {
        var offers: [CameraFormatOffer] = []
        for index in 0..<128 {
            var description = v4l2_fmtdesc()
            description.index = UInt32(index)
            description.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
            guard control(FER_VIDIOC_ENUM_FMT, &description) == 0 else { break }
            let name = withUnsafeBytes(of: description.description) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            offers.append(CameraFormatOffer(
                fourcc: CameraPixelFormat.fourccName(description.pixelformat), code: description.pixelformat,
                description: name, emulated: description.flags & UInt32(V4L2_FMT_FLAG_EMULATED) != 0,
                sizes: frameSizes(description.pixelformat)))
        }
        return offers
    }

    private func frameSizes(_ fourcc: UInt32) -> [CameraFrameSize] {
        var sizes: [CameraFrameSize] = []
        for index in 0..<256 {
            var size = v4l2_frmsizeenum()
            size.index = UInt32(index)
            size.pixel_format = fourcc
            guard control(FER_VIDIOC_ENUM_FRAMESIZES, &size) == 0 else { break }
            if size.type == V4L2_FRMSIZE_TYPE_DISCRETE.rawValue {
                let (w, h) = (Int(size.discrete.width), Int(size.discrete.height))
                var entry = CameraFrameSize(width: w, height: h, range: nil, framesPerSecond: [])
                (entry.framesPerSecond, entry.rateIsRange) = frameRates(fourcc, width: w, height: h)
                sizes.append(entry)
            } else {
                // Stepwise or continuous: one entry, and no more (the driver lists it alone).
                let s = size.stepwise
                sizes.append(CameraFrameSize(
                    width: Int(s.min_width), height: Int(s.min_height),
                    range: (Int(s.max_width), Int(s.max_height), Int(s.step_width), Int(s.step_height)),
                    framesPerSecond: []))
                break
            }
        }
        return sizes
    }

    private func frameRates(_ fourcc: UInt32, width: Int, height: Int) -> ([Double], Bool) {
        var rates: [Double] = []
        for index in 0..<64 {
            var interval = v4l2_frmivalenum()
            interval.index = UInt32(index)
            interval.pixel_format = fourcc
            interval.width = UInt32(width)
            interval.height = UInt32(height)
            guard control(FER_VIDIOC_ENUM_FRAMEINTERVALS, &interval) == 0 else { break }
            func fps(_ f: v4l2_fract) -> Double? { f.numerator > 0 ? Double(f.denominator) / Double(f.numerator) : nil }
            if interval.type == V4L2_FRMIVAL_TYPE_DISCRETE.rawValue {
                if let rate = fps(interval.discrete) { rates.append(rate) }
            } else {
                // A range: the longest interval is the lowest rate.
                let ends = [fps(interval.stepwise.max), fps(interval.stepwise.min)].compactMap { $0 }
                return (ends, ends.count == 2)
            }
        }
        return (rates.sorted(), false)
    }
}
