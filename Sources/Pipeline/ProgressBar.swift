import Classifier
import CoreTypes
import Foundation

/// A one-line progress bar on standard error (frames, fps, ETA), drawn only on a terminal,
/// redrawn at most a few times a second.
public final class ProgressBar: @unchecked Sendable {
    private let enabled: Bool
    private var lastDraw = -1.0
    private var drewSomething = false

    public init(enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.enabled = enabled
    }

    public func update(_ p: PipelineProgress) {
        guard enabled, p.elapsed - lastDraw >= 0.2 else { return }
        lastDraw = p.elapsed
        FileHandle.standardError.write(Data(("\r" + Self.line(p) + "\u{1B}[K").utf8))
        drewSomething = true
    }

    /// Clears the bar so the summary starts on a clean line.
    public func finish() {
        guard enabled, drewSomething else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    static func line(_ p: PipelineProgress) -> String {
        let fps = p.elapsed > 0 ? Double(p.frames) / p.elapsed : 0
        var text = "\(p.frames)"
        if let total = p.totalFrames, total > 0 {
            let width = 30
            let done = min(width, width * p.frames / total)
            let bar = String(repeating: "#", count: done) + String(repeating: ".", count: width - done)
            let eta = fps > 0 ? Double(max(0, total - p.frames)) / fps : 0
            text = "[\(bar)] \(p.frames)/\(total)  ETA \(Format.fixed(eta, 0))s"
        }
        return "\(text)  \(Format.fixed(fps, 1)) fps  \(p.faces) faces"
    }
}

public extension PipelineSummary {
    /// The closing report: frames, faces, mean fps, share of each emotion.
    func report(label: String = "done") -> String {
        var lines = ["\(label): \(Format.count(frames, "frame")), \(Format.count(faces, "face")) in \(Format.count(framesWithFaces, "frame")), "
                     + "\(Format.duration(seconds)), \(Format.fixed(fps, 1)) fps"
                     + (dropped > 0 ? ", \(Format.count(dropped, "stale frame")) dropped" : "")
                     + (stoppedEarly ? " (stopped early)" : "")]
        if faces > 0 {
            let shares = zip(Emotion.allCases, emotionCounts)
                .filter { $0.1 > 0 }
                .sorted { $0.1 > $1.1 }
                .map { "\($0.0.name) \(Format.fixed(100 * Double($0.1) / Double(faces), 1))%" }
            lines.append("emotions: " + shares.joined(separator: ", "))
        }
        if let p50 = latencyPercentile(0.5), let p95 = latencyPercentile(0.95) {
            lines.append("latency: median \(Format.fixed(p50 * 1000, 0)) ms, p95 \(Format.fixed(p95 * 1000, 0)) ms")
        }
        return lines.joined(separator: "\n")
    }
}
