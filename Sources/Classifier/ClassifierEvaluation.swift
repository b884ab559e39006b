import CoreTypes
import Foundation

/// Accuracy and throughput of a classifier on FER2013 rows (the 48x48 faces themselves, no
/// detection). Rows are streamed in batches; only the network calls are timed.
public struct ClassifierEvaluation {
    public let classifier: EmotionClassifier
    public let batch: Int
    public private(set) var matrix = ConfusionMatrix()
    /// Seconds of each timed batch, and its size.
    public private(set) var batchTimes: [(faces: Int, seconds: Double)] = []
    /// Every classified row in order: its CSV line, label and the network's top emotion.
    public private(set) var predictions: [(line: Int, truth: Emotion, prediction: Emotion)] = []

    public init(classifier: EmotionClassifier, batch: Int = 128) {
        self.classifier = classifier
        self.batch = max(1, batch)
    }

    /// Reads every accepted row of `csv` and classifies it.
    public mutating func run(_ csv: FER2013CSV, warn: (String) -> Void = { _ in }) throws -> FER2013CSV.Summary {
        let n = FER2013CSV.pixelCount
        guard classifier.inputSide == FER2013CSV.side else {
            throw ClassifierError.badModel(path: classifier.model.jsonPath,
                                           reason: "input is \(classifier.inputSide)x\(classifier.inputSide), FER2013 faces are 48x48")
        }
        var pixels: [UInt8] = []
        pixels.reserveCapacity(batch * n)
        var truth: [Emotion] = []
        var lines: [Int] = []
        let summary = try csv.forEachRow(warn: warn) { row in
            pixels += row.pixels
            truth.append(row.emotion)
            lines.append(row.line)
            if truth.count == batch {
                try flush(&pixels, &truth, &lines)
            }
        }
        try flush(&pixels, &truth, &lines)
        return summary
    }

    /// Classifies one batch of gray faces with known labels.
    public mutating func add(gray pixels: [UInt8], truth: [Emotion], lines: [Int]? = nil) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        let scores = try classifier.classify(gray: pixels, count: truth.count)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        batchTimes.append((truth.count, seconds))
        for (i, (s, t)) in zip(scores, truth).enumerated() {
            matrix.add(truth: t, prediction: s.top)
            predictions.append((lines?[i] ?? 0, t, s.top))
        }
    }

    private mutating func flush(_ pixels: inout [UInt8], _ truth: inout [Emotion], _ lines: inout [Int]) throws {
        guard !truth.isEmpty else { return }
        try add(gray: pixels, truth: truth, lines: lines)
        pixels.removeAll(keepingCapacity: true)
        truth.removeAll(keepingCapacity: true)
        lines.removeAll(keepingCapacity: true)
    }

    /// Faces per second over all timed batches.
    public var facesPerSecond: Double {
        let t = batchTimes.reduce(0) { $0 + $1.seconds }
        return t > 0 ? Double(batchTimes.reduce(0) { $0 + $1.faces }) / t : 0
    }

    /// Median throughput of the full-size batches (the last, partial one is left out when there
    /// are others).
    public var medianBatchFacesPerSecond: Double {
        var full = batchTimes.filter { $0.faces == batch }
        if full.isEmpty { full = batchTimes }
        let rates = full.map { $0.seconds > 0 ? Double($0.faces) / $0.seconds : 0 }.sorted()
        guard !rates.isEmpty else { return 0 }
        let m = rates.count / 2
        return rates.count % 2 == 1 ? rates[m] : (rates[m - 1] + rates[m]) / 2
    }

    public func report(dataPath: String, usage: String, summary: FER2013CSV.Summary) -> String {
        let m = classifier.model
        var lines: [String] = []
        lines.append("model \(m.name) (\(m.jsonPath)), \(m.parameters) parameters, labels \(m.labels.joined(separator: ","))\(classifier.flipTTA ? ", flip TTA" : "")")
        lines.append("data \(dataPath): \(summary.rows) rows, \(summary.accepted) with Usage \(usage), \(summary.malformed) malformed skipped")
        lines.append(String(format: "accuracy %.2f%% (%d of %d), mean recall %.2f%%", 100 * matrix.accuracy, matrix.correct,
                            matrix.total, 100 * matrix.meanRecall))
        lines.append(matrix.table())
        lines.append(String(format: "speed: %.0f faces/s over all batches, median batch %.0f faces/s (batch %d, %d batches, %d threads)",
                            facesPerSecond, medianBatchFacesPerSecond, batch, batchTimes.count, ProcessInfo.processInfo.activeProcessorCount))
        return lines.joined(separator: "\n")
    }

    /// One line of JSON: n, accuracy, faces_per_second and the details.
    public func json(dataPath: String, usage: String, summary: FER2013CSV.Summary) -> String {
        func r(_ v: Double?, _ digits: Double = 10_000) -> Any { v.map { ($0 * digits).rounded() / digits } ?? NSNull() }
        var perClass: [String: Any] = [:]
        for e in Emotion.allCases {
            perClass[e.name] = ["precision": r(matrix.precision(e)), "recall": r(matrix.recall(e)), "support": matrix.support(e)]
        }
        let obj: [String: Any] = [
            "model": classifier.model.name, "model_path": classifier.model.jsonPath, "data": dataPath, "usage": usage,
            "flip_tta": classifier.flipTTA, "n": matrix.total, "correct": matrix.correct,
            "accuracy": r(matrix.accuracy), "mean_recall": r(matrix.meanRecall),
            "faces_per_second": r(facesPerSecond, 10), "median_batch_faces_per_second": r(medianBatchFacesPerSecond, 10),
            "batch": batch, "batches": batchTimes.count, "malformed_rows": summary.malformed,
            "labels": Emotion.allCases.map(\.name), "confusion": matrix.counts, "per_class": perClass,
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
