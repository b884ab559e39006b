/// Errors of the pipeline and its sinks; each describes itself in one line naming the output.
public enum PipelineError: Error, CustomStringConvertible, Sendable {
    case cannotCreateOutput(path: String, reason: String)
    case writeFailed(path: String, reason: String)
    case invalidOption(name: String, reason: String)
    case outputIsInput(output: String, option: String, input: String)
    case sameOutputTwice(path: String, first: String, second: String)
    case outputExists(path: String)
    case noFrames(source: String)
    case imageOutputForVideo(path: String, source: String)

    public var description: String {
        switch self {
        case let .cannotCreateOutput(path, reason): "cannot create \(path): \(reason)"
        case let .writeFailed(path, reason): "cannot write \(path): \(reason)"
        case let .invalidOption(name, reason): "invalid \(name): \(reason)"
        case let .outputIsInput(output, option, input):
            "\(option) \(output) is the input \(input); refusing to write over it"
        case let .sameOutputTwice(path, first, second): "\(first) and \(second) are both \(path); give each output its own file"
        case let .outputExists(path): "\(path) already exists (pass -y or --overwrite to replace it)"
        case let .noFrames(source): "\(source): no frame could be read; nothing was written"
        case let .imageOutputForVideo(path, source):
            "\(path) is one image but \(source) is a video: give a video extension (.mp4, .mkv, .mov, .avi) or a frame-number pattern such as out_%05d.png"
        }
    }
}
