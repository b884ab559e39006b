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
    /// The input file whose audio stream the video output copies (nil: video only). Only a
    /// file: the writer opens it a second time, which a camera or live stream cannot repeat.
    public var audioSource: String?

    public init(video: String? = nil, csv: String? = nil, jsonl: String? = nil, log: String? = nil) {
        self.video = video; self.csv = csv; self.jsonl = jsonl; self.log = log
    }

    /// Opens every output, so an unwritable path fails before any frame is decoded.
    /// The video keeps the source's frame rate; a `.png`/`.jpg` output gets an annotated image.
    public func openSinks(for info: SourceInfo) throws -> [ResultSink] {
        var sinks: [ResultSink] = []
        do {
            if let video {
                if ImageWriter.Format(path: video) != nil {
                    sinks.append(try ImageSink(path: video, overlay: overlay))
                } else {
                    let (num, den) = info.frameRateNumerator > 0 && info.frameRateDenominator > 0
                        ? (info.frameRateNumerator, info.frameRateDenominator) : (25, 1)
                    let writer = try VideoWriter(path: video, width: info.width, height: info.height,
                                                 frameRateNumerator: num, frameRateDenominator: den,
                                                 options: .init(threads: encoderThreads, audioFrom: audioSource))
                    sinks.append(VideoSink(writer: writer, overlay: overlay))
                }
            }
            if let csv { sinks.append(try CSVSink(path: csv)) }
            if let jsonl { sinks.append(try JSONLinesSink(path: jsonl)) }
            if let log { sinks.append(try LogSink(path: log)) }
        } catch {
            // Close what was opened, so no half-written file is left locked open.
            for sink in sinks { try? sink.finish() }
            throw error
        }
        return sinks
    }
}
