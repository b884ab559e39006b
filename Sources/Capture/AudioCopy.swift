import CFFmpeg
import Foundation

/// Copies the best audio stream of an input file into an output container, packet for packet
/// (no decoding, no re-encoding), on the timeline of the video written beside it.
///
/// The packets come from one of two places: the `AudioTap` of the `VideoFileSource` reading the
/// video (one demuxer for both: pipes and streams work), or the input opened a second time on
/// its own (`make(from:)`: any file, without a source). Packets are read ahead only as far as the video written so
/// far (`copy(before:)`), which keeps the output interleaved and the muxer's buffer small; at the
/// end, audio stops at the end of the last video frame written, so a run cut short by
/// `--max-frames` or Ctrl-C gets no audio past its video.
///
/// Time origin: the source's frames count from the video stream's first timestamp, so the audio
/// is shifted by the video stream's start time (in the input's own clock) to stay in sync.
final class AudioCopy {
    /// The codec copied, FFmpeg's short name ("aac", "mp3", "opus").
    let codecName: String

    /// Where packets come from: a second opening of the input, or the video source's tap.
    private enum Feed {
        case file(FormatInput, index: Int32)
        case tap(AudioTap)
    }

    private let feed: Feed
    private let inputTimeBase: AVRational
    /// The video's first timestamp, in the audio stream's time base.
    private let origin: Int64
    private let output: UnsafeMutablePointer<AVStream>
    private let packet: Packet
    private let source: String
    private let path: String
    private let warningHandler: WarningHandler
    /// A packet read but not yet due: it starts after the video written so far.
    private var pending = false
    private var ended = false
    private var skipped = 0

    /// Opens `source`'s best audio stream and adds a matching stream to `container`, which must
    /// not have written its header yet. nil when there is nothing to copy: no audio stream, or a
    /// codec the container cannot hold (warned once through `warningHandler`).
    static func make(from source: String, into container: FormatOutput, path: String,
                     warningHandler: @escaping WarningHandler) throws -> AudioCopy? {
        let input = try FormatInput(url: source, name: source, networkTimeout: 10)
        let best = av_find_best_stream(input.context, AVMEDIA_TYPE_AUDIO, -1, -1, nil, 0)
        guard best >= 0, let stream = input.stream(best), let parameters = stream.pointee.codecpar else { return nil }
        let id = parameters.pointee.codec_id
        let supported = avformat_query_codec(container.context.pointee.oformat, id, FF_COMPLIANCE_NORMAL)
        guard supported == 1 else {
            let muxer = String(cString: container.context.pointee.oformat.pointee.name)
            warningHandler("\(path): the \(muxer) container cannot hold \(FF.codecName(id)) audio from \(source); writing video only")
            return nil
        }
        for i in 0..<Int32(input.context.pointee.nb_streams) where i != best {
            input.stream(i)?.pointee.discard = AVDISCARD_ALL
        }
        let video = av_find_best_stream(input.context, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
        var origin: Int64 = 0
        if let videoStream = input.stream(video), videoStream.pointee.start_time != FF.noPTS {
            origin = av_rescale_q(videoStream.pointee.start_time, videoStream.pointee.time_base, stream.pointee.time_base)
        }
        return try AudioCopy(feed: .file(input, index: best), parameters: parameters, timeBase: stream.pointee.time_base,
                             origin: origin, into: container, source: source, path: path, warningHandler: warningHandler)
    }

    /// The same, for packets from a video source's tap. nil (and the tap closed, so it stops
    /// queueing) when the container cannot hold the codec.
    static func make(from tap: AudioTap, into container: FormatOutput, path: String,
                     warningHandler: @escaping WarningHandler) throws -> AudioCopy? {
        let id = tap.parameters.pointee.codec_id
        guard avformat_query_codec(container.context.pointee.oformat, id, FF_COMPLIANCE_NORMAL) == 1 else {
            let muxer = String(cString: container.context.pointee.oformat.pointee.name)
            warningHandler("\(path): the \(muxer) container cannot hold \(FF.codecName(id)) audio from \(tap.source); writing video only")
            tap.close()
            return nil
        }
        return try AudioCopy(feed: .tap(tap), parameters: tap.parameters, timeBase: tap.timeBase, origin: tap.origin,
                             into: container, source: tap.source, path: path, warningHandler: warningHandler)
    }

    private init(feed: Feed, parameters: UnsafeMutablePointer<AVCodecParameters>, timeBase: AVRational, origin: Int64,
                 into container: FormatOutput, source: String, path: String, warningHandler: @escaping WarningHandler) throws {
        self.feed = feed
        inputTimeBase = timeBase
        self.origin = origin
        self.source = source
        self.path = path
        self.warningHandler = warningHandler
        codecName = FF.codecName(parameters.pointee.codec_id)

        guard let output = avformat_new_stream(container.context, nil) else {
            throw CaptureError.cannotWrite(output: path, reason: "cannot add an audio stream")
        }
        self.output = output
        let copied = avcodec_parameters_copy(output.pointee.codecpar, parameters)
        guard copied >= 0 else { throw CaptureError.cannotWrite(output: path, reason: "audio parameters: \(FF.message(copied))") }
        // The input container's tag may mean nothing (or something else) in the output's; the
        // muxer picks its own from the codec id.
        output.pointee.codecpar.pointee.codec_tag = 0
        // A hint: the muxer may choose another time base when it writes the header.
        output.pointee.time_base = timeBase
        packet = try Packet()
    }

    /// Copies every packet that starts before `limit` (a time in `timeBase`, on the output's
    /// timeline). Broken packets and refused writes are skipped with a warning; a read error
    /// ends the audio with a warning. Never throws: audio trouble must not end the video.
    func copy(before limit: Int64, timeBase: AVRational, into container: FormatOutput) {
        let bound = av_rescale_q(limit, timeBase, inputTimeBase)
        while !ended {
            if !pending {
                guard readPacket() else { return }
                pending = true
            }
            let p = packet.packet
            let start = p.pointee.pts != FF.noPTS ? p.pointee.pts : p.pointee.dts
            guard start - origin < bound else { return }
            pending = false
            defer { av_packet_unref(p) }
            if p.pointee.pts != FF.noPTS { p.pointee.pts -= origin }
            if p.pointee.dts != FF.noPTS { p.pointee.dts -= origin }
            av_packet_rescale_ts(p, inputTimeBase, output.pointee.time_base)
            p.pointee.stream_index = output.pointee.index
            p.pointee.pos = -1
            let written = av_interleaved_write_frame(container.context, p)
            if written < 0 { skip("an audio packet was refused by the muxer (\(FF.message(written)))") }
        }
    }

    /// Reads the next audio packet with a timestamp into `packet`; false at the end, or (from a
    /// tap) when the reader has not got further yet.
    private func readPacket() -> Bool {
        let p = packet.packet
        while true {
            switch feed {
            case .file(let input, let index):
                let read = av_read_frame(input.context, p)
                if read == FF.again { continue }
                if read < 0 {
                    if read != FF.eof {
                        warningHandler("\(path): reading audio from \(source) stopped (\(FF.message(read))); the audio ends early")
                    }
                    ended = true
                    return false
                }
                guard p.pointee.stream_index == index else { av_packet_unref(p); continue }
            case .tap(let tap):
                switch tap.take(into: p) {
                case .packet: break
                case .none: return false
                case .end:
                    ended = true
                    return false
                }
            }
            if p.pointee.pts == FF.noPTS && p.pointee.dts == FF.noPTS {
                av_packet_unref(p)
                skip("an audio packet without a timestamp was skipped")
                continue
            }
            if p.pointee.flags & AV_PKT_FLAG_CORRUPT != 0 {
                av_packet_unref(p)
                skip("a corrupt audio packet was skipped")
                continue
            }
            return true
        }
    }

    /// Warns about the first few skipped packets, then only counts them (see `finish`).
    private func skip(_ message: String) {
        skipped += 1
        if skipped <= 3 { warningHandler("\(path): \(message)") }
    }

    /// Stops copying; says how many packets were skipped when some warnings were held back.
    func finish() {
        if case .tap(let tap) = feed { tap.close() }
        if pending { av_packet_unref(packet.packet) }
        pending = false
        ended = true
        if skipped > 3 { warningHandler("\(path): \(skipped) audio packets were skipped in all") }
    }
}
