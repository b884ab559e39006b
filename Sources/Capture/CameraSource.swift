import CFFmpeg
import CV4L2
import Foundation

/// Frames from a V4L2 camera (`/dev/videoN`) through libv4l2, with mmap buffers.
///
/// `init` opens the device and negotiates pixel format, size and frame rate (each a request:
/// what the driver gave is in `info`, with one warning when it differs from what was asked);
/// streaming starts on the first `nextFrame()`, so probing a camera does not turn it on. Each
/// `nextFrame()` waits at most `timeout` seconds. A camera that fails after frames were
/// delivered (unplugged, stopped delivering) ends the input: `nextFrame()` returns nil and
/// `failure` says why, so the job keeps what it recorded and still ends in an error.
/// `close()` stops streaming, unmaps and frees the buffers and closes the device.
public final class CameraSource: FrameSource {
    public typealias PixelFormat = CameraPixelFormat

    public struct Options {
        public var width: Int
        public var height: Int
        public var framesPerSecond: Int
        public var pixelFormat: PixelFormat
        /// Seconds to wait for a frame before the camera counts as stopped.
        public var timeout: Double
        public var bufferCount: Int
        /// Whether a size or rate other than the one asked is warned about (one line); off for
        /// `fer-live probe`, which asks for the defaults only to show what the camera gives.
        public var reportsDifferences: Bool
        public var warningHandler: WarningHandler

        public init(width: Int = 640, height: Int = 480, framesPerSecond: Int = 30,
                    pixelFormat: PixelFormat = .automatic, timeout: Double = 5, bufferCount: Int = 4,
                    reportsDifferences: Bool = true,
                    warningHandler: @escaping WarningHandler = Warnings.standardError) {
            self.width = width
            self.height = height
            self.framesPerSecond = framesPerSecond
            self.pixelFormat = pixelFormat
            self.timeout = timeout
            self.bufferCount = bufferCount
            self.reportsDifferences = reportsDifferences
            self.warningHandler = warningHandler
        }
    }

    public let info: SourceInfo
    /// The format the driver agreed to deliver.
    public let negotiatedFormat: PixelFormat
    /// Everything the device lists: formats, their sizes and frame rates.
    public let offers: [CameraFormatOffer]
    /// The device's name for itself (V4L2's card name) and its driver.
    public let card: String
    public let driver: String
    public private(set) var failure: Error?
    private let options: Options
    private let device: V4L2Device
    private let converter: CameraFrameConverter
    private var delivered = 0
    private var firstTimestamp: Double?
    private var closed = false

    public convenience init(device path: String, options: Options = Options()) throws {
        try self.init(device: path, options: options, system: LibV4L2System.shared)
    }

    init(device path: String, options: Options, system: V4L2System) throws {
        self.options = options
        device = try V4L2Device(path: path, system: system, warningHandler: options.warningHandler)

        var capability = v4l2_capability()
        try device.require(FER_VIDIOC_QUERYCAP, &capability, doing: "VIDIOC_QUERYCAP")
        let caps = capability.capabilities & UInt32(V4L2_CAP_DEVICE_CAPS) != 0
            ? capability.device_caps : capability.capabilities
        guard caps & UInt32(V4L2_CAP_VIDEO_CAPTURE) != 0 else {
            let what = caps & UInt32(V4L2_CAP_VIDEO_OUTPUT) != 0 ? "a video output node"
                : caps & UInt32(V4L2_CAP_META_CAPTURE) != 0 ? "a metadata node" : "another kind of node"
            throw CaptureError.deviceFailed(input: path, reason: "not a video capture device (\(what))")
        }
        guard caps & UInt32(V4L2_CAP_STREAMING) != 0 else {
            throw CaptureError.deviceFailed(input: path, reason: "the device cannot stream with mmap buffers")
        }
        card = Self.text(capability.card)
        driver = Self.text(capability.driver)
        let offers = device.formatOffers()
        self.offers = offers

        let wanted = Self.choose(options.pixelFormat, from: offers, width: options.width, height: options.height,
                                 framesPerSecond: Double(options.framesPerSecond))
        // The fourcc the device lists for the format (MJPG or JPEG), else its first.
        guard let fourcc = wanted.fourccs.first(where: { code in offers.contains { $0.code == code } }) ?? wanted.fourccs.first else {
            throw CaptureError.unsupportedPixelFormat(input: path, reason: "no pixel format to ask for")
        }

        var format = v4l2_format()
        format.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        format.fmt.pix.width = UInt32(max(1, options.width))
        format.fmt.pix.height = UInt32(max(1, options.height))
        format.fmt.pix.pixelformat = fourcc
        format.fmt.pix.field = V4L2_FIELD_NONE.rawValue
        try device.require(FER_VIDIOC_S_FMT, &format, doing: "VIDIOC_S_FMT")
        guard format.fmt.pix.pixelformat == fourcc else {
            throw CaptureError.unsupportedPixelFormat(
                input: path, reason: "asked for \(CameraPixelFormat.fourccName(fourcc)), the driver offers \(CameraPixelFormat.fourccName(format.fmt.pix.pixelformat)) (see fer-live probe \(path))")
        }
        negotiatedFormat = wanted
        let width = Int(format.fmt.pix.width), height = Int(format.fmt.pix.height)
        let rate = Self.negotiateRate(device, framesPerSecond: options.framesPerSecond)
        if options.reportsDifferences {
            Self.reportDifference(path, options: options, width: width, height: height, rate: rate)
        }

        converter = try CameraFrameConverter(format: wanted, width: width, height: height,
                                             bytesPerLine: Int(format.fmt.pix.bytesperline), name: path)
        info = SourceInfo(
            name: path, width: width, height: height,
            frameRateNumerator: rate?.numerator ?? 0, frameRateDenominator: rate?.denominator ?? 1,
            timeBaseNumerator: 1, timeBaseDenominator: 1_000_000,
            frameCount: nil, duration: nil,
            codec: wanted == .mjpeg ? "mjpeg (\(card))" : "rawvideo (\(card))",
            pixelFormat: wanted.ffmpegName)
    }

    deinit { close() }

    public func close() {
        closed = true
        device.close()
    }

    public func nextFrame() throws -> Frame? {
        guard !closed, failure == nil else { return nil }
        do {
            return try readFrame()
        } catch let error as CaptureError where delivered > 0 {
            // Midway: the frames so far are worth keeping (the recording, the CSV), so the input
            // ends here and the job reports the error after finishing its outputs.
            failure = error
            device.close()
            return nil
        }
    }

    private func readFrame() throws -> Frame {
        if !device.streaming { try device.startStreaming(bufferCount: max(2, options.bufferCount)) }
        while true {
            let buffer = try device.dequeue(timeout: options.timeout)
            // The buffer goes back to the driver whatever happens to its content.
            defer { try? device.queue(buffer.index) }
            guard Int(buffer.index) < device.buffers.count else { continue }
            if buffer.flags & UInt32(V4L2_BUF_FLAG_ERROR) != 0 {
                options.warningHandler("\(info.name): the driver marked a frame as broken; skipped")
                continue
            }
            let mapped = device.buffers[Int(buffer.index)]
            let bytes = UnsafeBufferPointer(start: mapped.start.assumingMemoryBound(to: UInt8.self),
                                            count: min(Int(buffer.bytesused), mapped.length))
            let pixels: [UInt8]
            do {
                pixels = try converter.convert(bytes)
            } catch let error as CaptureError {
                // One bad frame (a truncated JPEG) must not end a live capture.
                options.warningHandler("\(info.name): frame skipped: \(error.reason)")
                continue
            }
            let stamp = Double(buffer.timestamp.tv_sec) + Double(buffer.timestamp.tv_usec) / 1e6
            let origin = firstTimestamp ?? stamp
            firstTimestamp = origin
            let frame = Frame(index: delivered, time: stamp - origin, width: info.width, height: info.height, pixels: pixels)
            delivered += 1
            return frame
        }
    }

    /// The format to ask for. `.automatic` takes, among the camera's own (not libv4l2-emulated)
    /// formats, the first in fer-live's order of preference that has the size at the frame rate,
    /// else the first that has the size, else the first it reads at all; a camera offering none
    /// of them gets libv4l2's RGB24 conversion. YUYV comes first (no decoding, exact), then MJPEG
    /// (what webcams send at sizes USB 2 cannot carry raw at full rate).
    static func choose(_ asked: PixelFormat, from offers: [CameraFormatOffer], width: Int, height: Int,
                       framesPerSecond: Double) -> PixelFormat {
        guard asked == .automatic else { return asked }
        let preference: [PixelFormat] = [.yuyv, .mjpeg, .nv12, .yu12, .uyvy, .rgb24, .bgr24]
        let native = offers.filter { !$0.emulated }
        let candidates = preference.compactMap { format in native.first { $0.pixelFormat == format } }
        let fits = candidates.first { $0.sizes.contains { $0.includes(width: width, height: height) && $0.allows(framesPerSecond: framesPerSecond) } }
            ?? candidates.first { $0.sizes.contains { $0.includes(width: width, height: height) } }
            ?? candidates.first
        return fits?.pixelFormat ?? .rgb24
    }

    /// VIDIOC_S_PARM with the asked rate, then what the driver settled on (G_PARM). Nil when the
    /// driver does not say.
    private static func negotiateRate(_ device: V4L2Device, framesPerSecond: Int) -> (numerator: Int, denominator: Int, settable: Bool)? {
        var parameters = v4l2_streamparm()
        parameters.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        guard device.control(FER_VIDIOC_G_PARM, &parameters) == 0 else { return nil }
        let settable = parameters.parm.capture.capability & UInt32(V4L2_CAP_TIMEPERFRAME) != 0
        if settable {
            parameters.parm.capture.timeperframe = v4l2_fract(numerator: 1, denominator: UInt32(max(1, framesPerSecond)))
            device.control(FER_VIDIOC_S_PARM, &parameters)
            device.control(FER_VIDIOC_G_PARM, &parameters)
        }
        let period = parameters.parm.capture.timeperframe
        guard period.numerator > 0, period.denominator > 0 else { return nil }
        return (Int(period.denominator), Int(period.numerator), settable)
    }

    /// One line when the camera gives another size or frame rate than asked.
    private static func reportDifference(_ path: String, options: Options, width: Int, height: Int,
                                         rate: (numerator: Int, denominator: Int, settable: Bool)?) {
        let fps = rate.map { Double($0.numerator) / Double($0.denominator) }
        let sizeDiffers = width != options.width || height != options.height
        let rateDiffers = fps.map { abs($0 - Double(options.framesPerSecond)) > 0.01 * Double(options.framesPerSecond) } ?? false
        guard sizeDiffers || rateDiffers else { return }
        let gives = "\(width)x\(height)" + (fps.map { " at \(CameraFrameSize.rate($0)) fps" } ?? "")
        var line = "\(path): asked for \(options.width)x\(options.height) at \(options.framesPerSecond) fps, the camera gives \(gives)"
        if rateDiffers, rate?.settable == false { line += " (its frame rate cannot be set)" }
        options.warningHandler(line)
    }

    private static func text<T>(_ field: T) -> String {
        withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

/// Opens the right source for an input name: a camera for `/dev/video*`, libjpeg-turbo for a JPEG
/// file (Pillow's pixels), FFmpeg for the rest.
public enum Sources {
    public static func isCamera(_ input: String) -> Bool { input.hasPrefix("/dev/video") }

    /// A local regular file, which can be opened again to read another of its streams (its
    /// audio); cameras, URLs, standard input ("-") and pipes (a second reader would take frames
    /// from the first) cannot.
    public static func isFile(_ input: String) -> Bool {
        guard !isCamera(input), !input.contains("://"), input != "-" else { return false }
        var st = stat()
        guard stat(input, &st) == 0 else { return true }   // missing: opening it reports that
        return (st.st_mode & S_IFMT) == S_IFREG
    }

    public static func open(_ input: String, threads: Int = 2, networkTimeout: Double = 10,
                            warningHandler: @escaping WarningHandler = Warnings.standardError) throws -> FrameSource {
        if isCamera(input) {
            return try CameraSource(device: input, options: .init(warningHandler: warningHandler))
        }
        if isFile(input), let photo = try JPEGFileSource.openIfJPEG(path: input, warningHandler: warningHandler) {
            return photo
        }
        return try VideoFileSource(path: input, options: .init(threads: threads, warningHandler: warningHandler,
                                                               networkTimeout: networkTimeout))
    }
}
