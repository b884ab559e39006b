import Capture
import Classifier

/// One JSON object per frame with faces (per frame always when `everyFrame`), for programs
/// that read a stream.
public final class JSONLinesSink: ResultSink {
    private let output: TextOutput
    private let everyFrame: Bool

    public init(path: String, everyFrame: Bool = false) throws {
        output = try TextOutput(path: path)
        self.everyFrame = everyFrame
    }

    public func consume(_ result: FrameResult, frame: Frame) throws {
        guard everyFrame || !result.faces.isEmpty else { return }
        output.append(Self.line(result))
        try output.flush()
    }

    public func finish() throws { try output.close() }

    public func abandon() { output.discard() }

    /// The object for one frame, on one line (also what `--serve` sends on `/events`).
    public static func line(_ result: FrameResult) -> String {
        let faces = result.faces.map { f -> String in
            let b = f.face.box
            let probs = Emotion.allCases.map { "\"\($0.name)\":\(Format.fixed(f.scores[$0], 4))" }.joined(separator: ",")
            let lms = f.face.landmarks.map { "[\(Format.fixed($0.x, 1)),\(Format.fixed($0.y, 1))]" }.joined(separator: ",")
            return "{\"face_id\":\(f.id),\"box\":[\(Format.fixed(b.x, 1)),\(Format.fixed(b.y, 1)),\(Format.fixed(b.width, 1)),\(Format.fixed(b.height, 1))],"
                + "\"score\":\(Format.fixed(f.face.score, 4)),\"emotion\":\"\(f.scores.top.name)\","
                + "\"confidence\":\(Format.fixed(f.scores.confidence, 4)),\"probabilities\":{\(probs)},\"landmarks\":[\(lms)]}"
        }.joined(separator: ",")
        return "{\"frame\":\(result.frameIndex),\"time_s\":\(Format.fixed(result.time, 4)),\"faces\":[\(faces)]}"
    }
}
