import Foundation
import XCTest

/// `fer-live annotate` keeps the input's audio: checked with ffprobe, independently of the
/// libavformat code that wrote it. Inputs come from the ffmpeg command line (skipped without it).
final class AudioEndToEndTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws { dir = try EndToEnd.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }
    private func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    private static func tool(_ name: String) throws -> String {
        let found = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin")
            .split(separator: ":").map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let found else { throw XCTSkip("the \(name) command line is not installed") }
        return found
    }

    private static func capture(_ tool: String, _ arguments: [String]) throws -> (Int32, Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, data)
    }

    /// 2 s of a 25 fps test pattern with a 440 Hz tone (AAC, mono, 44.1 kHz).
    private func makeInput() throws -> String {
        let input = path("tone.mp4")
        let (status, _) = try Self.capture(try Self.tool("ffmpeg"), [
            "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "2",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", input])
        guard status == 0 else { throw XCTSkip("ffmpeg could not make the test input") }
        return input
    }

    struct Probe {
        struct Stream { var type: String, codec: String, sampleRate: Int?, channels: Int?, end: Double, packets: Int }
        var streams: [Stream]
        var video: Stream? { streams.first { $0.type == "video" } }
        var audio: Stream? { streams.first { $0.type == "audio" } }
    }

    /// Streams and, from their packets, where each one ends.
    private func probe(_ file: String) throws -> Probe {
        let (status, data) = try Self.capture(try Self.tool("ffprobe"), [
            "-v", "error", "-of", "json",
            "-show_entries", "stream=index,codec_type,codec_name,sample_rate,channels:packet=stream_index,pts_time,duration_time",
            file])
        XCTAssertEqual(status, 0, "ffprobe \(file)")
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let streams = json["streams"] as? [[String: Any]] ?? []
        let packets = json["packets"] as? [[String: Any]] ?? []
        return Probe(streams: streams.map { s in
            let index = s["index"] as? Int ?? -1
            let own = packets.filter { $0["stream_index"] as? Int == index }
            let end = own.map { (Double($0["pts_time"] as? String ?? "") ?? 0) + (Double($0["duration_time"] as? String ?? "") ?? 0) }.max() ?? 0
            return Probe.Stream(type: s["codec_type"] as? String ?? "", codec: s["codec_name"] as? String ?? "",
                                sampleRate: (s["sample_rate"] as? String).flatMap { Int($0) },
                                channels: s["channels"] as? Int, end: end, packets: own.count)
        })
    }

    func testAnnotateKeepsTheAudioStream() throws {
        let input = try makeInput()
        let before = try probe(input)
        let result = try EndToEnd.run(["annotate", input, "-o", path("out.mp4"), "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let after = try probe(path("out.mp4"))
        let video = try XCTUnwrap(after.video), audio = try XCTUnwrap(after.audio, "the output has no audio")
        let source = try XCTUnwrap(before.audio)
        XCTAssertEqual(audio.codec, "aac")
        XCTAssertEqual(audio.codec, source.codec)
        XCTAssertEqual(audio.sampleRate, 44100)
        XCTAssertEqual(audio.channels, source.channels)
        XCTAssertEqual(video.packets, 50)
        XCTAssertEqual(audio.end, video.end, accuracy: 1.0 / 25, "audio lasts as long as the video")
    }

    func testMaxFramesCutsTheAudio() throws {
        let input = try makeInput()
        let result = try EndToEnd.run(["annotate", input, "-o", path("ten.mkv"), "--max-frames", "10", "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let after = try probe(path("ten.mkv"))
        let video = try XCTUnwrap(after.video), audio = try XCTUnwrap(after.audio)
        XCTAssertEqual(video.packets, 10)
        XCTAssertEqual(audio.codec, "aac")
        // Times as stored: Matroska shifts both streams by the AAC priming packet (23 ms).
        XCTAssertLessThanOrEqual(audio.end, video.end + 1.0 / 25, "no audio past the last frame")
        XCTAssertGreaterThanOrEqual(audio.end, video.end - 1.0 / 25)
        XCTAssertLessThan(video.end, 10.0 / 25 + 1.0 / 25)
    }

    /// Ctrl-C in the middle: the audio stops with the frames written, not at the input's end.
    func testInterruptCutsTheAudio() throws {
        let silent = path("long.mp4"), input = path("long-tone.mp4")
        try EndToEnd.makeSample(at: silent, frames: 400)   // 16 s, with a face to keep the detector busy
        let (made, _) = try Self.capture(try Self.tool("ffmpeg"), [
            "-loglevel", "error", "-y", "-i", silent, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
            "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-shortest", input])
        guard made == 0 else { throw XCTSkip("ffmpeg could not add audio to the test input") }
        let csv = path("int.csv"), video = path("int.mp4")
        XCTAssertEqual(try EndToEnd.annotateAndInterrupt([input, "-o", video], csv: csv), 130)
        let after = try probe(video)
        let written = try XCTUnwrap(after.video), audio = try XCTUnwrap(after.audio)
        XCTAssertLessThan(written.packets, 400)
        XCTAssertLessThan(written.end, 15)
        XCTAssertEqual(audio.end, written.end, accuracy: 1.0 / 25, "audio ends with the last frame written")
    }

    func testNoAudioFlagDropsIt() throws {
        let input = try makeInput()
        let result = try EndToEnd.run(["annotate", input, "-o", path("mute.mp4"), "--no-audio", "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let after = try probe(path("mute.mp4"))
        XCTAssertNotNil(after.video)
        XCTAssertNil(after.audio)
    }

    /// From standard input (which cannot be opened twice) the audio still comes along: one
    /// demuxer reads both streams, and no frame is lost to a second reader.
    func testAudioFromStandardInput() throws {
        let input = try makeInput()
        let mkv = path("tone.mkv")
        let (made, _) = try Self.capture(try Self.tool("ffmpeg"), ["-loglevel", "error", "-y", "-i", input, "-c", "copy", mkv])
        guard made == 0 else { throw XCTSkip("ffmpeg could not remux the test input") }
        let out = path("from-stdin.mp4")
        let process = Process()
        process.executableURL = try EndToEnd.executable
        process.arguments = ["annotate", "-", "-o", out, "-q"]
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: mkv))
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, stderr)
        let after = try probe(out), before = try probe(input)
        let video = try XCTUnwrap(after.video), audio = try XCTUnwrap(after.audio, "no audio from standard input")
        XCTAssertEqual(video.packets, 50, "every frame of standard input")
        XCTAssertEqual(audio.codec, "aac")
        XCTAssertEqual(audio.end, video.end, accuracy: 1.0 / 25, "audio lasts as long as the video")
        let source = try XCTUnwrap(before.audio)
        XCTAssertGreaterThanOrEqual(audio.packets, source.packets - 3, "the audio packets of the input, copied")
    }
}
