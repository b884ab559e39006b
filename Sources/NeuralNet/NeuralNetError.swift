/// Everything that can go wrong in the runtime: bad tensors handed to a layer, bad weight files.
/// Each description is one line naming the file / tensor / layer and the reason.
public enum NeuralNetError: Error, Equatable, CustomStringConvertible {
    /// A tensor's storage does not hold `shape.product` values.
    case storageMismatch(shape: [Int], count: Int)
    /// A layer got an input it cannot take.
    case badInput(layer: String, shape: [Int], reason: String)
    /// A weight file could not be opened or read.
    case unreadable(path: String, reason: String)
    /// The file ends before the header or a tensor's data does.
    case truncated(path: String, reason: String)
    /// The JSON header is malformed.
    case badHeader(path: String, reason: String)
    /// A tensor the architecture needs is not in the file.
    case missingTensor(path: String, name: String)
    /// A tensor is stored in a type the runtime does not read.
    case wrongDType(path: String, name: String, dtype: String)
    /// A tensor's shape is not the one the architecture needs.
    case wrongShape(path: String, name: String, expected: [Int], found: [Int])
    /// A tensor's byte range lies outside the data section or does not fit its shape.
    case badOffsets(path: String, name: String, reason: String)
    /// A tensor could not be written.
    case unwritable(path: String, reason: String)
    /// No model folder found; `searched` lists every place looked at, in order.
    case modelsNotFound(what: String, searched: [String])

    public var description: String {
        switch self {
        case let .storageMismatch(shape, count):
            return "tensor of shape \(shape) needs \(shape.reduce(1, *)) values, got \(count)"
        case let .badInput(layer, shape, reason):
            return "\(layer): input of shape \(shape) rejected: \(reason)"
        case let .unreadable(path, reason):
            return "\(path): cannot read weights: \(reason)"
        case let .truncated(path, reason):
            return "\(path): truncated safetensors file: \(reason)"
        case let .badHeader(path, reason):
            return "\(path): bad safetensors header: \(reason)"
        case let .missingTensor(path, name):
            return "\(path): tensor '\(name)' is missing"
        case let .wrongDType(path, name, dtype):
            return "\(path): tensor '\(name)' has dtype \(dtype), expected F32"
        case let .wrongShape(path, name, expected, found):
            return "\(path): tensor '\(name)' has shape \(found), expected \(expected)"
        case let .badOffsets(path, name, reason):
            return "\(path): tensor '\(name)': \(reason)"
        case let .unwritable(path, reason):
            return "\(path): cannot write: \(reason)"
        case let .modelsNotFound(what, searched):
            return "model files \(what) not found; looked in: \(searched.joined(separator: ", ")) (use --models DIR or FER_LIVE_MODELS)"
        }
    }
}
