import CFFmpeg
import Foundation

// Owners of the FFmpeg objects on the writing side, in the same spirit as FFmpeg.swift.

/// An output container whose file is open for writing.
final class FormatOutput {
    let context: UnsafeMutablePointer<AVFormatContext>
    private var fileOpen = false

    /// Creates the container for `formatName` and opens `path`, so an unwritable path fails here.
    init(path: String, formatName: String) throws {
        _ = FF.logConfigured
        var context: UnsafeMutablePointer<AVFormatContext>? = nil
        let allocated = avformat_alloc_output_context2(&context, nil, formatName, path)
        guard allocated >= 0, let context else {
            throw CaptureError.unsupportedOutput(output: path, reason: "FFmpeg has no \(formatName) muxer (\(FF.message(allocated)))")
        }
        self.context = context
        let opened = avio_open(&context.pointee.pb, path, AVIO_FLAG_WRITE)
        guard opened >= 0 else { throw CaptureError.cannotWrite(output: path, reason: FF.message(opened)) }
        fileOpen = true
    }

    var needsGlobalHeader: Bool { context.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 }

    /// Flushes and closes the file; returns FFmpeg's error code (0 when all went well).
    func closeFile() -> Int32 {
        guard fileOpen else { return 0 }
        fileOpen = false
        return avio_closep(&context.pointee.pb)
    }

    deinit {
        _ = closeFile()
        avformat_free_context(context)
    }
}

/// An opened encoder.
final class Encoder {
    let context: UnsafeMutablePointer<AVCodecContext>

    init(codec: UnsafePointer<AVCodec>, output: String, configure: (UnsafeMutablePointer<AVCodecContext>) -> Void) throws {
        guard let context = avcodec_alloc_context3(codec) else {
            throw CaptureError.encoderFailed(output: output, reason: "cannot allocate the \(String(cString: codec.pointee.name)) encoder")
        }
        self.context = context
        configure(context)
        let opened = avcodec_open2(context, codec, nil)
        guard opened >= 0 else {
            throw CaptureError.encoderFailed(
                output: output, reason: "\(String(cString: codec.pointee.name)) refused \(context.pointee.width)x\(context.pointee.height) \(FF.pixelFormatName(context.pointee.pix_fmt.rawValue)): \(FF.message(opened))")
        }
    }

    deinit {
        var pointer: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&pointer)
    }

    /// Every packet the encoder has ready, concatenated (an image encoder's one picture).
    func receiveBytes(into packet: Packet, output: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while true {
            let received = avcodec_receive_packet(context, packet.packet)
            if received == FF.eof || received == FF.again { break }
            guard received >= 0 else { throw CaptureError.encoderFailed(output: output, reason: FF.message(received)) }
            if let data = packet.packet.pointee.data {
                bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(packet.packet.pointee.size)))
            }
            av_packet_unref(packet.packet)
        }
        return bytes
    }

    func setOption(_ name: String, _ value: String) {
        // Options the encoder does not know are ignored: presets differ between builds.
        _ = av_opt_set(context.pointee.priv_data, name, value, 0)
    }
}

extension AVFrameBox {
    /// A frame with its own pixel buffer in `format` at the given size.
    convenience init(format: AVPixelFormat, width: Int, height: Int, output: String) throws {
        try self.init()
        frame.pointee.format = format.rawValue
        frame.pointee.width = Int32(width)
        frame.pointee.height = Int32(height)
        let allocated = av_frame_get_buffer(frame, 0)
        guard allocated >= 0 else {
            throw CaptureError.encoderFailed(output: output, reason: "cannot allocate a \(width)x\(height) frame: \(FF.message(allocated))")
        }
    }
}
