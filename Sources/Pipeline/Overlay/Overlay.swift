import Capture
import Classifier
import CoreTypes

/// An RGB colour.
public struct Colour: Sendable, Equatable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }

    public static let black = Colour(0, 0, 0)
    public static let white = Colour(255, 255, 255)

    /// One colour per emotion, chosen to be told apart at a glance.
    public static func of(_ emotion: Emotion) -> Colour {
        switch emotion {
        case .angry: Colour(230, 40, 40)
        case .disgust: Colour(60, 170, 60)
        case .fear: Colour(160, 80, 210)
        case .happy: Colour(250, 210, 30)
        case .sad: Colour(50, 110, 230)
        case .surprise: Colour(250, 140, 20)
        case .neutral: Colour(200, 200, 200)
        }
    }
}

/// Draws results onto frames: a box per face in its emotion's colour, the label and confidence
/// above it, and optionally the seven probabilities as bars below it.
public struct Overlay: Sendable {
    public var showBars: Bool
    public var showLandmarks: Bool

    public init(showBars: Bool = true, showLandmarks: Bool = false) {
        self.showBars = showBars
        self.showLandmarks = showLandmarks
    }

    public func draw(_ result: FrameResult, on frame: inout Frame) {
        // Line and text sizes follow the picture so labels read the same at 360p and 4K.
        let scale = max(1, Int((Double(min(frame.width, frame.height)) / 200).rounded()))
        let thickness = max(2, scale + 1)
        var canvas = Canvas(frame: frame)
        for face in result.faces {
            let colour = Colour.of(face.scores.top)
            let b = face.face.box
            let x0 = Int(b.x.rounded()), y0 = Int(b.y.rounded())
            let x1 = Int((b.x + b.width).rounded()), y1 = Int((b.y + b.height).rounded())
            canvas.rectangle(x0: x0, y0: y0, x1: x1, y1: y1, thickness: thickness, colour: colour)

            let label = "\(face.scores.top.name) \(Int((face.scores.confidence * 100).rounded()))%"
            let pad = scale * 2
            let textH = BitmapFont.glyphHeight * scale
            let boxW = BitmapFont.width(of: label, scale: scale) + 2 * pad
            let boxH = textH + 2 * pad
            // Above the box, or inside its top edge when there is no room above.
            let ly = y0 - boxH >= 0 ? y0 - boxH : y0
            canvas.fill(x0: x0, y0: ly, x1: x0 + boxW, y1: ly + boxH, colour: colour)
            canvas.text(label, x: x0 + pad, y: ly + pad, scale: scale, colour: .black)

            if showBars { drawBars(face.scores, x: x0, y: y1 + thickness, width: max(x1 - x0, 40 * scale), scale: scale, canvas: &canvas) }
            if showLandmarks {
                for p in face.face.landmarks {
                    let px = Int(p.x.rounded()), py = Int(p.y.rounded())
                    canvas.fill(x0: px - scale, y0: py - scale, x1: px + scale + 1, y1: py + scale + 1, colour: colour)
                }
            }
        }
        frame = canvas.frame
    }

    private func drawBars(_ scores: EmotionScores, x: Int, y: Int, width: Int, scale: Int, canvas: inout Canvas) {
        let barH = 3 * scale
        for (i, emotion) in Emotion.allCases.enumerated() {
            let top = y + i * (barH + scale)
            let len = Int((Float(width) * scores[emotion]).rounded())
            canvas.fill(x0: x, y0: top, x1: x + width, y1: top + barH, colour: Colour(40, 40, 40))
            canvas.fill(x0: x, y0: top, x1: x + len, y1: top + barH, colour: Colour.of(emotion))
        }
    }
}

/// Clipped drawing primitives on an RGB24 frame.
struct Canvas {
    var frame: Frame

    mutating func fill(x0: Int, y0: Int, x1: Int, y1: Int, colour: Colour) {
        let xa = max(0, x0), xb = min(frame.width, x1)
        let ya = max(0, y0), yb = min(frame.height, y1)
        guard xa < xb, ya < yb else { return }
        let stride = frame.stride
        frame.pixels.withUnsafeMutableBufferPointer { px in
            for y in ya..<yb {
                var o = y * stride + xa * 3
                for _ in xa..<xb {
                    px[o] = colour.r; px[o + 1] = colour.g; px[o + 2] = colour.b
                    o += 3
                }
            }
        }
    }

    mutating func rectangle(x0: Int, y0: Int, x1: Int, y1: Int, thickness t: Int, colour: Colour) {
        fill(x0: x0, y0: y0, x1: x1, y1: y0 + t, colour: colour)
        fill(x0: x0, y0: y1 - t, x1: x1, y1: y1, colour: colour)
        fill(x0: x0, y0: y0, x1: x0 + t, y1: y1, colour: colour)
        fill(x0: x1 - t, y0: y0, x1: x1, y1: y1, colour: colour)
    }

    mutating func text(_ string: String, x: Int, y: Int, scale: Int, colour: Colour) {
        var cx = x
        for ch in string {
            if let rows = BitmapFont.rows(for: ch) {
                for (r, bits) in rows.enumerated() where bits != 0 {
                    for c in 0..<BitmapFont.glyphWidth where bits & (1 << (BitmapFont.glyphWidth - 1 - c)) != 0 {
                        fill(x0: cx + c * scale, y0: y + r * scale,
                             x1: cx + (c + 1) * scale, y1: y + (r + 1) * scale, colour: colour)
                    }
                }
            }
            cx += (BitmapFont.glyphWidth + BitmapFont.spacing) * scale
        }
    }
}
