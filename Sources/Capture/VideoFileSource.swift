import CFFmpeg
import Foundation

/// Frames from anything FFmpeg can open: video files (mp4, mkv, webm, avi, mov, ...), image files
/// (png, jpg, ...) and stream URLs (rtsp, http). Frames come out as RGB24 in decode order of
/// presentation, with the stream's best-effort timestamps.
public final class VideoFileSource: FrameSource {
    public struct Options {
        /// Decoder threads (frame and slice threading). 2 fits the two-core target machine.
        public var threads: Int
        /// Receives a line for each broken frame or packet that was skipped.
        public var warningHandler: WarningHandler
        /// For URLs: seconds without data before a read gives up.
        public var networkTimeout: Double

        public init(threads: Int = 2, warningHandler: @escaping WarningHandler = Warnings.standardError,
                    networkTimeout: Double = 10) {
            self.threads = threads
            self.warningHandler = warningHandler
            self.networkTimeout = networkTimeout
        }
    }

    public let info: SourceInfo
    private let name: String
    private let options: Options
    private var state: State?
    private var delivered = 0
    public private(set) var failure: Error?
    /// Where reading stands, for warnings: frames are numbered from 0, as in the CSV.
    private var position: String { delivered == 0 ? "before the first frame" : "after frame #\(delivered - 1)" }
    private var lastTime: Double?
    /// The audio handed to a writer from this demuxer (`tapAudio()`), nil when none was asked for.
    private var audioTap: AudioTap?

    /// Everything that holds C memory, dropped as one on `close()`.
    private final class State {
        let input: FormatInput
        let decoder: Decoder
        let frame: AVFrameBox
        let packet: Packet
        let converter = RGBConverter()
        let streamIndex: Int32
        var draining = false
        var finished = false
        init(input: FormatInput, decoder: Decoder, frame: AVFrameBox, packet: Packet, streamIndex: Int32) {
            self.input = input
            self.decoder = decoder
            self.frame = frame
            self.packet = packet
            self.streamIndex = streamIndex
        }
    }

    private let timeBase: Double
    /// Times count from the first frame's timestamp. (Not the stream's start time: containers
    /// without presentation times, such as AVI with B-frames, start later by the reorder delay.)
    private var firstTimestamp: Int64?
    private let frameInterval: Double

    /// Opens `path` (a file path or URL) and probes it. Throws `CaptureError` naming `path`.
    public init(path: String, options: Options = Options()) throws {
        self.name = path
        self.options = options
        // "-" is standard input, through FFmpeg's pipe protocol (a stream that cannot seek).
        let input = try FormatInput(url: path == "-" ? "pipe:0" : path, name: path == "-" ? "standard input" : path,
                                    networkTimeout: options.networkTimeout)
        let best = av_find_best_stream(input.context, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
        guard best >= 0, let stream = input.stream(best), let parameters = stream.pointee.codecpar else {
            throw CaptureError.noVideoStream(input: path, reason: best < 0 ? FF.message(best) : "no video stream")
        }
        // Only the video stream is demuxed into packets we look at.
        for i in 0..<Int32(input.context.pointee.nb_streams) where i != best {
            input.stream(i)?.pointee.discard = AVDISCARD_ALL
        }
        let decoder = try Decoder(parameters: parameters, threads: options.threads, name: path)
        state = State(input: input, decoder: decoder, frame: try AVFrameBox(), packet: try Packet(), streamIndex: best)

        let tb = stream.pointee.time_base
        timeBase = tb.den == 0 ? 0 : Double(tb.num) / Double(tb.den)
        // FFmpeg's own guess: the container's base rate unless the average says it is a field rate.
        var rate = av_guess_frame_rate(input.context, stream, nil)
        if rate.num <= 0 || rate.den <= 0 { rate = stream.pointee.avg_frame_rate }
        if rate.num <= 0 || rate.den <= 0 { rate = AVRational(num: 0, den: 1) }
        frameInterval = rate.num > 0 ? Double(rate.den) / Double(rate.num) : 0

        var duration: Double? = nil
        if stream.pointee.duration != FF.noPTS, stream.pointee.duration > 0 {
            duration = Double(stream.pointee.duration) * timeBase
        } else if input.context.pointee.duration != FF.noPTS, input.context.pointee.duration > 0 {
            duration = Double(input.context.pointee.duration) / Double(AV_TIME_BASE)
        }
        let count = stream.pointee.nb_frames
        info = SourceInfo(
            name: path,
            width: Int(parameters.pointee.width), height: Int(parameters.pointee.height),
            frameRateNumerator: Int(rate.num), frameRateDenominator: Int(rate.den),
            timeBaseNumerator: Int(tb.num), timeBaseDenominator: Int(tb.den),
            frameCount: count > 0 ? Int(count) : nil, duration: duration,
            codec: FF.codecName(parameters.pointee.codec_id),
            pixelFormat: FF.pixelFormatName(parameters.pointee.format))
    }

    deinit { close() }

    public func close() {
        audioTap?.finish()
        state = nil
    }

    /// The input's best audio stream, read by this source's own demuxer and queued for a writer
    /// (`VideoWriter.Options.audioTap`); nil when the input has no audio. Call before the first
    /// `nextFrame()`. One reading serves both, so pipes and live streams keep their sound.
    public func tapAudio() -> AudioTap? {
        if let audioTap { return audioTap }
        guard let state, delivered == 0 else { return nil }
        let context = state.input.context
        let best = av_find_best_stream(context, AVMEDIA_TYPE_AUDIO, -1, state.streamIndex, nil, 0)
        guard best >= 0, let stream = state.input.stream(best), let video = state.input.stream(state.streamIndex),
              let tap = AudioTap(stream: stream, index: best, video: video, source: name) else { return nil }
        stream.pointee.discard = AVDISCARD_DEFAULT
        audioTap = tap
        return tap
    }

    /// Consecutive failures (of demuxing or decoding, with no frame in between) after which the
    /// input is taken to be unreadable rather than damaged in places.
    private let failureLimit = 64

    public func nextFrame() throws -> Frame? {
        guard let state, !state.finished else { return nil }
        var failures = 0
        while true {
            // Take a frame the decoder has ready before feeding it more.
            let received = state.decoder.receive(into: state.frame)
            if received == 0 {
                defer { av_frame_unref(state.frame.frame) }
                return try makeFrame(state)
            }
            if received == FF.eof {
                finish(state)
                return nil
            }
            if received != FF.again {
                failures += 1
                warn("a frame \(position) could not be decoded and was skipped (\(FF.message(received)))")
                if failures >= failureLimit { throw tooBroken(received) }
                continue
            }
            if state.draining {
                // EAGAIN while draining would loop forever; a decoder that does it is done.
                finish(state)
                return nil
            }
            let read = av_read_frame(state.input.context, state.packet.packet)
            if read == FF.again { continue }
            if read < 0 {
                if read != FF.eof {
                    if Sources.isFile(name) {
                        warn("reading stopped \(position) (\(FF.message(read))); keeping the frames decoded so far")
                    } else {
                        // A stream that stalls or drops is not its end: the job keeps what it
                        // has and then fails with this.
                        failure = CaptureError.readFailed(
                            input: name, reason: "the stream stopped \(position) (\(FF.message(read))); the frames read so far were kept")
                    }
                }
                state.draining = true
                audioTap?.finish()
                _ = state.decoder.send(nil)
                continue
            }
            defer { av_packet_unref(state.packet.packet) }
            if let audioTap, state.packet.packet.pointee.stream_index == audioTap.streamIndex {
                audioTap.push(state.packet.packet)
                continue
            }
            guard state.packet.packet.pointee.stream_index == state.streamIndex else { continue }
            let sent = state.decoder.send(state.packet)
            if sent < 0, sent != FF.again {
                failures += 1
                warn("a broken packet \(position) was skipped (\(FF.message(sent)))")
                if failures >= failureLimit { throw tooBroken(sent) }
            }
        }
    }

    private func makeFrame(_ state: State) throws -> Frame {
        let frame = state.frame.frame
        if frame.pointee.flags & AV_FRAME_FLAG_CORRUPT != 0 || frame.pointee.decode_error_flags != 0 {
            warn("frame #\(delivered) was damaged; the decoder concealed the errors")
        }
        let pixels = try state.converter.rgb(from: frame, name: name)
        let timestamp = frame.pointee.best_effort_timestamp
        let time: Double
        if timestamp != FF.noPTS {
            // Frames before the first timestamp (rare) were placed one period apart from 0.
            let elapsed = lastTime.map { $0 + frameInterval } ?? 0
            let origin = firstTimestamp ?? (timeBase > 0 ? timestamp - Int64((elapsed / timeBase).rounded()) : timestamp)
            firstTimestamp = origin
            time = Double(timestamp - origin) * timeBase
        } else {
            time = lastTime.map { $0 + frameInterval } ?? 0
        }
        lastTime = time
        let result = Frame(index: delivered, time: time, width: Int(frame.pointee.width),
                           height: Int(frame.pointee.height), pixels: pixels)
        delivered += 1
        return result
    }

    private func finish(_ state: State) {
        state.finished = true
        audioTap?.finish()
        if let expected = info.frameCount, delivered < expected {
            warn("ended after \(delivered) of the \(expected) frames the container announces (truncated or damaged?)")
        }
    }

    private func tooBroken(_ code: Int32) -> CaptureError {
        .readFailed(input: name, reason: "\(failureLimit) failures in a row \(position), last: \(FF.message(code))")
    }

    private func warn(_ message: String) {
        options.warningHandler("\(name): \(message)")
    }
}
