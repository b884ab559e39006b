import CFFmpeg
import Foundation

/// Writes single frames as PNG (lossless, RGB24 as is) or JPEG (full-range 4:4:4 YUV).
public enum ImageWriter {
    public enum Format: String, Sendable {
        case png, jpeg

        /// The format an output path asks for by its extension, nil for anything else.
        public init?(path: String) {
            switch (path as NSString).pathExtension.lowercased() {
            case "png": self = .png
            case "jpg", "jpeg": self = .jpeg
            default: return nil
            }
        }
    }

    /// Encodes and writes `frame` to `path`; the format comes from the extension.
    public static func write(_ frame: Frame, to path: String, jpegQuality: Int = 2) throws {
        guard let format = Format(path: path) else {
            throw CaptureError.unsupportedOutput(output: path, reason: "an image must end in .png, .jpg or .jpeg")
        }
        let file = try OutputFile(path: path)
        try file.write(try encode(frame, as: format, name: path, jpegQuality: jpegQuality))
        try file.close()
    }

    /// The encoded bytes of `frame`. `jpegQuality` is the JPEG quantiser scale, 2 (best) to 31.
    public static func encode(_ frame: Frame, as format: Format, name: String = "image",
                              jpegQuality: Int = 2) throws -> [UInt8] {
        try validate(frame, name: name)
        _ = FF.logConfigured
        let codecID = format == .png ? AV_CODEC_ID_PNG : AV_CODEC_ID_MJPEG
        let pixelFormat = format == .png ? AV_PIX_FMT_RGB24 : AV_PIX_FMT_YUVJ444P
        guard let codec = avcodec_find_encoder(codecID) else {
            throw CaptureError.encoderFailed(output: name, reason: "FFmpeg has no \(format.rawValue) encoder")
        }
        let quality = Int32(max(2, min(31, jpegQuality))) * FF_QP2LAMBDA
        let encoder = try Encoder(codec: codec, output: name) { context in
            context.pointee.width = Int32(frame.width)
            context.pointee.height = Int32(frame.height)
            context.pointee.pix_fmt = pixelFormat
            context.pointee.time_base = AVRational(num: 1, den: 25)
            if format == .jpeg {
                context.pointee.flags |= AV_CODEC_FLAG_QSCALE
                context.pointee.global_quality = quality
                context.pointee.color_range = AVCOL_RANGE_JPEG
            }
        }
        let picture = try AVFrameBox(format: pixelFormat, width: frame.width, height: frame.height, output: name)
        try frame.pixels.withUnsafeBufferPointer { pixels in
            guard let base = pixels.baseAddress else { return }
            if format == .png {
                // Same layout on both sides: copy the rows.
                let linesize = Int(picture.frame.pointee.linesize.0)
                guard let destination = picture.frame.pointee.data.0 else { return }
                for y in 0..<frame.height {
                    (destination + y * linesize).update(from: base + y * frame.stride, count: 3 * frame.width)
                }
            } else {
                try RGBConverter(flags: SWS_BICUBIC | SWS_ACCURATE_RND).fill(
                    picture.frame, fromRGB: base, stride: frame.stride, fullRange: true,
                    colorspace: Int32(AVCOL_SPC_BT470BG.rawValue), name: name)
            }
        }
        picture.frame.pointee.quality = quality
        picture.frame.pointee.pts = 0
        let packet = try Packet()
        var sent = avcodec_send_frame(encoder.context, picture.frame)
        guard sent >= 0 else { throw CaptureError.encoderFailed(output: name, reason: FF.message(sent)) }
        sent = avcodec_send_frame(encoder.context, nil)
        let bytes = try encoder.receiveBytes(into: packet, output: name)
        guard !bytes.isEmpty else {
            throw CaptureError.encoderFailed(output: name, reason: "the \(format.rawValue) encoder produced no data")
        }
        return bytes
    }

    static func validate(_ frame: Frame, name: String) throws {
        guard frame.width > 0, frame.height > 0, frame.stride >= 3 * frame.width,
              frame.pixels.count >= frame.stride * (frame.height - 1) + 3 * frame.width else {
            throw CaptureError.invalidFrame(
                output: name, reason: "frame #\(frame.index) is \(frame.width)x\(frame.height), stride \(frame.stride), with \(frame.pixels.count) bytes")
        }
    }
}

/// A plain file opened for writing, with errors that name it and carry the system's reason.
final class OutputFile {
    let path: String
    private var descriptor: Int32

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw CaptureError.cannotWrite(output: path, reason: String(cString: strerror(errno))) }
    }

    /// Replaces the file's content.
    func rewrite(_ bytes: [UInt8]) throws {
        guard descriptor >= 0 else { throw CaptureError.cannotWrite(output: path, reason: "already closed") }
        guard ftruncate(descriptor, 0) == 0, lseek(descriptor, 0, SEEK_SET) == 0 else {
            throw CaptureError.cannotWrite(output: path, reason: String(cString: strerror(errno)))
        }
        try write(bytes)
    }

    func write(_ bytes: [UInt8]) throws {
        guard descriptor >= 0 else { throw CaptureError.cannotWrite(output: path, reason: "already closed") }
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(descriptor, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw CaptureError.cannotWrite(output: path, reason: String(cString: strerror(errno)))
                }
                offset += written
            }
        }
    }

    func close() throws {
        guard descriptor >= 0 else { return }
        let result = Glibc.close(descriptor)
        descriptor = -1
        guard result == 0 else { throw CaptureError.cannotWrite(output: path, reason: String(cString: strerror(errno))) }
    }

    deinit { try? close() }
}
