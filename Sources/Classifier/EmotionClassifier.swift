import Capture
import CoreTypes
import Foundation
import NeuralNet

/// Maps a model's output labels onto the seven FER2013 emotions. A model trained on a subset
/// (`--classes`) or with merged labels (`--merge disgust=angry`) has fewer outputs; the emotions
/// it does not name get probability 0.
public struct LabelMapping: Sendable, Equatable {
    /// `emotionIndex[i]` is the FER2013 index of model output i.
    public let emotionIndex: [Int]

    public init(labels: [String], path: String = "model") throws {
        var seen = Set<Int>()
        emotionIndex = try labels.map { l in
            guard let e = Emotion(name: l) else { throw ClassifierError.unknownLabel(path: path, label: l) }
            guard seen.insert(e.rawValue).inserted else {
                throw ClassifierError.badModel(path: path, reason: "label '\(l)' appears twice")
            }
            return e.rawValue
        }
    }

    /// The emotions the model can predict.
    public var emotions: [Emotion] { emotionIndex.compactMap { Emotion(rawValue: $0) } }

    /// Model probabilities (one per model label) to the seven-emotion scores.
    public func scores(_ p: UnsafeBufferPointer<Float>) -> EmotionScores {
        var out = [Float](repeating: 0, count: Emotion.allCases.count)
        for (i, e) in emotionIndex.enumerated() where i < p.count { out[e] = p[i] }
        return EmotionScores(probabilities: out)
    }

    public func scores(_ p: [Float]) -> EmotionScores {
        p.withUnsafeBufferPointer { scores($0) }
    }
}

/// The classifier stage: crops every face (of several frames) into one batch, runs the network,
/// and returns seven probabilities per face. With `flipTTA` each face is also run mirrored and
/// the two probability vectors are averaged (as `training/evaluate.py` does).
public struct EmotionClassifier: EmotionClassifying {
    public static let defaultModelName = "fernet"
    public static let subdirectory = "emotion"

    public let model: ClassifierModel
    public let labels: LabelMapping
    public var preprocessor: FacePreprocessor
    public var flipTTA: Bool
    /// Largest batch handed to the network at once (bounds activation memory).
    public var maxBatch: Int

    public init(model: ClassifierModel, flipTTA: Bool = false, align: Bool = true, maxBatch: Int = 128) throws {
        guard model.inputShape[0] == 1 else {
            throw ClassifierError.badModel(path: model.jsonPath, reason: "input has \(model.inputShape[0]) channels; the classifier feeds gray (1)")
        }
        guard model.inputShape[1] == model.inputShape[2] else {
            throw ClassifierError.badModel(path: model.jsonPath, reason: "input \(model.inputShape) is not square")
        }
        self.model = model
        self.labels = try LabelMapping(labels: model.labels, path: model.jsonPath)
        self.preprocessor = FacePreprocessor(size: model.inputShape[1], normalization: model.preprocessing, align: align)
        self.flipTTA = flipTTA
        self.maxBatch = max(1, maxBatch)
    }

    /// Finds and loads model `name` (default: the one named in `emotion/default.txt`, else
    /// `fernet`) in `explicit` (`--models DIR`), `$FER_LIVE_MODELS`, `models/` beside the
    /// executable or in its parent folders (the repository's `models/`).
    public init(name: String? = nil, modelsDirectory explicit: String? = nil, flipTTA: Bool = false,
                environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let path = try Self.locate(name: name, modelsDirectory: explicit, environment: environment)
        try self.init(model: ClassifierModel(path: path), flipTTA: flipTTA)
    }

    /// Path (without extension) of model `name` in the first models folder that has it.
    public static func locate(name: String?, modelsDirectory explicit: String?,
                              environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        if let name, name.contains("/") || name.hasSuffix(".json") {
            // A path, not a name: used as given.
            var base = name
            if base.hasSuffix(".json") { base.removeLast(5) }
            return base
        }
        let dir: String
        if let name {
            do {
                dir = try ModelLocator.find(subdirectory: subdirectory, requiredFiles: [name + ".json"],
                                            explicit: explicit, environment: environment)
            } catch NeuralNetError.modelsNotFound(_, let searched) {
                throw ClassifierError.modelNotFound(name: name, searched: searched, available: availableModels(in: searched))
            }
            return (dir as NSString).appendingPathComponent(name)
        }
        // No name: the folder's default.txt, else fernet.
        if let d = try? ModelLocator.find(subdirectory: subdirectory, requiredFiles: ["default.txt"],
                                          explicit: explicit, environment: environment),
           let text = try? String(contentsOfFile: (d as NSString).appendingPathComponent("default.txt"), encoding: .utf8) {
            let chosen = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            if !chosen.isEmpty, !chosen.contains("/") {
                let p = (d as NSString).appendingPathComponent(chosen)
                if FileManager.default.fileExists(atPath: p + ".json") { return p }
            }
        }
        return try locate(name: defaultModelName, modelsDirectory: explicit, environment: environment)
    }

    /// Model names (`NAME.json` files) in the folders searched, for the "not found" message.
    static func availableModels(in folders: [String]) -> [String] {
        var names: [String] = []
        for folder in folders {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            for f in files.sorted() where f.hasSuffix(".json") {
                let n = String(f.dropLast(5))
                if !names.contains(n) { names.append(n) }
            }
        }
        return names
    }

    public var inputSide: Int { preprocessor.size }

    // MARK: classification

    public func classify(_ faces: [(frame: Int, face: Face)], in frames: [Frame]) throws -> [EmotionScores] {
        let n = inputSide * inputSide
        let copies = flipTTA ? 2 : 1
        var results: [EmotionScores] = []
        results.reserveCapacity(faces.count)
        var start = 0
        while start < faces.count {
            let chunk = faces[start..<min(faces.count, start + max(1, maxBatch / copies))]
            var input = [Float](repeating: 0, count: chunk.count * copies * n)
            try input.withUnsafeMutableBufferPointer { buf in
                guard let base = buf.baseAddress else { return }
                for (k, item) in chunk.enumerated() {
                    guard frames.indices.contains(item.frame) else {
                        throw ClassifierError.badRequest(reason: "face refers to frame \(item.frame), \(frames.count) given")
                    }
                    try preprocessor.crop(item.face, in: frames[item.frame],
                                          into: UnsafeMutableBufferPointer(start: base + k * n, count: n))
                    if flipTTA {
                        Self.mirror(from: base + k * n, to: base + (chunk.count + k) * n, side: inputSide)
                    }
                }
            }
            results += try run(input, count: chunk.count)
            start += chunk.count
        }
        return results
    }

    /// 48x48 gray images (FER2013 rows: `count * side * side` bytes), normalised as in training.
    public func classify(gray: [UInt8], count: Int) throws -> [EmotionScores] {
        let n = inputSide * inputSide
        guard gray.count == count * n else {
            throw ClassifierError.badRequest(reason: "\(gray.count) gray values for \(count) images of \(inputSide)x\(inputSide)")
        }
        let m = model.preprocessing.multiplier, o = model.preprocessing.offset
        var results: [EmotionScores] = []
        let per = max(1, maxBatch / (flipTTA ? 2 : 1))
        var start = 0
        while start < count {
            let c = min(per, count - start)
            var input = [Float](repeating: 0, count: c * (flipTTA ? 2 : 1) * n)
            gray.withUnsafeBufferPointer { g in
                input.withUnsafeMutableBufferPointer { x in
                    guard let xb = x.baseAddress else { return }
                    for i in 0..<(c * n) { x[i] = Float(g[start * n + i]) * m + o }
                    if flipTTA {
                        for k in 0..<c { Self.mirror(from: xb + k * n, to: xb + (c + k) * n, side: inputSide) }
                    }
                }
            }
            results += try run(input, count: c)
            start += c
        }
        return results
    }

    /// Runs normalised input (`count` images, followed by their mirrors when `flipTTA`).
    private func run(_ input: [Float], count: Int) throws -> [EmotionScores] {
        let copies = flipTTA ? 2 : 1
        let side = inputSide
        let x = try Tensor(shape: [count * copies, 1, side, side], storage: input)
        let y = try model.forward(x)
        let k = model.labels.count
        guard y.shape == [count * copies, k] else {
            throw ClassifierError.badModel(path: model.jsonPath, reason: "network output \(y.shape), expected [\(count * copies), \(k)]")
        }
        return y.storage.withUnsafeBufferPointer { p in
            (0..<count).map { i in
                if flipTTA {
                    var avg = [Float](repeating: 0, count: k)
                    for j in 0..<k { avg[j] = 0.5 * (p[i * k + j] + p[(count + i) * k + j]) }
                    return labels.scores(avg)
                }
                return labels.scores(UnsafeBufferPointer(rebasing: p[(i * k)..<((i + 1) * k)]))
            }
        }
    }

    private static func mirror(from src: UnsafeMutablePointer<Float>, to dst: UnsafeMutablePointer<Float>, side: Int) {
        for y in 0..<side {
            let r = y * side
            for x in 0..<side { dst[r + x] = src[r + side - 1 - x] }
        }
    }
}
