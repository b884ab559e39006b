/// Errors of the pipeline and its sinks; each describes itself in one line naming the output.
public enum PipelineError: Error, CustomStringConvertible, Sendable {
    case cannotCreateOutput(path: String, reason: String)
    case writeFailed(path: String, reason: String)
    case invalidOption(name: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotCreateOutput(path, reason): "cannot create \(path): \(reason)"
        case let .writeFailed(path, reason): "cannot write \(path): \(reason)"
        case let .invalidOption(name, reason): "invalid \(name): \(reason)"
        }
    }
}
