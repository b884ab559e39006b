/// A point in source-frame pixels.
public struct Point: Sendable, Equatable, Codable {
    public var x: Float
    public var y: Float
    public init(x: Float, y: Float) { self.x = x; self.y = y }
}

/// An axis-aligned box in source-frame pixels.
public struct Box: Sendable, Equatable, Codable {
    public var x: Float
    public var y: Float
    public var width: Float
    public var height: Float
    public init(x: Float, y: Float, width: Float, height: Float) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }

    public var area: Float { max(0, width) * max(0, height) }

    /// Intersection over union; 0 for disjoint or empty boxes.
    public func iou(_ other: Box) -> Float {
        let ix = max(0, min(x + width, other.x + other.width) - max(x, other.x))
        let iy = max(0, min(y + height, other.y + other.height) - max(y, other.y))
        let inter = ix * iy
        let union = area + other.area - inter
        return union > 0 ? inter / union : 0
    }
}

/// One detected face: box, detector confidence and five landmarks
/// (left eye, right eye, nose, left mouth corner, right mouth corner; "left" as seen in the image).
public struct Face: Sendable, Equatable {
    public var box: Box
    public var score: Float
    public var landmarks: [Point]
    public init(box: Box, score: Float, landmarks: [Point]) {
        self.box = box; self.score = score; self.landmarks = landmarks
    }
}
