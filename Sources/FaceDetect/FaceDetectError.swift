/// Why detection could not run. Model file problems surface as `NeuralNetError`
/// (naming the file and tensor).
public enum FaceDetectError: Error, Equatable, CustomStringConvertible {
    /// An `MTCNN.Options` value that would make detection meaningless or endless.
    case badOptions(String)
    /// A frame whose buffer does not match its stated size.
    case badFrame(index: Int, reason: String)

    public var description: String {
        switch self {
        case .badOptions(let reason): return "MTCNN options: \(reason)"
        case let .badFrame(index, reason): return "frame \(index): \(reason)"
        }
    }
}
