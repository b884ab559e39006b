import Capture
import Classifier
import CoreTypes
import Foundation
import Pipeline

/// What the page says about the source: fixed for the run.
public struct SourceFacts: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// A file read as fast as the pipeline goes: progress and ETA make sense.
        case file
        /// A camera or a `--realtime` replay: frames come at their own pace, the newest wins.
        case live
    }

    public var name: String
    public var width: Int
    public var height: Int
    /// The source's nominal frame rate, 0 when it does not say.
    public var frameRate: Double
    /// Frames the run will read, when known (a file, or `--max-frames`).
    public var totalFrames: Int?
    public var kind: Kind

    public init(name: String, width: Int, height: Int, frameRate: Double, totalFrames: Int?, kind: Kind) {
        self.name = name; self.width = width; self.height = height
        self.frameRate = frameRate; self.totalFrames = totalFrames; self.kind = kind
    }

    public init(info: SourceInfo, kind: Kind, maxFrames: Int? = nil) {
        let rate = info.frameRateDenominator > 0 ? Double(info.frameRateNumerator) / Double(info.frameRateDenominator) : 0
        let total = info.frameCount.map { min($0, maxFrames ?? $0) } ?? maxFrames
        self.init(name: info.name, width: info.width, height: info.height, frameRate: rate, totalFrames: total, kind: kind)
    }
}

/// Where the run stands.
public enum RunState: Sendable, Equatable {
    case running
    /// Finished or stopped; the outputs are complete.
    case ended
    /// Failed; the outputs were abandoned.
    case failed
}

/// The figures the page shows, updated after every frame. A value: the hub hands out copies.
public struct RunFigures: Sendable, Equatable {
    public var state: RunState = .running
    public var frames = 0
    /// Faces found over all frames (one person over 100 frames counts 100).
    public var faces = 0
    /// Faces in the newest frame.
    public var facesOnScreen = 0
    /// Frames the live mode dropped to stay current.
    public var dropped = 0
    public var elapsed: Double = 0
    /// Frames per second over the last second or so.
    public var fps: Double = 0
    /// Capture to label, the newest frame and the median of the last ones, in seconds.
    public var latency: Double = 0
    public var latencyMedian: Double = 0
    /// How often each emotion was a face's top label.
    public var emotionCounts = [Int](repeating: 0, count: Emotion.allCases.count)

    public init() {}

    /// Each emotion's share of the labelled faces (zeros before the first face).
    public var emotionShares: [Double] {
        let total = emotionCounts.reduce(0, +)
        return emotionCounts.map { total > 0 ? Double($0) / Double(total) : 0 }
    }
}

/// Turns the pipeline's per-frame reports into `RunFigures`: rates and medians over a short
/// window, so the page shows what happens now rather than the average since the start.
struct FigureKeeper {
    private(set) var figures = RunFigures()
    private var recentTimes: [Double] = []
    private var recentLatencies: [Double] = []
    private let window = 30

    mutating func record(_ result: FrameResult) {
        figures.facesOnScreen = result.faces.count
        for face in result.faces { figures.emotionCounts[face.scores.top.rawValue] += 1 }
    }

    mutating func record(_ progress: PipelineProgress) {
        figures.frames = progress.frames
        figures.faces = progress.faces
        figures.dropped = progress.dropped
        figures.elapsed = progress.elapsed
        figures.latency = progress.latency
        Self.push(progress.elapsed, into: &recentTimes, keeping: window + 1)
        Self.push(progress.latency, into: &recentLatencies, keeping: window)
        if let first = recentTimes.first, let last = recentTimes.last, last > first {
            figures.fps = Double(recentTimes.count - 1) / (last - first)
        }
        let sorted = recentLatencies.sorted()
        figures.latencyMedian = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    /// At the end the rate over the whole run is the one that means something (a file job's
    /// last frames leave the queues in a burst).
    mutating func end(_ state: RunState) {
        figures.state = state
        if figures.elapsed > 0 { figures.fps = Double(figures.frames) / figures.elapsed }
    }

    private static func push(_ value: Double, into values: inout [Double], keeping count: Int) {
        values.append(value)
        if values.count > count { values.removeFirst(values.count - count) }
    }
}
