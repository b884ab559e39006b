import Capture

/// The human-readable streaming log: one line per frame with faces,
/// `00:00:01.234 frame 37  #0 happy 92%  #1 neutral 55%`.
public final class LogSink: ResultSink {
    private let output: TextOutput

    public init(path: String = "-") throws {
        output = try TextOutput(path: path)
    }

    public func consume(_ result: FrameResult, frame: Frame) throws {
        guard !result.faces.isEmpty else { return }
        output.append(Self.line(result))
        try output.flush()
    }

    public func finish() throws { try output.close() }

    public func abandon() { output.discard() }

    static func line(_ result: FrameResult) -> String {
        let faces = result.faces.map { f in
            "#\(f.id) \(f.scores.top.name) \(Int((f.scores.confidence * 100).rounded()))%"
        }.joined(separator: "  ")
        return "\(Format.clock(result.time)) frame \(result.frameIndex)  \(faces)"
    }
}
