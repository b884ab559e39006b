import Capture
import Classifier
import CoreTypes
import FaceDetect

/// One JSON object per frame (`DetectionJSON`'s schema), every frame by default so a reader can
/// tell "no face" (`"faces":[]`) from "not processed"; `everyFrame: false` keeps frames with faces.
public final class JSONLinesSink: ResultSink {
    private let output: TextOutput
    private let everyFrame: Bool

    public init(path: String, everyFrame: Bool = true) throws {
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
            let probs = Emotion.allCases.map { "\"\($0.name)\":\(Format.fixed(f.scores[$0], 4))" }.joined(separator: ",")
            return "{\"face_id\":\(f.id),\(DetectionJSON.fields(f.face)),\"emotion\":\"\(f.scores.top.name)\","
                + "\"confidence\":\(Format.fixed(f.scores.confidence, 4)),\"probabilities\":{\(probs)}}"
        }
        return DetectionJSON.frame(result.frameIndex, time: result.time, faces: faces)
    }
}
