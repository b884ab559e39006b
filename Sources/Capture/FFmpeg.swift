import CFFmpeg
import Foundation

// Thin owners of FFmpeg objects. Each holds one C pointer, frees it in deinit, and is the only
// place that pointer is touched directly; the sources and writers above them only sequence calls.

/// FFmpeg constants that are function-like macros in C (so Swift does not see them) and helpers.
enum FF {
    /// `MKTAG`, as FFmpeg builds its error codes from four letters.
    private static func tag(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> Int32 {
        Int32(bitPattern: UInt32(a) | UInt32(b) << 8 | UInt32(c) << 16 | UInt32(d) << 24)
    }

    static let eof: Int32 = -tag(0x45, 0x4F, 0x46, 0x20)  // "EOF "
    static let again: Int32 = -EAGAIN
    static let invalidData: Int32 = -tag(0x49, 0x4E, 0x44, 0x41)  // "INDA"
    static let streamNotFound: Int32 = -tag(0xF8, 0x53, 0x54, 0x52)  // 0xF8 "STR"
    static let noPTS: Int64 = Int64.min

    /// FFmpeg's own words for an error code.
    static func message(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard av_strerror(code, &buffer, buffer.count) == 0 else { return "FFmpeg error \(code)" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// FFmpeg prints to stderr by default; its errors reach the user through `CaptureError` and
    /// warning handlers instead. `FER_FFMPEG_LOG=error|warning|info|debug` brings its log back.
    static let logConfigured: Void = {
        let levels: [String: Int32] = [
            "quiet": AV_LOG_QUIET, "error": AV_LOG_ERROR, "warning": AV_LOG_WARNING,
            "info": AV_LOG_INFO, "verbose": AV_LOG_VERBOSE, "debug": AV_LOG_DEBUG,
        ]
        let wanted = ProcessInfo.processInfo.environment["FER_FFMPEG_LOG"].flatMap { levels[$0] }
        av_log_set_level(wanted ?? AV_LOG_QUIET)
        avformat_network_init()
    }()

    static func codecName(_ id: AVCodecID) -> String {
        avcodec_get_name(id).map { String(cString: $0) } ?? "unknown"
    }

    static func pixelFormatName(_ raw: Int32) -> String {
        av_get_pix_fmt_name(AVPixelFormat(rawValue: raw)).map { String(cString: $0) } ?? "unknown"
    }

    /// Maps an errno-style FFmpeg failure to the matching error case.
    static func openError(_ code: Int32, input: String) -> CaptureError {
        let reason = message(code)
        switch -code {
        case ENOENT: return .notFound(input: input, reason: reason)
        case EACCES, EPERM: return .permissionDenied(input: input, reason: reason)
        default: return .cannotOpen(input: input, reason: reason)
        }
    }
}

/// An opened input (file, URL, image) with its streams probed.
final class FormatInput {
    let context: UnsafeMutablePointer<AVFormatContext>

    init(url: String, name: String, networkTimeout: Double) throws {
        _ = FF.logConfigured
        var options: OpaquePointer? = nil
        if url.contains("://") {
            // Network inputs must not hang forever on a dead server (microseconds).
            av_dict_set(&options, "rw_timeout", String(Int(networkTimeout * 1_000_000)), 0)
            av_dict_set(&options, "timeout", String(Int(networkTimeout * 1_000_000)), 0)
        }
        defer { av_dict_free(&options) }
        var context: UnsafeMutablePointer<AVFormatContext>? = nil
        let opened = avformat_open_input(&context, url, nil, &options)
        guard opened >= 0, let context else { throw FF.openError(opened, input: name) }
        self.context = context
        let probed = avformat_find_stream_info(context, nil)
        guard probed >= 0 else { throw CaptureError.cannotOpen(input: name, reason: FF.message(probed)) }
    }

    deinit {
        var pointer: UnsafeMutablePointer<AVFormatContext>? = context
        avformat_close_input(&pointer)
    }

    func stream(_ index: Int32) -> UnsafeMutablePointer<AVStream>? {
        guard index >= 0, UInt32(index) < context.pointee.nb_streams else { return nil }
        return context.pointee.streams[Int(index)]
    }
}

/// A decoder opened for one stream.
final class Decoder {
    let context: UnsafeMutablePointer<AVCodecContext>

    init(parameters: UnsafePointer<AVCodecParameters>, threads: Int, name: String) throws {
        _ = FF.logConfigured
        let id = parameters.pointee.codec_id
        guard let codec = avcodec_find_decoder(id) else {
            throw CaptureError.unsupportedCodec(input: name, reason: "no decoder for \(FF.codecName(id))")
        }
        guard let context = avcodec_alloc_context3(codec) else {
            throw CaptureError.unsupportedCodec(input: name, reason: "cannot allocate a \(FF.codecName(id)) decoder")
        }
        self.context = context
        let copied = avcodec_parameters_to_context(context, parameters)
        guard copied >= 0 else {
            throw CaptureError.unsupportedCodec(input: name, reason: FF.message(copied))
        }
        // Frame threads decode consecutive frames at once, slice threads split one frame; the
        // decoder uses whichever the stream allows.
        context.pointee.thread_count = Int32(max(1, threads))
        context.pointee.thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE
        let opened = avcodec_open2(context, codec, nil)
        guard opened >= 0 else {
            throw CaptureError.unsupportedCodec(input: name, reason: "\(FF.codecName(id)): \(FF.message(opened))")
        }
    }

    /// A decoder without a container, for camera MJPEG.
    init(codecID: AVCodecID, threads: Int, name: String) throws {
        _ = FF.logConfigured
        guard let codec = avcodec_find_decoder(codecID), let context = avcodec_alloc_context3(codec) else {
            throw CaptureError.unsupportedCodec(input: name, reason: "no decoder for \(FF.codecName(codecID))")
        }
        self.context = context
        context.pointee.thread_count = Int32(max(1, threads))
        let opened = avcodec_open2(context, codec, nil)
        guard opened >= 0 else {
            throw CaptureError.unsupportedCodec(input: name, reason: "\(FF.codecName(codecID)): \(FF.message(opened))")
        }
    }

    deinit {
        var pointer: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&pointer)
    }

    /// nil sends the end of input, so the decoder gives back the frames it still holds.
    func send(_ packet: Packet?) -> Int32 { avcodec_send_packet(context, packet?.packet) }
    func receive(into frame: AVFrameBox) -> Int32 { avcodec_receive_frame(context, frame.frame) }
}

final class AVFrameBox {
    let frame: UnsafeMutablePointer<AVFrame>

    init() throws {
        guard let frame = av_frame_alloc() else {
            throw CaptureError.readFailed(input: "AVFrame", reason: "out of memory")
        }
        self.frame = frame
    }

    deinit {
        var pointer: UnsafeMutablePointer<AVFrame>? = frame
        av_frame_free(&pointer)
    }
}

final class Packet {
    let packet: UnsafeMutablePointer<AVPacket>

    init() throws {
        guard let packet = av_packet_alloc() else {
            throw CaptureError.readFailed(input: "AVPacket", reason: "out of memory")
        }
        self.packet = packet
    }

    deinit {
        var pointer: UnsafeMutablePointer<AVPacket>? = packet
        av_packet_free(&pointer)
    }
}

/// Colour conversion between a decoded or to-be-encoded picture and RGB24, at the same size.
/// The SwsContext is reused for as long as the source's size and format stay the same.
final class RGBConverter {
    private var context: OpaquePointer? = nil
    private var key: Key? = nil

    struct Key: Equatable {
        var width: Int32, height: Int32, format: Int32, fullRange: Bool, colorspace: Int32, toRGB: Bool
    }

    private let flags: Int32?

    /// Decoding (`flags` nil) picks per picture (`decodingFlags`); encoders, which subsample
    /// chroma, name their filter.
    init(flags: Int32? = nil) { self.flags = flags }

    /// Full-range (JPEG, MJPEG) pictures go through swscale's accurate path with full chroma
    /// interpolation: bit for bit what `ffmpeg -sws_flags bicubic+accurate_rnd+full_chroma_int`
    /// gives, within 2 levels of Pillow (the fast path was 2.5 levels off Pillow there).
    /// Limited-range video keeps the SIMD path, which is what ffmpeg's default command line does
    /// (bit for bit) and 2.8x faster than the accurate one (woman2: 1,180 against 420 fps).
    static func decodingFlags(fullRange: Bool) -> Int32 {
        fullRange ? SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT : SWS_FAST_BILINEAR
    }

    deinit { sws_freeContext(context) }

    /// Deprecated "J" formats (full-range YUV from JPEG) become their plain twin plus a range flag,
    /// which is what swscale wants.
    private static func plainFormat(_ format: AVPixelFormat) -> (AVPixelFormat, Bool) {
        switch format {
        case AV_PIX_FMT_YUVJ420P: return (AV_PIX_FMT_YUV420P, true)
        case AV_PIX_FMT_YUVJ422P: return (AV_PIX_FMT_YUV422P, true)
        case AV_PIX_FMT_YUVJ444P: return (AV_PIX_FMT_YUV444P, true)
        case AV_PIX_FMT_YUVJ440P: return (AV_PIX_FMT_YUV440P, true)
        case AV_PIX_FMT_YUVJ411P: return (AV_PIX_FMT_YUV411P, true)
        default: return (format, false)
        }
    }

    private func prepare(_ wanted: Key, name: String) throws {
        if wanted == key, context != nil { return }
        let (yuv, _) = Self.plainFormat(AVPixelFormat(rawValue: wanted.format))
        let rgb = AV_PIX_FMT_RGB24
        if wanted.toRGB {
            guard sws_isSupportedInput(yuv) != 0 else {
                throw CaptureError.unsupportedPixelFormat(
                    input: name, reason: "cannot convert \(FF.pixelFormatName(wanted.format)) to RGB")
            }
        } else {
            guard sws_isSupportedOutput(yuv) != 0 else {
                throw CaptureError.unsupportedPixelFormat(
                    input: name, reason: "cannot convert RGB to \(FF.pixelFormatName(wanted.format))")
            }
        }
        sws_freeContext(context)
        let flags = self.flags ?? Self.decodingFlags(fullRange: wanted.fullRange)
        context = wanted.toRGB
            ? sws_getContext(wanted.width, wanted.height, yuv, wanted.width, wanted.height, rgb, flags, nil, nil, nil)
            : sws_getContext(wanted.width, wanted.height, rgb, wanted.width, wanted.height, yuv, flags, nil, nil, nil)
        guard let context else {
            key = nil
            throw CaptureError.unsupportedPixelFormat(
                input: name, reason: "swscale refused \(FF.pixelFormatName(wanted.format)) at \(wanted.width)x\(wanted.height)")
        }
        // YUV<->RGB matrix from the stream's colour space (BT.601 when unspecified), and the range.
        let table = sws_getCoefficients(wanted.colorspace)
        let yuvRange: Int32 = wanted.fullRange ? 1 : 0
        if wanted.toRGB {
            sws_setColorspaceDetails(context, table, yuvRange, table, 1, 0, 1 << 16, 1 << 16)
        } else {
            sws_setColorspaceDetails(context, table, 1, table, yuvRange, 0, 1 << 16, 1 << 16)
        }
        key = wanted
    }

    private static func key(for frame: UnsafeMutablePointer<AVFrame>, toRGB: Bool) -> Key {
        let (_, jpegRange) = plainFormat(AVPixelFormat(rawValue: frame.pointee.format))
        return Key(width: frame.pointee.width, height: frame.pointee.height, format: frame.pointee.format,
                   fullRange: jpegRange || frame.pointee.color_range == AVCOL_RANGE_JPEG,
                   colorspace: Int32(frame.pointee.colorspace.rawValue), toRGB: toRGB)
    }

    /// Bytes swscale may store beyond the last row of a packed destination.
    static let writeSlack = 256

    /// Converts a decoded picture into a new RGB24 buffer, `3 * width` bytes a row.
    func rgb(from frame: UnsafeMutablePointer<AVFrame>, name: String) throws -> [UInt8] {
        try prepare(Self.key(for: frame, toRGB: true), name: name)
        let width = Int(frame.pointee.width), height = Int(frame.pointee.height)
        let stride = 3 * width
        var scaled: Int32 = 0
        let context = self.context
        // swscale writes straight into the array's storage: no intermediate copy. Its SIMD paths
        // store whole vectors, so with a row length that is not a multiple of the vector size the
        // last row runs past `stride * height` (a 360-pixel-wide H.264 video corrupted the heap):
        // the array gets that slack as spare capacity beyond its count.
        // The SIMD path converts whole blocks of 8 (or 16) pixels and, when a row's width is not
        // a multiple of that, its last pixels came out wrong by ~100 levels (a 199-wide JPEG,
        // 596-wide H.264). Rows are written at a pitch of whole 16-pixel blocks, 64-byte
        // aligned, and then packed in place (each row moves down).
        let pitch = (3 * ((width + 15) / 16 * 16) + 63) / 64 * 64
        let pixels = [UInt8](unsafeUninitializedCapacity: pitch * height + Self.writeSlack) { buffer, count in
            var destination: (UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt8>?) =
                (buffer.baseAddress, nil, nil, nil)
            var destinationStride: (Int32, Int32, Int32, Int32) = (Int32(pitch), 0, 0, 0)
            withUnsafeMutablePointer(to: &frame.pointee.data) { data in
                withUnsafeMutablePointer(to: &frame.pointee.linesize) { linesize in
                    withUnsafeMutablePointer(to: &destination) { dst in
                        withUnsafeMutablePointer(to: &destinationStride) { dstStride in
                            scaled = sws_scale(
                                context,
                                UnsafeRawPointer(data).assumingMemoryBound(to: UnsafePointer<UInt8>?.self),
                                UnsafeRawPointer(linesize).assumingMemoryBound(to: Int32.self),
                                0, Int32(height),
                                UnsafeRawPointer(dst).assumingMemoryBound(to: UnsafeMutablePointer<UInt8>?.self),
                                UnsafeRawPointer(dstStride).assumingMemoryBound(to: Int32.self))
                        }
                    }
                }
            }
            if scaled > 0, pitch != stride, let base = buffer.baseAddress {
                for row in 1..<max(1, height) { memmove(base + row * stride, base + row * pitch, stride) }
            }
            count = scaled > 0 ? stride * height : 0
        }
        guard scaled > 0 else {
            throw CaptureError.unsupportedPixelFormat(
                input: name, reason: "swscale failed on \(FF.pixelFormatName(frame.pointee.format))")
        }
        return pixels
    }

    /// Fills `frame` (already allocated in its own format and size) from RGB24 pixels.
    func fill(_ frame: UnsafeMutablePointer<AVFrame>, fromRGB pixels: UnsafePointer<UInt8>, stride: Int,
              fullRange: Bool, colorspace: Int32, name: String) throws {
        var wanted = Self.key(for: frame, toRGB: false)
        wanted.fullRange = wanted.fullRange || fullRange
        wanted.colorspace = colorspace
        try prepare(wanted, name: name)
        var source: (UnsafePointer<UInt8>?, UnsafePointer<UInt8>?, UnsafePointer<UInt8>?, UnsafePointer<UInt8>?) =
            (pixels, nil, nil, nil)
        var sourceStride: (Int32, Int32, Int32, Int32) = (Int32(stride), 0, 0, 0)
        let context = self.context
        let height = frame.pointee.height
        let scaled = withUnsafeMutablePointer(to: &frame.pointee.data) { data in
            withUnsafeMutablePointer(to: &frame.pointee.linesize) { linesize in
                withUnsafeMutablePointer(to: &source) { src in
                    withUnsafeMutablePointer(to: &sourceStride) { srcStride in
                        sws_scale(
                            context,
                            UnsafeRawPointer(src).assumingMemoryBound(to: UnsafePointer<UInt8>?.self),
                            UnsafeRawPointer(srcStride).assumingMemoryBound(to: Int32.self),
                            0, height,
                            UnsafeRawPointer(data).assumingMemoryBound(to: UnsafeMutablePointer<UInt8>?.self),
                            UnsafeRawPointer(linesize).assumingMemoryBound(to: Int32.self))
                    }
                }
            }
        }
        guard scaled > 0 else {
            throw CaptureError.encoderFailed(output: name, reason: "swscale failed converting RGB to \(FF.pixelFormatName(frame.pointee.format))")
        }
    }
}
