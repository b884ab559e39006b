import Capture
import Classifier
import CoreTypes

/// One row per face per frame. The first sixteen columns are fixed by the product's contract;
/// the five landmarks follow.
public final class CSVSink: ResultSink {
    public static let header: [String] =
        ["frame", "time_s", "face_id", "x", "y", "width", "height", "score"]
        + Emotion.allCases.map(\.name) + ["emotion"]
        + (0..<5).flatMap { ["lm\($0)_x", "lm\($0)_y"] }

    private let output: TextOutput

    public init(path: String) throws {
        output = try TextOutput(path: path)
        output.append(Self.header.joined(separator: ","))
        try output.flush()
    }

    public func consume(_ result: FrameResult, frame: Frame) throws {
        for face in result.faces {
            output.append(Self.row(result, face))
        }
        // Flushed every frame so an interrupted run keeps every finished frame.
        if !result.faces.isEmpty { try output.flush() }
    }

    public func finish() throws { try output.close() }

    public func abandon() { output.discard() }

    static func row(_ result: FrameResult, _ face: TrackedFace) -> String {
        let b = face.face.box
        var cols: [String] = [
            String(result.frameIndex), Format.fixed(result.time, 4), String(face.id),
            Format.fixed(b.x, 1), Format.fixed(b.y, 1), Format.fixed(b.width, 1), Format.fixed(b.height, 1),
            Format.fixed(face.face.score, 4),
        ]
        cols += face.scores.probabilities.map { Format.fixed($0, 4) }
        cols.append(face.scores.top.name)
        for i in 0..<5 {
            if i < face.face.landmarks.count {
                cols += [Format.fixed(face.face.landmarks[i].x, 1), Format.fixed(face.face.landmarks[i].y, 1)]
            } else {
                cols += ["", ""]
            }
        }
        return cols.joined(separator: ",")
    }
}
