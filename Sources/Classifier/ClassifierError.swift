import CoreTypes
import NeuralNet

/// Everything that can go wrong in the classifier stage: model files, CSV data, bad requests.
/// Each description is one line naming the input (file, layer, tensor, line) and the reason.
public enum ClassifierError: Error, Equatable, CustomStringConvertible {
    /// A file could not be opened or read.
    case unreadable(path: String, reason: String)
    /// The model JSON as a whole is unusable (not JSON, wrong format, missing top-level field).
    case badModel(path: String, reason: String)
    /// One layer of the model JSON is unusable (unknown op, missing or bad field, shape mismatch).
    case badLayer(path: String, layer: String, reason: String)
    /// A weight tensor does not fit the architecture the JSON describes.
    case badTensor(path: String, layer: String, tensor: String, reason: String)
    /// The model's label is not one of the seven FER2013 emotions.
    case unknownLabel(path: String, label: String)
    /// No model of that name in any searched folder.
    case modelNotFound(name: String, searched: [String], available: [String])
    /// The CSV cannot be used at all (header, empty, decompression failure).
    case badCSV(path: String, reason: String)
    /// One CSV row is malformed (in strict mode, or when nothing usable remains).
    case badRow(path: String, line: Int, reason: String)
    /// A classification request that cannot be served (e.g. a face pointing at a missing frame).
    case badRequest(reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "\(path): cannot read: \(reason)"
        case let .badModel(path, reason): "\(path): bad classifier model: \(reason)"
        case let .badLayer(path, layer, reason): "\(path): layer '\(layer)': \(reason)"
        case let .badTensor(path, layer, tensor, reason): "\(path): tensor '\(tensor)' (layer '\(layer)'): \(reason)"
        case let .unknownLabel(path, label): "\(path): label '\(label)' is not a FER2013 emotion (\(Emotion.allCases.map(\.name).joined(separator: ", ")))"
        case let .modelNotFound(name, searched, available):
            "classifier model '\(name)' not found; "
                + (available.isEmpty ? "" : "models there are: \(available.joined(separator: ", ")); ")
                + "looked in: \(searched.joined(separator: ", ")) (use --models DIR or FER_LIVE_MODELS, or give a path to NAME.json)"
        case let .badCSV(path, reason): "\(path): \(reason)"
        case let .badRow(path, line, reason): "\(path):\(line): \(reason)"
        case let .badRequest(reason): "classifier: \(reason)"
        }
    }
}
