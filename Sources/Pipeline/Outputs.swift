import Capture
import Foundation

extension VideoWriter: FrameWriting {}

/// What a job writes. Any combination; `log` "-" is standard output.
public struct OutputSettings: Sendable {
    public var video: String?
    public var csv: String?
    public var jsonl: String?
    public var log: String?
    public var overlay = Overlay()
    public var encoderThreads = 2
    /// The source's audio, from the demuxer that reads its video (`VideoFileSource.tapAudio()`),
    /// which the video output copies (nil: video only). Closed when no video output takes it.
    public var audioTap: AudioTap?
    /// An input file whose audio the video output copies by opening it a second time (only
    /// when there is no `audioTap`).
    public var audioSource: String?
    /// Files the job reads: no output may be one of them.
    public var inputs: [String] = []
    /// Replace existing output files (`-y` / `--overwrite`); otherwise an existing file is an error.
    public var overwrite = false

    public init(video: String? = nil, csv: String? = nil, jsonl: String? = nil, log: String? = nil) {
        self.video = video; self.csv = csv; self.jsonl = jsonl; self.log = log
    }

    /// True when results go to standard output and that is a terminal: a progress bar on the
    /// same terminal would be drawn into the middle of the lines, so none is shown.
    public var writesToTerminal: Bool {
        [video, csv, jsonl, log].contains("-") && isatty(STDOUT_FILENO) == 1
    }

    /// The outputs by the option that names them, for the checks and their messages.
    public var named: [OutputCheck.Named] {
        [("-o", video), ("--csv", csv), ("--jsonl", jsonl), ("--log", log)].compactMap { option, path in
            path.map { OutputCheck.Named(option: option, path: $0) }
        }
    }

    /// Checks every output path (`OutputCheck`), then opens every output, so a bad or
    /// unwritable path fails before any frame is decoded and before any existing file is touched.
    /// The video keeps the source's frame rate; a `.png`/`.jpg` output gets an annotated image
    /// (one per frame with a pattern such as `out_%05d.png`).
    public func openSinks(for info: SourceInfo) throws -> [ResultSink] {
        // Only a video file takes the audio; otherwise the source must not keep queueing it.
        if let audioTap, video == nil || ImageWriter.Format(path: video ?? "") != nil { audioTap.close() }
        try OutputCheck.validate(outputs: named, inputs: inputs, overwrite: overwrite)
        var sinks: [ResultSink] = []
        do {
            if let video {
                if ImageWriter.Format(path: video) != nil {
                    let isVideo = (info.frameCount ?? 1) > 1 || (info.duration ?? 0) > 0.5
                    if isVideo && !ImageSink.isPattern(video) {
                        throw PipelineError.imageOutputForVideo(path: video, source: info.name)
                    }
                    sinks.append(try ImageSink(path: video, overlay: overlay, sourceName: info.name))
                } else {
                    let file = OutputFile(video)
                    let (num, den) = info.frameRateNumerator > 0 && info.frameRateDenominator > 0
                        ? (info.frameRateNumerator, info.frameRateDenominator) : (25, 1)
                    let writer: VideoWriter
                    do {
                        writer = try VideoWriter(path: file.writePath, width: info.width, height: info.height,
                                                 frameRateNumerator: num, frameRateDenominator: den,
                                                 options: .init(threads: encoderThreads, audioFrom: audioSource,
                                                                audioTap: audioTap))
                    } catch {
                        file.discard()
                        throw error
                    }
                    sinks.append(VideoSink(writer: writer, overlay: overlay, file: file))
                }
            }
            if let csv { sinks.append(try CSVSink(path: csv)) }
            if let jsonl { sinks.append(try JSONLinesSink(path: jsonl)) }
            if let log { sinks.append(try LogSink(path: log)) }
        } catch {
            // Close what was opened and remove its temporary file: nothing is replaced.
            for sink in sinks { sink.abandon() }
            throw error
        }
        return sinks
    }
}
