import CFFmpeg
import Foundation

/// Writes RGB frames to a video file (H.264 in MP4 by default) or, when the path ends in .png,
/// .jpg or .jpeg, to a single image (each frame written replaces the previous one).
///
/// The container comes from the extension: .mp4/.m4v, .mkv, .avi, .mov. The codec is libx264
/// where FFmpeg has it, MPEG-4 part 2 otherwise. The path is opened in `init`, so an unwritable
/// output fails before any work is done; `close()` writes the trailer, is idempotent, and runs
/// from `deinit` as a safety net (where its errors can only be ignored).
///
/// Odd sizes: H.264 4:2:0 cannot code an odd width or height (its cropping unit is two pixels),
/// so for odd sizes the writer switches to 4:4:4 (libx264's High 4:4:4 profile), which keeps the
/// exact size and every pixel; some hardware players do not play 4:4:4. Even sizes use yuv420p.
/// MPEG-4 part 2 codes odd sizes in 4:2:0 directly.
public final class VideoWriter {
    public enum Codec: String, Sendable, CaseIterable {
        /// libx264 when available, else MPEG-4 part 2.
        case automatic, h264, mpeg4
    }

    /// Where each frame's presentation time comes from.
    public enum Timing: Sendable {
        /// `frame.time` in seconds, rounded to the nearest frame period.
        case frameTime
        /// `frame.index`, one frame period each.
        case frameIndex
    }

    public struct Options {
        public var codec: Codec
        /// libx264 preset (speed against size) and constant rate factor (quality; lower is better).
        public var preset: String
        public var crf: Int
        /// MPEG-4 part 2 quantiser, 2 (best) to 31.
        public var mpeg4Quality: Int
        public var threads: Int
        public var timing: Timing
        /// A media file whose best audio stream is copied into the output (stream copy, no
        /// re-encoding), cut to the video written; nil writes video only. Ignored for images.
        /// When the container cannot hold that codec, the writer warns once and writes video only.
        public var audioFrom: String?
        /// The audio of the `VideoFileSource` whose frames are written, from its own demuxer
        /// (`tapAudio()`): what annotate uses, since it also works for pipes and streams. Takes
        /// precedence over `audioFrom`.
        public var audioTap: AudioTap?
        public var warningHandler: WarningHandler

        public init(codec: Codec = .automatic, preset: String = "veryfast", crf: Int = 20,
                    mpeg4Quality: Int = 3, threads: Int = 2, timing: Timing = .frameTime, audioFrom: String? = nil,
                    audioTap: AudioTap? = nil, warningHandler: @escaping WarningHandler = Warnings.standardError) {
            self.audioTap = audioTap
            self.codec = codec
            self.preset = preset
            self.crf = crf
            self.mpeg4Quality = mpeg4Quality
            self.threads = threads
            self.timing = timing
            self.audioFrom = audioFrom
            self.warningHandler = warningHandler
        }
    }

    public let path: String
    public let width: Int
    public let height: Int
    public let frameRateNumerator: Int
    public let frameRateDenominator: Int
    /// What was chosen: "h264", "mpeg4", "png" or "mjpeg", and the coded pixel format.
    public let codecName: String
    public let pixelFormat: String
    /// The audio codec copied from `Options.audioFrom` ("aac", "mp3", ...), nil when the output
    /// has no audio.
    public let audioCodecName: String?
    public private(set) var framesWritten = 0

    private let options: Options
    private var backend: Backend?

    private enum Backend {
        case video(VideoEncoding)
        case image(OutputFile, ImageWriter.Format)
    }

    /// The extensions the writer accepts, and FFmpeg's muxer for each.
    static let containers: [String: String] = ["mp4": "mp4", "m4v": "mp4", "mkv": "matroska", "avi": "avi", "mov": "mov"]

    public init(path: String, width: Int, height: Int, frameRateNumerator: Int = 25, frameRateDenominator: Int = 1,
                options: Options = Options()) throws {
        self.path = path
        self.width = width
        self.height = height
        self.frameRateNumerator = frameRateNumerator
        self.frameRateDenominator = frameRateDenominator
        self.options = options
        guard width > 0, height > 0, width <= 16384, height <= 16384 else {
            throw CaptureError.invalidFrame(output: path, reason: "frame size \(width)x\(height) is out of range")
        }
        guard frameRateNumerator > 0, frameRateDenominator > 0,
              frameRateNumerator <= Int(Int32.max), frameRateDenominator <= Int(Int32.max) else {
            throw CaptureError.invalidFrame(output: path, reason: "frame rate \(frameRateNumerator)/\(frameRateDenominator) is not positive")
        }
        if let image = ImageWriter.Format(path: path) {
            backend = .image(try OutputFile(path: path), image)
            codecName = image == .png ? "png" : "mjpeg"
            pixelFormat = image == .png ? "rgb24" : "yuvj444p"
            audioCodecName = nil
            return
        }
        let ext = (path as NSString).pathExtension.lowercased()
        guard let muxer = Self.containers[ext] else {
            throw CaptureError.unsupportedOutput(
                output: path, reason: "unknown extension '.\(ext)'; use .mp4, .mkv, .avi, .mov, .png or .jpg")
        }
        let encoding = try VideoEncoding(
            path: path, muxer: muxer, width: width, height: height,
            rate: AVRational(num: Int32(frameRateNumerator), den: Int32(frameRateDenominator)), options: options)
        codecName = encoding.codecName
        pixelFormat = FF.pixelFormatName(encoding.encoder.context.pointee.pix_fmt.rawValue)
        audioCodecName = encoding.audio?.codecName
        backend = .video(encoding)
    }

    deinit {
        do { try close() } catch { options.warningHandler("\(path): closing in deinit failed: \(error)") }
    }

    /// Encodes one frame, which must have the size given at init.
    public func write(_ frame: Frame) throws {
        guard let backend else { throw CaptureError.invalidFrame(output: path, reason: "the writer is closed") }
        guard frame.width == width, frame.height == height else {
            throw CaptureError.invalidFrame(
                output: path, reason: "frame #\(frame.index) is \(frame.width)x\(frame.height), the video is \(width)x\(height)")
        }
        try ImageWriter.validate(frame, name: path)
        switch backend {
        case .video(let encoding):
            let pts: Int64
            switch options.timing {
            case .frameIndex: pts = Int64(frame.index)
            case .frameTime:
                pts = Int64((frame.time * Double(frameRateNumerator) / Double(frameRateDenominator)).rounded())
            }
            try encoding.encode(frame, pts: pts)
        case .image(let file, let format):
            if framesWritten == 1 {
                options.warningHandler("\(path): an image holds one frame; each new frame replaces the last")
            }
            try file.rewrite(try ImageWriter.encode(frame, as: format, name: path))
        }
        framesWritten += 1
    }

    /// Flushes the encoder, writes the trailer and closes the file. Later calls do nothing.
    public func close() throws {
        guard let backend else { return }
        self.backend = nil
        switch backend {
        case .video(let encoding): try encoding.finish()
        case .image(let file, _): try file.close()
        }
    }
}

/// The container, encoder and conversion state of one video output.
private final class VideoEncoding {
    let path: String
    let output: FormatOutput
    let encoder: Encoder
    let stream: UnsafeMutablePointer<AVStream>
    let picture: AVFrameBox
    let packet: Packet
    let converter = RGBConverter(flags: SWS_BILINEAR | SWS_ACCURATE_RND)
    let codecName: String
    let warningHandler: WarningHandler
    /// The input's audio, copied alongside the video; nil for video only.
    let audio: AudioCopy?
    private var lastPTS: Int64?
    private var warnedPTS = false

    // BT.601 matrix, limited range: what players assume for SD material without tags.
    private static let colorspace = AVCOL_SPC_SMPTE170M

    init(path: String, muxer: String, width: Int, height: Int, rate: AVRational, options: VideoWriter.Options) throws {
        self.path = path
        warningHandler = options.warningHandler
        output = try FormatOutput(path: path, formatName: muxer)

        let x264 = avcodec_find_encoder_by_name("libx264")
        let mpeg4 = avcodec_find_encoder(AV_CODEC_ID_MPEG4)
        let chosen: UnsafePointer<AVCodec>?
        switch options.codec {
        case .automatic: chosen = x264 ?? mpeg4
        case .h264: chosen = x264
        case .mpeg4: chosen = mpeg4
        }
        guard let codec = chosen else {
            throw CaptureError.encoderFailed(output: path, reason: "FFmpeg has no \(options.codec == .mpeg4 ? "MPEG-4" : "libx264") encoder")
        }
        let isH264 = codec.pointee.id == AV_CODEC_ID_H264
        codecName = FF.codecName(codec.pointee.id)
        let odd = width % 2 == 1 || height % 2 == 1
        let pixelFormat = isH264 && odd ? AV_PIX_FMT_YUV444P : AV_PIX_FMT_YUV420P

        guard let stream = avformat_new_stream(output.context, nil) else {
            throw CaptureError.encoderFailed(output: path, reason: "cannot add a stream")
        }
        self.stream = stream
        let globalHeader = output.needsGlobalHeader
        encoder = try Encoder(codec: codec, output: path) { context in
            context.pointee.width = Int32(width)
            context.pointee.height = Int32(height)
            context.pointee.pix_fmt = pixelFormat
            context.pointee.time_base = AVRational(num: rate.den, den: rate.num)
            context.pointee.framerate = rate
            context.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
            context.pointee.colorspace = Self.colorspace
            context.pointee.color_range = AVCOL_RANGE_MPEG
            context.pointee.thread_count = Int32(max(1, options.threads))
            if globalHeader { context.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
            if isH264 {
                _ = av_opt_set(context.pointee.priv_data, "preset", options.preset, 0)
                _ = av_opt_set(context.pointee.priv_data, "crf", String(options.crf), 0)
            } else {
                context.pointee.flags |= AV_CODEC_FLAG_QSCALE
                context.pointee.global_quality = Int32(max(2, min(31, options.mpeg4Quality))) * FF_QP2LAMBDA
                context.pointee.gop_size = 12
            }
        }
        let copied = avcodec_parameters_from_context(stream.pointee.codecpar, encoder.context)
        guard copied >= 0 else { throw CaptureError.encoderFailed(output: path, reason: FF.message(copied)) }
        stream.pointee.time_base = encoder.context.pointee.time_base
        stream.pointee.avg_frame_rate = rate
        // Every stream must exist before the header is written.
        if let tap = options.audioTap {
            audio = try AudioCopy.make(from: tap, into: output, path: path, warningHandler: options.warningHandler)
        } else if let source = options.audioFrom {
            audio = try AudioCopy.make(from: source, into: output, path: path, warningHandler: options.warningHandler)
        } else {
            audio = nil
        }
        picture = try AVFrameBox(format: pixelFormat, width: width, height: height, output: path)
        picture.frame.pointee.colorspace = Self.colorspace
        picture.frame.pointee.color_range = AVCOL_RANGE_MPEG
        packet = try Packet()
        let header = avformat_write_header(output.context, nil)
        guard header >= 0 else { throw CaptureError.cannotWrite(output: path, reason: FF.message(header)) }
    }

    func encode(_ frame: Frame, pts requested: Int64) throws {
        var pts = requested
        if let last = lastPTS, pts <= last {
            // Encoders need strictly increasing timestamps; two frames in one period keep both.
            if !warnedPTS {
                warningHandler("\(path): frame #\(frame.index) at \(frame.time) s is not after the previous frame; shifted by one period")
                warnedPTS = true
            }
            pts = last + 1
        }
        lastPTS = pts
        // The encoder may still hold the previous picture's buffer.
        let writable = av_frame_make_writable(picture.frame)
        guard writable >= 0 else { throw CaptureError.encoderFailed(output: path, reason: FF.message(writable)) }
        try frame.pixels.withUnsafeBufferPointer { pixels in
            guard let base = pixels.baseAddress else { return }
            try converter.fill(picture.frame, fromRGB: base, stride: frame.stride, fullRange: false,
                               colorspace: Int32(Self.colorspace.rawValue), name: path)
        }
        picture.frame.pointee.pts = pts
        let sent = avcodec_send_frame(encoder.context, picture.frame)
        guard sent >= 0 else { throw CaptureError.encoderFailed(output: path, reason: "frame #\(frame.index): \(FF.message(sent))") }
        try drain()
        // Audio that starts before this frame: the muxer interleaves it with the video packets
        // the encoder still holds, so its buffer stays at about the encoder's delay.
        audio?.copy(before: pts, timeBase: encoder.context.pointee.time_base, into: output)
    }

    /// Moves every packet the encoder has ready into the container.
    private func drain() throws {
        while true {
            let received = avcodec_receive_packet(encoder.context, packet.packet)
            if received == FF.again || received == FF.eof { return }
            guard received >= 0 else { throw CaptureError.encoderFailed(output: path, reason: FF.message(received)) }
            av_packet_rescale_ts(packet.packet, encoder.context.pointee.time_base, stream.pointee.time_base)
            packet.packet.pointee.stream_index = stream.pointee.index
            let written = av_interleaved_write_frame(output.context, packet.packet)
            guard written >= 0 else { throw CaptureError.cannotWrite(output: path, reason: FF.message(written)) }
        }
    }

    func finish() throws {
        // The file is closed whatever happens; the first error is the one reported.
        var failure: CaptureError? = nil
        let flushed = avcodec_send_frame(encoder.context, nil)
        if flushed < 0, flushed != FF.eof {
            failure = .encoderFailed(output: path, reason: FF.message(flushed))
        } else {
            do { try drain() } catch let error as CaptureError { failure = error }
        }
        if let audio {
            // Audio ends with the last video frame written (not the input's), so a run cut
            // short gets no sound past its picture.
            if let lastPTS { audio.copy(before: lastPTS + 1, timeBase: encoder.context.pointee.time_base, into: output) }
            audio.finish()
        }
        let trailer = av_write_trailer(output.context)
        if failure == nil, trailer < 0 { failure = .cannotWrite(output: path, reason: FF.message(trailer)) }
        let closed = output.closeFile()
        if failure == nil, closed < 0 { failure = .cannotWrite(output: path, reason: FF.message(closed)) }
        if let failure { throw failure }
    }
}
