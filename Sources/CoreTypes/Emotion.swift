/// The seven FER2013 labels, in the data set's order (the CSV's `emotion` column).
public enum Emotion: Int, CaseIterable, Sendable, Codable, CustomStringConvertible {
    case angry = 0, disgust, fear, happy, sad, surprise, neutral

    public var description: String { name }

    public var name: String {
        switch self {
        case .angry: "angry"
        case .disgust: "disgust"
        case .fear: "fear"
        case .happy: "happy"
        case .sad: "sad"
        case .surprise: "surprise"
        case .neutral: "neutral"
        }
    }

    public init?(name: String) {
        guard let e = Emotion.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = e
    }
}

/// A face's seven probabilities in FER2013 order, and the top label.
public struct EmotionScores: Sendable, Equatable {
    public var probabilities: [Float]

    public init(probabilities: [Float]) {
        precondition(probabilities.count == Emotion.allCases.count, "seven probabilities expected")
        self.probabilities = probabilities
    }

    public var top: Emotion {
        var best = 0
        for i in 1..<probabilities.count where probabilities[i] > probabilities[best] { best = i }
        return Emotion(rawValue: best) ?? .neutral
    }

    public var confidence: Float { probabilities[top.rawValue] }

    public subscript(_ e: Emotion) -> Float { probabilities[e.rawValue] }
}
