import CFFmpeg
import Foundation
import TestSupport
import XCTest
@testable import Capture

/// The writer's audio stream copy. Inputs are made by the ffmpeg command line (skipped without
/// it); outputs are checked by reading their packets back with libavformat.
final class AudioCopyTests: XCTestCase {
    /// 2 s of a 25 fps test pattern with a 440 Hz tone, mono 44.1 kHz (or no audio).
    static func makeInput(in folder: URL, name: String = "in.mp4", audio: [String]? = ["-c:a", "aac"],
                          seconds: Double = 2) throws -> String {
        let path = folder.appendingPathComponent(name).path
        var arguments = ["-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"]
        if audio != nil { arguments += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"] }
        arguments += ["-t", String(seconds), "-c:v", "libx264", "-pix_fmt", "yuv420p"]
        arguments += audio ?? ["-an"]
        try FFmpegCLI.run(arguments + [path])
        return path
    }

    /// Decodes `frames` frames of `input` (all when nil) and writes them with the input's audio.
    @discardableResult
    static func annotate(_ input: String, to output: String, frames: Int? = nil, audio: Bool = true,
                         warnings: WarningLog = WarningLog()) throws -> VideoWriter {
        let source = try VideoFileSource(path: input)
        defer { source.close() }
        let writer = try VideoWriter(
            path: output, width: source.info.width, height: source.info.height,
            frameRateNumerator: source.info.frameRateNumerator, frameRateDenominator: source.info.frameRateDenominator,
            options: .init(audioFrom: audio ? input : nil, warningHandler: warnings.handler))
        while frames.map({ writer.framesWritten < $0 }) ?? true, let frame = try source.nextFrame() {
            try writer.write(frame)
        }
        try writer.close()
        return writer
    }

    func testAudioIsCopiedAndEndsWithTheVideo() throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = try Self.makeInput(in: folder)
        let inputStreams = try StreamSummary.read(input)
        guard let inputAudio = inputStreams.audio, let inputVideo = inputStreams.video else {
            return XCTFail("the generated input has no audio")
        }
        for ext in ["mp4", "mkv", "mov"] {
            let output = folder.appendingPathComponent("out.\(ext)").path
            let warnings = WarningLog()
            let writer = try Self.annotate(input, to: output, warnings: warnings)
            XCTAssertEqual(writer.audioCodecName, "aac")
            XCTAssertEqual(warnings.messages, [], ext)
            let streams = try StreamSummary.read(output)
            let video = try XCTUnwrap(streams.video), audio = try XCTUnwrap(streams.audio, ext)
            XCTAssertEqual(audio.codec, "aac", ext)
            XCTAssertEqual(audio.sampleRate, 44100, ext)
            XCTAssertEqual(audio.channels, 1, ext)
            // Matroska cannot store the AAC priming packet's negative time, so its muxer shifts
            // both streams by it (as `ffmpeg -c copy` does); MP4 and MOV use an edit list.
            XCTAssertEqual(video.end - video.start, 2.0, accuracy: 0.001, ext)
            XCTAssertEqual(audio.end, video.end, accuracy: 1.0 / 25, ext)
            XCTAssertEqual(audio.start - video.start, inputAudio.start - inputVideo.start, accuracy: 0.001,
                           "\(ext): audio and video keep the input's offset")
            // Copied, not re-encoded: the same packets, byte for byte, as far as the video goes.
            let kept = inputAudio.packets.filter { $0.start < 2.0 }
            XCTAssertEqual(audio.packets.map(\.size), kept.map(\.size), ext)
            XCTAssertEqual(audio.packets.map(\.checksum), kept.map(\.checksum), ext)
        }
    }

    func testAudioStopsAtTheLastFrameWritten() throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = try Self.makeInput(in: folder)
        let output = folder.appendingPathComponent("ten.mp4").path
        try Self.annotate(input, to: output, frames: 10)
        let streams = try StreamSummary.read(output)
        let video = try XCTUnwrap(streams.video), audio = try XCTUnwrap(streams.audio)
        XCTAssertEqual(video.packets.count, 10)
        XCTAssertEqual(video.end, 0.4, accuracy: 0.001)
        XCTAssertEqual(audio.end, 0.4, accuracy: 1.0 / 25)
    }

    /// Frames count from the video's first timestamp, so audio must move with it: an input
    /// whose streams start at 3 s keeps its audio in sync (and not 3 s late, or cut away).
    func testAudioFollowsTheVideoOrigin() throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = try Self.makeInput(in: folder, name: "late.mkv", audio: ["-c:a", "aac", "-output_ts_offset", "3"])
        let source = try XCTUnwrap(try StreamSummary.read(input).video)
        XCTAssertEqual(source.start, 3, accuracy: 0.05, "the input does start late")
        let output = folder.appendingPathComponent("out.mp4").path
        try Self.annotate(input, to: output)
        let streams = try StreamSummary.read(output)
        let video = try XCTUnwrap(streams.video), audio = try XCTUnwrap(streams.audio)
        XCTAssertEqual(video.start, 0, accuracy: 0.001)
        XCTAssertEqual(audio.start, 0, accuracy: 0.03, "at most the AAC priming packet before the video")
        XCTAssertEqual(audio.end, video.end, accuracy: 1.0 / 25)
    }

    func testNoFramesWrittenGivesNoAudioPackets() throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = try Self.makeInput(in: folder)
        let output = folder.appendingPathComponent("empty.mp4").path
        try Self.annotate(input, to: output, frames: 0)
        XCTAssertEqual(try StreamSummary.read(output).audio?.packets.count ?? 0, 0)
    }

    func testInputWithoutAudioGivesVideoOnly() throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = try Self.makeInput(in: folder, audio: nil)
        let output = folder.appendingPathComponent("out.mp4").path
        let warnings = WarningLog()
        let writer = try Self.annotate(input, to: output, warnings: warnings)
        XCTAssertNil(writer.audioCodecName)
        XCTAssertEqual(warnings.messages, [])
        let streams = try StreamSummary.read(output)
        XCTAssertNotNil(streams.video)
        XCTAssertNil(streams.audio)
    }

    func testAudioOffWritesVideoOnly() throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = try Self.makeInput(in: folder)
        let output = folder.appendingPathComponent("out.mp4").path
        try Self.annotate(input, to: output, audio: false)
        XCTAssertNil(try StreamSummary.read(output).audio)
    }

    func testCodecTheContainerCannotHoldWarnsOnceAndWritesVideoOnly() throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // FFmpeg's mp4 muxer (5.x) takes no PCM; Matroska does.
        let input = try Self.makeInput(in: folder, name: "pcm.mkv", audio: ["-c:a", "pcm_s16le"])
        let mp4 = folder.appendingPathComponent("out.mp4").path
        let warnings = WarningLog()
        let writer = try Self.annotate(input, to: mp4, warnings: warnings)
        XCTAssertNil(writer.audioCodecName)
        XCTAssertEqual(warnings.messages.count, 1)
        XCTAssertTrue(warnings.messages.first?.contains("pcm_s16le") ?? false, "\(warnings.messages)")
        XCTAssertTrue(warnings.messages.first?.hasPrefix(mp4) ?? false, "\(warnings.messages)")
        XCTAssertNil(try StreamSummary.read(mp4).audio)
        XCTAssertEqual(try StreamSummary.read(mp4).video?.packets.count, 50)

        let mkv = folder.appendingPathComponent("out.mkv").path
        try Self.annotate(input, to: mkv)
        let audio = try XCTUnwrap(try StreamSummary.read(mkv).audio)
        XCTAssertEqual(audio.codec, "pcm_s16le")
        XCTAssertEqual(audio.end, 2.0, accuracy: 1.0 / 25)
    }

    func testMissingAudioSourceIsATypedErrorNamingIt() throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = folder.appendingPathComponent("gone.mp4").path
        XCTAssertThrowsError(try VideoWriter(path: folder.appendingPathComponent("out.mp4").path, width: 64, height: 48,
                                             options: .init(audioFrom: missing))) { error in
            guard case CaptureError.notFound(let name, _)? = error as? CaptureError else { return XCTFail("\(error)") }
            XCTAssertEqual(name, missing)
        }
    }

    func testImageOutputIgnoresAudio() throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = try Self.makeInput(in: folder, seconds: 0.2)
        let writer = try Self.annotate(input, to: folder.appendingPathComponent("still.png").path, frames: 1)
        XCTAssertNil(writer.audioCodecName)
    }
}

/// The ffmpeg command line, for making test inputs.
enum FFmpegCLI {
    static func run(_ arguments: [String]) throws {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin")
            .split(separator: ":").map { "\($0)/ffmpeg" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let path else { throw XCTSkip("the ffmpeg command line is not installed") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw XCTSkip("ffmpeg could not make the test input: \(String(decoding: message, as: UTF8.self))")
        }
    }
}

/// The first video and audio stream of a file, as its packets say (not as the header claims).
struct StreamSummary {
    struct Packet { var start: Double, end: Double, size: Int, checksum: UInt64 }
    struct Stream {
        var codec: String, sampleRate: Int, channels: Int
        var packets: [Packet] = []
        var start: Double { packets.map(\.start).min() ?? 0 }
        var end: Double { packets.map(\.end).max() ?? 0 }
    }
    var video: Stream?
    var audio: Stream?

    static func read(_ path: String) throws -> StreamSummary {
        let input = try FormatInput(url: path, name: path, networkTimeout: 1)
        var streams: [Int32: (isAudio: Bool, stream: Stream, timeBase: Double)] = [:]
        for i in 0..<Int32(input.context.pointee.nb_streams) {
            guard let s = input.stream(i), let p = s.pointee.codecpar else { continue }
            let type = p.pointee.codec_type
            guard type == AVMEDIA_TYPE_AUDIO || type == AVMEDIA_TYPE_VIDEO,
                  !streams.values.contains(where: { $0.isAudio == (type == AVMEDIA_TYPE_AUDIO) }) else { continue }
            let tb = s.pointee.time_base
            streams[i] = (type == AVMEDIA_TYPE_AUDIO,
                          Stream(codec: FF.codecName(p.pointee.codec_id), sampleRate: Int(p.pointee.sample_rate),
                                 channels: Int(p.pointee.ch_layout.nb_channels)),
                          Double(tb.num) / Double(tb.den))
        }
        let packet = try Capture.Packet()
        while av_read_frame(input.context, packet.packet) >= 0 {
            defer { av_packet_unref(packet.packet) }
            let p = packet.packet.pointee
            guard var entry = streams[p.stream_index] else { continue }
            let pts = p.pts != FF.noPTS ? p.pts : p.dts
            let bytes = UnsafeBufferPointer(start: p.data, count: Int(p.size))
            // FNV-1a: enough to tell copied packets from re-encoded ones.
            let checksum = Support.fnv1a64(bytes)
            entry.stream.packets.append(Packet(start: Double(pts) * entry.timeBase,
                                               end: Double(pts + p.duration) * entry.timeBase,
                                               size: Int(p.size), checksum: checksum))
            streams[p.stream_index] = entry
        }
        var summary = StreamSummary()
        for entry in streams.values {
            if entry.isAudio { summary.audio = entry.stream } else { summary.video = entry.stream }
        }
        return summary
    }
}
