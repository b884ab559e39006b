import CoreTypes
import Foundation

/// Counts of (true label, predicted label) over the seven FER2013 emotions, and the metrics
/// derived from them. Rows are the true labels, columns the predictions.
public struct ConfusionMatrix: Sendable, Equatable {
    public static let size = Emotion.allCases.count
    /// `counts[truth][prediction]`.
    public private(set) var counts: [[Int]]

    public init() {
        counts = Array(repeating: Array(repeating: 0, count: Self.size), count: Self.size)
    }

    public mutating func add(truth: Emotion, prediction: Emotion) {
        counts[truth.rawValue][prediction.rawValue] += 1
    }

    public mutating func merge(_ other: ConfusionMatrix) {
        for t in 0..<Self.size { for p in 0..<Self.size { counts[t][p] += other.counts[t][p] } }
    }

    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }
    public var correct: Int { (0..<Self.size).reduce(0) { $0 + counts[$1][$1] } }
    /// Fraction right; 0 when empty.
    public var accuracy: Double { total > 0 ? Double(correct) / Double(total) : 0 }

    /// Faces whose true label is `e`.
    public func support(_ e: Emotion) -> Int { counts[e.rawValue].reduce(0, +) }
    /// Faces predicted as `e`.
    public func predicted(_ e: Emotion) -> Int { counts.reduce(0) { $0 + $1[e.rawValue] } }

    /// Of the faces predicted `e`, the fraction that are `e`; nil when nothing was predicted `e`.
    public func precision(_ e: Emotion) -> Double? {
        let p = predicted(e)
        return p > 0 ? Double(counts[e.rawValue][e.rawValue]) / Double(p) : nil
    }

    /// Of the faces that are `e`, the fraction predicted `e`; nil when there are none.
    public func recall(_ e: Emotion) -> Double? {
        let s = support(e)
        return s > 0 ? Double(counts[e.rawValue][e.rawValue]) / Double(s) : nil
    }

    /// Harmonic mean of precision and recall; nil when either is undefined, 0 when both are 0.
    public func f1(_ e: Emotion) -> Double? {
        guard let p = precision(e), let r = recall(e) else { return nil }
        return p + r > 0 ? 2 * p * r / (p + r) : 0
    }

    /// Mean recall over the labels present in the truth (balanced accuracy).
    public var meanRecall: Double {
        let r = Emotion.allCases.compactMap { recall($0) }
        return r.isEmpty ? 0 : r.reduce(0, +) / Double(r.count)
    }

    /// A fixed-width table: one row per true label, then precision / recall / support columns.
    public func table() -> String {
        let names = Emotion.allCases.map(\.name)
        func pad(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
        func pct(_ v: Double?) -> String { v.map { String(format: "%.1f%%", 100 * $0) } ?? "-" }
        var lines = [pad("true \\ predicted", 17) + names.map { pad(String($0.prefix(8)), 9) }.joined()
                     + pad("recall", 9) + pad("precision", 11) + pad("n", 7)]
        for e in Emotion.allCases {
            lines.append(pad(e.name, 17) + counts[e.rawValue].map { pad("\($0)", 9) }.joined()
                         + pad(pct(recall(e)), 9) + pad(pct(precision(e)), 11) + pad("\(support(e))", 7))
        }
        return lines.joined(separator: "\n")
    }
}
