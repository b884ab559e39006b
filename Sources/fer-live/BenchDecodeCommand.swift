import ArgumentParser
import Benchmarks
import Capture
import Foundation

struct BenchDecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode every frame of INPUT to RGB; compare with `ffmpeg -f null` when ffmpeg is on PATH.")

    @Argument(help: "A video file, image or URL.")
    var input: String

    @Option(help: "Timed runs; the median is reported.")
    var runs = 3

    @Option(help: "Decoder threads (ours and ffmpeg's).")
    var threads = 2

    @Flag(help: "End with one JSON object on the last line of stdout.")
    var json = false

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        try Reporting.run("bench decode") {
            // One untimed pass of each warms the page cache and the dynamic loader. The timed
            // runs alternate ours and ffmpeg's, so load from other programs falls on both alike.
            var ffmpeg = FFmpegTimer.find()
            _ = try DecodeBenchmark.run(path: input, threads: threads)
            if let found = ffmpeg {
                do {
                    _ = try FFmpegTimer.time(found, input: input, threads: threads)
                } catch {
                    Reporting.warn("\(error); no comparison")
                    ffmpeg = nil
                }
            }
            var ours: [DecodeBenchmark.Run] = []
            var theirs: [FFmpegTimer.Timing] = []
            for _ in 0..<runs {
                ours.append(try DecodeBenchmark.run(path: input, threads: threads))
                if let ffmpeg { theirs.append(try FFmpegTimer.time(ffmpeg, input: input, threads: threads)) }
            }
            let frames = ours.last?.frames ?? 0
            let seconds = Stats.median(ours.map(\.seconds))
            let fps = seconds > 0 ? Double(frames) / seconds : 0
            print("fer-live: \(frames) frames, median \(format(seconds)) s over \(runs) runs, \(format(fps, 1)) fps (RGB24, \(threads) threads)")

            var object: [String: Any] = [
                "input": input, "frames": frames, "runs": runs, "threads": threads,
                "seconds": seconds, "fps": fps,
            ]
            if ffmpeg != nil {
                // ffmpeg's wall time includes starting its process (100 ms or so); ours includes
                // opening the input but not starting fer-live. Its -benchmark rtime has neither.
                let ffSeconds = Stats.median(theirs.map(\.seconds))
                let ffFps = ffSeconds > 0 ? Double(frames) / ffSeconds : 0
                let ratio = ffFps > 0 ? fps / ffFps : 0
                print("ffmpeg -threads \(threads) -f null: median \(format(ffSeconds)) s, \(format(ffFps, 1)) fps")
                print("ratio ours/ffmpeg: \(format(ratio, 3))")
                object["ffmpeg_seconds"] = ffSeconds
                object["ffmpeg_fps"] = ffFps
                object["ratio"] = ratio
                let loops = theirs.compactMap(\.loopSeconds)
                if loops.count == theirs.count {
                    // Without ffmpeg's process start: the stricter comparison.
                    let loop = Stats.median(loops)
                    let loopRatio = loop > 0 ? fps / (Double(frames) / loop) : 0
                    print("ffmpeg decode loop alone (-benchmark rtime): median \(format(loop)) s, ratio \(format(loopRatio, 3))")
                    object["ffmpeg_loop_seconds"] = loop
                    object["ratio_loop"] = loopRatio
                }
            } else {
                print("ffmpeg not on PATH or failed: no comparison")
            }
            if json {
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
            }
        }
    }

    private func format(_ value: Double, _ digits: Int = 3) -> String {
        String(format: "%.\(digits)f", value)
    }
}

/// Runs the `ffmpeg` command line as the reference decoder.
enum FFmpegTimer {
    static func find() -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent("ffmpeg")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    struct Failed: Error, CustomStringConvertible {
        let input: String
        let status: Int32
        var description: String { "\(input): ffmpeg -f null exited with status \(status)" }
    }

    struct Timing {
        /// Wall time of the whole process, as a user would see it.
        var seconds: Double
        /// ffmpeg's own `-benchmark` real time of its decode loop: no process start, no probing.
        var loopSeconds: Double?
    }

    /// `encodeH264` adds libx264 `-preset veryfast` encoding: the floor for re-encoding a video.
    static func time(_ ffmpeg: URL, input: String, threads: Int, encodeH264: Bool = false) throws -> Timing {
        let process = Process()
        process.executableURL = ffmpeg
        process.arguments = ["-hide_banner", "-nostats", "-loglevel", "info", "-benchmark", "-nostdin",
                             "-threads", String(threads), "-i", input]
            + (encodeH264 ? ["-an", "-c:v", "libx264", "-preset", "veryfast", "-threads", String(threads)] : [])
            + ["-f", "null", "-"]
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        let start = DispatchTime.now().uptimeNanoseconds
        try process.run()
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard process.terminationStatus == 0 else { throw Failed(input: input, status: process.terminationStatus) }
        // "bench: utime=0.521s stime=0.046s rtime=0.520s"
        let loop = log.split(separator: "\n").last { $0.hasPrefix("bench:") && $0.contains("rtime=") }
            .flatMap { line in line.split(separator: " ").first { $0.hasPrefix("rtime=") } }
            .flatMap { Double($0.dropFirst("rtime=".count).dropLast()) }
        return Timing(seconds: seconds, loopSeconds: loop)
    }
}
