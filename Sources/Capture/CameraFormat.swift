import CFFmpeg
import CV4L2
import Foundation

/// The pixel formats fer-live reads from a camera, by their V4L2 fourcc.
public enum CameraPixelFormat: String, Sendable, CaseIterable {
    /// Chosen from what the camera offers (`CameraSource.choose`).
    case automatic
    /// YUYV 4:2:2, what most webcams send raw.
    case yuyv
    /// UYVY 4:2:2.
    case uyvy
    /// NV12 4:2:0 (a luma plane, then interleaved U V).
    case nv12
    /// YU12 / I420 4:2:0 (luma, U and V planes).
    case yu12
    /// RGB24, native or libv4l2's conversion of whatever the camera sends.
    case rgb24
    /// BGR24.
    case bgr24
    /// Motion JPEG, decoded by FFmpeg's MJPEG decoder: what webcams send at high resolutions.
    case mjpeg

    /// The fourcc codes that mean this format, the preferred one first (JPEG is MJPEG under an
    /// older name some drivers use).
    var fourccs: [UInt32] {
        switch self {
        case .automatic: return []
        case .yuyv: return [FER_PIX_FMT_YUYV]
        case .uyvy: return [FER_PIX_FMT_UYVY]
        case .nv12: return [FER_PIX_FMT_NV12]
        case .yu12: return [FER_PIX_FMT_YUV420]
        case .rgb24: return [FER_PIX_FMT_RGB24]
        case .bgr24: return [FER_PIX_FMT_BGR24]
        case .mjpeg: return [FER_PIX_FMT_MJPEG, FER_PIX_FMT_JPEG]
        }
    }

    init?(fourcc: UInt32) {
        guard let format = Self.allCases.first(where: { $0.fourccs.contains(fourcc) }) else { return nil }
        self = format
    }

    /// FFmpeg's name for it, as `SourceInfo.pixelFormat` reports.
    var ffmpegName: String {
        switch self {
        case .automatic: return "unknown"
        case .yuyv: return "yuyv422"
        case .uyvy: return "uyvy422"
        case .nv12: return "nv12"
        case .yu12: return "yuv420p"
        case .rgb24: return "rgb24"
        case .bgr24: return "bgr24"
        case .mjpeg: return "mjpeg"
        }
    }

    /// "YUYV", "MJPG": the fourcc as four characters.
    public static func fourccName(_ code: UInt32) -> String {
        let bytes = (0..<4).map { UInt8(truncatingIfNeeded: code >> (8 * UInt32($0))) }
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
    }
}

/// One captured buffer to RGB24, for the format the driver agreed to: the Swift conversions
/// for raw formats, FFmpeg's MJPEG decoder (kept between frames) for MJPEG.
final class CameraFrameConverter {
    let format: CameraPixelFormat
    let width: Int
    let height: Int
    /// The driver's line pitch; 0 when it gave none.
    let bytesPerLine: Int
    let name: String
    private let mjpeg: MJPEGDecoder?

    init(format: CameraPixelFormat, width: Int, height: Int, bytesPerLine: Int, name: String) throws {
        self.format = format
        self.width = width
        self.height = height
        self.bytesPerLine = bytesPerLine
        self.name = name
        mjpeg = format == .mjpeg ? try MJPEGDecoder(name: name) : nil
    }

    func convert(_ bytes: UnsafeBufferPointer<UInt8>) throws -> [UInt8] {
        let line = bytesPerLine > 0 ? bytesPerLine : nil
        switch format {
        case .yuyv: return try PixelConversion.yuyvToRGB(bytes, width: width, height: height, bytesPerLine: line, name: name)
        case .uyvy: return try PixelConversion.uyvyToRGB(bytes, width: width, height: height, bytesPerLine: line, name: name)
        case .nv12: return try PixelConversion.nv12ToRGB(bytes, width: width, height: height, bytesPerLine: line, name: name)
        case .yu12: return try PixelConversion.yu12ToRGB(bytes, width: width, height: height, bytesPerLine: line, name: name)
        case .rgb24: return try PixelConversion.rgb24ToRGB(bytes, width: width, height: height, bytesPerLine: line, name: name)
        case .bgr24:
            return try PixelConversion.rgb24ToRGB(bytes, width: width, height: height, bytesPerLine: line, blueFirst: true, name: name)
        case .mjpeg:
            guard let mjpeg else { throw CaptureError.unsupportedPixelFormat(input: name, reason: "no MJPEG decoder") }
            return try mjpeg.decode(bytes, width: width, height: height)
        case .automatic:
            throw CaptureError.unsupportedPixelFormat(input: name, reason: "no format was negotiated")
        }
    }
}

/// FFmpeg's MJPEG decoder, its frame, packet and colour converter, kept between frames.
final class MJPEGDecoder {
    private let decoder: Decoder
    private let frame: AVFrameBox
    private let packet: Packet
    private let converter = RGBConverter()
    private let name: String

    init(name: String) throws {
        self.name = name
        decoder = try Decoder(codecID: AV_CODEC_ID_MJPEG, threads: 1, name: name)
        frame = try AVFrameBox()
        packet = try Packet()
    }

    /// One JPEG picture to RGB24; a picture of another size than the negotiated one is an
    /// error (the pipeline's frames all have one size).
    func decode(_ bytes: UnsafeBufferPointer<UInt8>, width: Int, height: Int) throws -> [UInt8] {
        guard let base = bytes.baseAddress, !bytes.isEmpty else {
            throw CaptureError.readFailed(input: name, reason: "MJPEG: empty buffer")
        }
        let raw = packet.packet
        let made = av_new_packet(raw, Int32(bytes.count))
        guard made >= 0, let data = raw.pointee.data else {
            throw CaptureError.readFailed(input: name, reason: FF.message(made))
        }
        data.update(from: base, count: bytes.count)
        defer { av_packet_unref(raw) }
        let sent = decoder.send(packet)
        guard sent >= 0 else { throw CaptureError.readFailed(input: name, reason: "MJPEG: \(FF.message(sent))") }
        let received = decoder.receive(into: frame)
        guard received >= 0 else { throw CaptureError.readFailed(input: name, reason: "MJPEG: \(FF.message(received))") }
        defer { av_frame_unref(frame.frame) }
        let got = (Int(frame.frame.pointee.width), Int(frame.frame.pointee.height))
        guard got == (width, height) else {
            throw CaptureError.readFailed(input: name, reason: "MJPEG frame is \(got.0)x\(got.1), not \(width)x\(height)")
        }
        return try converter.rgb(from: frame.frame, name: name)
    }
}
