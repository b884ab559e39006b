import CFFmpeg

/// Encodes a stream of same-sized RGB frames as JPEG pictures with libavcodec's MJPEG encoder.
/// Unlike `ImageWriter.encode`, which sets up an encoder per picture, this keeps the encoder,
/// the YUV picture and the colour converter between frames: a live preview encodes every frame
/// it shows. 4:2:0 and the fast converter, since speed matters more here than in a still image.
/// One thread at a time.
public final class JPEGEncoder {
    public let width: Int
    public let height: Int
    private let name: String
    private let quality: Int32
    private let encoder: Encoder
    private let picture: AVFrameBox
    private let packet: Packet
    private let converter = RGBConverter()
    private var pts: Int64 = 0

    /// `quality` is the JPEG quantiser scale, 2 (best) to 31; 5 looks clean at a third of the
    /// bytes of 2. `name` is what errors call the output.
    public init(width: Int, height: Int, quality: Int = 5, name: String = "JPEG stream") throws {
        guard width > 0, height > 0, width <= 16384, height <= 16384 else {
            throw CaptureError.invalidFrame(output: name, reason: "cannot encode \(width)x\(height) pictures")
        }
        _ = FF.logConfigured
        self.width = width
        self.height = height
        self.name = name
        self.quality = Int32(max(2, min(31, quality))) * FF_QP2LAMBDA
        guard let codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG) else {
            throw CaptureError.encoderFailed(output: name, reason: "FFmpeg has no MJPEG encoder")
        }
        let lambda = self.quality
        encoder = try Encoder(codec: codec, output: name) { context in
            context.pointee.width = Int32(width)
            context.pointee.height = Int32(height)
            context.pointee.pix_fmt = AV_PIX_FMT_YUVJ420P
            context.pointee.color_range = AVCOL_RANGE_JPEG
            context.pointee.time_base = AVRational(num: 1, den: 1000)
            context.pointee.flags |= AV_CODEC_FLAG_QSCALE
            context.pointee.global_quality = lambda
            context.pointee.thread_count = 1
        }
        picture = try AVFrameBox(format: AV_PIX_FMT_YUVJ420P, width: width, height: height, output: name)
        picture.frame.pointee.color_range = AVCOL_RANGE_JPEG
        packet = try Packet()
    }

    /// The JPEG bytes of `frame`, which must have the encoder's size.
    public func encode(_ frame: Frame) throws -> [UInt8] {
        guard frame.width == width, frame.height == height else {
            throw CaptureError.invalidFrame(
                output: name, reason: "frame #\(frame.index) is \(frame.width)x\(frame.height), the stream is \(width)x\(height)")
        }
        try ImageWriter.validate(frame, name: name)
        // The encoder may still hold a reference to the last picture's buffers.
        let writable = av_frame_make_writable(picture.frame)
        guard writable >= 0 else { throw CaptureError.encoderFailed(output: name, reason: FF.message(writable)) }
        try frame.pixels.withUnsafeBufferPointer { pixels in
            guard let base = pixels.baseAddress else { return }
            try converter.fill(picture.frame, fromRGB: base, stride: frame.stride, fullRange: true,
                               colorspace: Int32(AVCOL_SPC_BT470BG.rawValue), name: name)
        }
        picture.frame.pointee.quality = quality
        picture.frame.pointee.pts = pts
        pts += 1
        let sent = avcodec_send_frame(encoder.context, picture.frame)
        guard sent >= 0 else { throw CaptureError.encoderFailed(output: name, reason: FF.message(sent)) }
        // MJPEG is intra-only with no delay: the packet for this picture is ready now.
        let bytes = try encoder.receiveBytes(into: packet, output: name)
        guard !bytes.isEmpty else {
            throw CaptureError.encoderFailed(output: name, reason: "the MJPEG encoder produced no data for frame #\(frame.index)")
        }
        return bytes
    }
}
