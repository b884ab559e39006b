import Classifier
import CoreTypes
import Foundation

/// `GET /api/status`: the run's figures as one JSON object.
public struct StatusReport: Sendable, Equatable, Codable {
    public struct Source: Sendable, Equatable, Codable {
        public var name: String
        public var kind: String
        public var width: Int
        public var height: Int
        public var frameRate: Double
        public var totalFrames: Int?
    }

    public struct Viewers: Sendable, Equatable, Codable {
        public var video: Int
        public var events: Int
        /// Frames and events that slow clients skipped because they could not keep up.
        public var droppedFrames: Int
    }

    /// "running", "ended" or "failed".
    public var state: String
    public var source: Source
    public var frames: Int
    public var faces: Int
    public var facesOnScreen: Int
    public var dropped: Int
    public var elapsedS: Double
    public var fps: Double
    public var latencyMs: Double
    public var latencyMedianMs: Double
    /// Share of faces with each emotion as top label, by emotion name.
    public var emotions: [String: Double]
    /// For a file: frames done out of the total, 0 to 1, and the seconds still to go.
    public var progress: Double?
    public var etaS: Double?
    public var viewers: Viewers

    init(facts: SourceFacts, figures: RunFigures, videoClients: Int, eventClients: Int, viewerDroppedFrames: Int) {
        switch figures.state {
        case .running: state = "running"
        case .ended: state = "ended"
        case .failed: state = "failed"
        }
        source = Source(name: facts.name, kind: facts.kind.rawValue, width: facts.width, height: facts.height,
                        frameRate: Self.rounded(facts.frameRate, 3), totalFrames: facts.totalFrames)
        frames = figures.frames
        faces = figures.faces
        facesOnScreen = figures.facesOnScreen
        dropped = figures.dropped
        elapsedS = Self.rounded(figures.elapsed, 3)
        fps = Self.rounded(figures.fps, 2)
        latencyMs = Self.rounded(figures.latency * 1000, 1)
        latencyMedianMs = Self.rounded(figures.latencyMedian * 1000, 1)
        let shares = figures.emotionShares
        emotions = Dictionary(uniqueKeysWithValues: Emotion.allCases.map { ($0.name, Self.rounded(shares[$0.rawValue], 4)) })
        if facts.kind == .file, let total = facts.totalFrames, total > 0 {
            progress = Self.rounded(min(1, Double(figures.frames) / Double(total)), 4)
            etaS = figures.state == .running && figures.fps > 0
                ? Self.rounded(Double(max(0, total - figures.frames)) / figures.fps, 1) : 0
        }
        viewers = Viewers(video: videoClients, events: eventClients, droppedFrames: viewerDroppedFrames)
    }

    private static func rounded(_ value: Double, _ digits: Int) -> Double {
        guard value.isFinite else { return 0 }
        let scale = pow(10, Double(digits))
        return (value * scale).rounded() / scale
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
