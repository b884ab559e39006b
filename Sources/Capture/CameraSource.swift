import CFFmpeg
import CV4L2
import Foundation

/// Frames from a V4L2 camera (`/dev/videoN`) through libv4l2, with mmap buffers.
///
/// `init` opens the device and negotiates size, frame rate and pixel format; streaming starts on
/// the first `nextFrame()`, so probing a camera does not turn it on. Each `nextFrame()` waits at
/// most `timeout` seconds (then throws `CaptureError.timeout`). `close()` stops streaming, unmaps
/// the buffers and closes the device.
public final class CameraSource: FrameSource {
    public enum PixelFormat: String, Sendable, CaseIterable {
        /// YUYV when the camera offers it, else MJPEG, else libv4l2's conversion to RGB24.
        case automatic
        /// Raw YUYV 4:2:2, converted by `PixelConversion.yuyvToRGB`.
        case yuyv
        /// Motion JPEG, decoded by FFmpeg's MJPEG decoder: what cameras send at high resolutions.
        case mjpeg
        /// RGB24 from libv4l2, which converts whatever the camera sends.
        case rgb24
    }

    public struct Options {
        public var width: Int
        public var height: Int
        public var framesPerSecond: Int
        public var pixelFormat: PixelFormat
        /// Seconds to wait for a frame before `nextFrame()` throws.
        public var timeout: Double
        public var bufferCount: Int
        public var warningHandler: WarningHandler

        public init(width: Int = 640, height: Int = 480, framesPerSecond: Int = 30,
                    pixelFormat: PixelFormat = .automatic, timeout: Double = 5, bufferCount: Int = 4,
                    warningHandler: @escaping WarningHandler = Warnings.standardError) {
            self.width = width
            self.height = height
            self.framesPerSecond = framesPerSecond
            self.pixelFormat = pixelFormat
            self.timeout = timeout
            self.bufferCount = bufferCount
            self.warningHandler = warningHandler
        }
    }

    public let info: SourceInfo
    /// The format the driver agreed to deliver.
    public let negotiatedFormat: PixelFormat
    private let options: Options
    private let device: V4L2Device
    private let bytesPerLine: Int
    private var mjpeg: (decoder: Decoder, frame: AVFrameBox, packet: Packet, converter: RGBConverter)?
    private var delivered = 0
    private var firstTimestamp: Double?
    private var closed = false

    public init(device path: String, options: Options = Options()) throws {
        self.options = options
        device = try V4L2Device(path: path)

        var capability = v4l2_capability()
        try device.require(FER_VIDIOC_QUERYCAP, &capability, doing: "VIDIOC_QUERYCAP")
        let caps = capability.capabilities & UInt32(V4L2_CAP_DEVICE_CAPS) != 0
            ? capability.device_caps : capability.capabilities
        guard caps & UInt32(V4L2_CAP_VIDEO_CAPTURE) != 0 else {
            throw CaptureError.deviceFailed(input: path, reason: "not a video capture device (a metadata or output node?)")
        }
        guard caps & UInt32(V4L2_CAP_STREAMING) != 0 else {
            throw CaptureError.deviceFailed(input: path, reason: "the device cannot stream with mmap buffers")
        }
        let card = withUnsafeBytes(of: capability.card) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }

        let offered = Self.offeredFormats(device)
        let wanted: PixelFormat
        switch options.pixelFormat {
        case .automatic:
            wanted = offered.contains(FER_PIX_FMT_YUYV) ? .yuyv
                : (offered.contains(FER_PIX_FMT_MJPEG) || offered.contains(FER_PIX_FMT_JPEG)) ? .mjpeg : .rgb24
        default: wanted = options.pixelFormat
        }
        let fourcc: UInt32
        switch wanted {
        case .yuyv: fourcc = FER_PIX_FMT_YUYV
        case .mjpeg: fourcc = offered.contains(FER_PIX_FMT_MJPEG) || !offered.contains(FER_PIX_FMT_JPEG) ? FER_PIX_FMT_MJPEG : FER_PIX_FMT_JPEG
        case .rgb24, .automatic: fourcc = FER_PIX_FMT_RGB24
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
                input: path, reason: "asked for \(Self.fourccName(fourcc)), the driver offers \(Self.fourccName(format.fmt.pix.pixelformat))")
        }
        negotiatedFormat = wanted
        let width = Int(format.fmt.pix.width), height = Int(format.fmt.pix.height)
        bytesPerLine = Int(format.fmt.pix.bytesperline)
        if width != options.width || height != options.height {
            options.warningHandler("\(path): asked for \(options.width)x\(options.height), the camera gives \(width)x\(height)")
        }

        // Frame rate: a request, which drivers round to what they support.
        var parameters = v4l2_streamparm()
        parameters.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        if device.control(FER_VIDIOC_G_PARM, &parameters) == 0,
           parameters.parm.capture.capability & UInt32(V4L2_CAP_TIMEPERFRAME) != 0 {
            parameters.parm.capture.timeperframe = v4l2_fract(numerator: 1, denominator: UInt32(max(1, options.framesPerSecond)))
            device.control(FER_VIDIOC_S_PARM, &parameters)
            device.control(FER_VIDIOC_G_PARM, &parameters)
        }
        let period = parameters.parm.capture.timeperframe
        let rate = period.numerator > 0 && period.denominator > 0
            ? (Int(period.denominator), Int(period.numerator)) : (0, 1)

        if wanted == .mjpeg {
            mjpeg = (try Decoder(codecID: AV_CODEC_ID_MJPEG, threads: 1, name: path), try AVFrameBox(), try Packet(), RGBConverter())
        }
        info = SourceInfo(
            name: path, width: width, height: height,
            frameRateNumerator: rate.0, frameRateDenominator: rate.1,
            timeBaseNumerator: 1, timeBaseDenominator: 1_000_000,
            frameCount: nil, duration: nil,
            codec: wanted == .mjpeg ? "mjpeg" : "rawvideo (\(card))",
            pixelFormat: wanted == .yuyv ? "yuyv422" : wanted == .mjpeg ? "mjpeg" : "rgb24")
    }

    deinit { close() }

    public func close() {
        closed = true
        device.close()
        mjpeg = nil
    }

    public func nextFrame() throws -> Frame? {
        guard !closed else { return nil }
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
                pixels = try convert(bytes)
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

    private func convert(_ bytes: UnsafeBufferPointer<UInt8>) throws -> [UInt8] {
        switch negotiatedFormat {
        case .yuyv:
            return try PixelConversion.yuyvToRGB(bytes, width: info.width, height: info.height,
                                                 bytesPerLine: bytesPerLine > 0 ? bytesPerLine : nil, name: info.name)
        case .mjpeg:
            guard let mjpeg, let base = bytes.baseAddress else { return [] }
            let packet = mjpeg.packet.packet
            let made = av_new_packet(packet, Int32(bytes.count))
            guard made >= 0, let data = packet.pointee.data else {
                throw CaptureError.readFailed(input: info.name, reason: FF.message(made))
            }
            data.update(from: base, count: bytes.count)
            defer { av_packet_unref(packet) }
            let sent = mjpeg.decoder.send(mjpeg.packet)
            guard sent >= 0 else { throw CaptureError.readFailed(input: info.name, reason: "MJPEG: \(FF.message(sent))") }
            let received = mjpeg.decoder.receive(into: mjpeg.frame)
            guard received >= 0 else { throw CaptureError.readFailed(input: info.name, reason: "MJPEG: \(FF.message(received))") }
            defer { av_frame_unref(mjpeg.frame.frame) }
            guard Int(mjpeg.frame.frame.pointee.width) == info.width, Int(mjpeg.frame.frame.pointee.height) == info.height else {
                throw CaptureError.readFailed(input: info.name, reason: "MJPEG frame is \(mjpeg.frame.frame.pointee.width)x\(mjpeg.frame.frame.pointee.height), not \(info.width)x\(info.height)")
            }
            return try mjpeg.converter.rgb(from: mjpeg.frame.frame, name: info.name)
        case .rgb24, .automatic:
            let stride = 3 * info.width
            let line = max(bytesPerLine, stride)
            guard let base = bytes.baseAddress, bytes.count >= line * (info.height - 1) + stride else {
                throw CaptureError.readFailed(input: info.name, reason: "short RGB24 frame: \(bytes.count) bytes")
            }
            return [UInt8](unsafeUninitializedCapacity: stride * info.height) { out, count in
                guard let destination = out.baseAddress else { return }
                for y in 0..<info.height { (destination + y * stride).update(from: base + y * line, count: stride) }
                count = stride * info.height
            }
        }
    }

    /// The fourcc codes the device (plus libv4l2's emulation) lists.
    private static func offeredFormats(_ device: V4L2Device) -> Set<UInt32> {
        var found = Set<UInt32>()
        for index in 0..<64 {
            var description = v4l2_fmtdesc()
            description.index = UInt32(index)
            description.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
            guard device.control(FER_VIDIOC_ENUM_FMT, &description) == 0 else { break }
            // Emulated formats are libv4l2's conversions; only native ones count for the choice.
            if description.flags & UInt32(V4L2_FMT_FLAG_EMULATED) == 0 { found.insert(description.pixelformat) }
        }
        return found
    }

    static func fourccName(_ code: UInt32) -> String {
        let bytes = (0..<4).map { UInt8(truncatingIfNeeded: code >> (8 * UInt32($0))) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Opens the right source for an input name: a camera for `/dev/video*`, FFmpeg for the rest.
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
        return try VideoFileSource(path: input, options: .init(threads: threads, warningHandler: warningHandler,
                                                               networkTimeout: networkTimeout))
    }
}
