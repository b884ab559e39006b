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

/// Draws results onto frames: a box per face in its emotion's colour, a label with the emotion,
/// its confidence and the face's id, and optionally the seven probabilities as labelled bars.
/// Text is anti-aliased FreeType (`OverlayText`); every part stays inside the frame
/// (`FaceLayout`), sized from the frame (`OverlayMetrics`).
public struct Overlay: Sendable {
    public var showBars: Bool
    public var showLandmarks: Bool
    let text: any TextDrawing

    public init(showBars: Bool = true, showLandmarks: Bool = false) {
        self.init(showBars: showBars, showLandmarks: showLandmarks, text: OverlayText.shared)
    }

    init(showBars: Bool, showLandmarks: Bool, text: any TextDrawing) {
        self.showBars = showBars
        self.showLandmarks = showLandmarks
        self.text = text
    }

    /// Three letters per bar: enough to tell the seven apart.
    static let shortNames = ["ang", "dis", "fea", "hap", "sad", "sur", "neu"]

    /// The label's text: "happy 82% #3".
    static func label(_ face: TrackedFace) -> String {
        "\(face.scores.top.name) \(Int((face.scores.confidence * 100).rounded()))% #\(face.id)"
    }

    public func draw(_ result: FrameResult, on frame: inout Frame) {
        let m = OverlayMetrics(width: frame.width, height: frame.height)
        // The canvas takes the pixels over, leaving `frame` without them, so that the buffer has
        // one owner and drawing writes in place; with two references the first write copied the
        // whole picture (copy-on-write: 6 MB, about a third of the drawing time at 1080p).
        var canvas = Canvas(frame: frame)
        frame.pixels = []
        for face in result.faces {
            let colour = Colour.of(face.scores.top)
            let b = face.face.box
            let box = PixelRect(x: Int(b.x.rounded()), y: Int(b.y.rounded()),
                                width: Int(b.width.rounded()), height: Int(b.height.rounded()))
            canvas.rectangle(x0: box.x0, y0: box.y0, x1: box.x1, y1: box.y1, thickness: m.thickness, colour: colour)

            let label = Self.label(face)
            let labelSize = (text.width(of: label, size: m.textSize) + 2 * m.padding, text.lineHeight(size: m.textSize) + 2 * m.padding)
            let layout = FaceLayout.place(box: box, labelSize: labelSize, panelSize: showBars ? panelSize(m, boxWidth: box.width) : nil,
                                          frameWidth: frame.width, frameHeight: frame.height, gap: m.thickness)
            if let r = layout.label {
                canvas.fill(x0: r.x0, y0: r.y0, x1: r.x1, y1: r.y1, colour: colour)
                text.draw(label, x: r.x0 + m.padding, baseline: r.y0 + m.padding + text.ascent(size: m.textSize),
                          size: m.textSize, colour: .black, on: &canvas)
            }
            if let r = layout.panel { drawPanel(face.scores, in: r, m, canvas: &canvas) }
            if showLandmarks {
                let dot = max(1, m.thickness / 2)
                for p in face.face.landmarks {
                    let px = Int(p.x.rounded()), py = Int(p.y.rounded())
                    canvas.fill(x0: px - dot, y0: py - dot, x1: px + dot + 1, y1: py + dot + 1, colour: colour)
                }
            }
        }
        frame = canvas.frame
    }

    private func nameWidth(_ m: OverlayMetrics) -> Int {
        Self.shortNames.map { text.width(of: $0, size: m.barTextSize) }.max() ?? 0
    }

    private func rowHeight(_ m: OverlayMetrics) -> Int { text.lineHeight(size: m.barTextSize) + 2 }

    /// Names, then bars at least five names wide (or the box's width).
    private func panelSize(_ m: OverlayMetrics, boxWidth: Int) -> (width: Int, height: Int) {
        let names = nameWidth(m)
        let bars = max(boxWidth - names - 3 * m.padding, 4 * names)
        return (names + bars + 3 * m.padding, Emotion.allCases.count * rowHeight(m) + 2 * m.padding)
    }

    /// A dark panel with one row per emotion: its short name in light grey and its bar on a
    /// darker track, so that neutral's grey reads against the panel as well as on the video.
    private func drawPanel(_ scores: EmotionScores, in r: PixelRect, _ m: OverlayMetrics, canvas: inout Canvas) {
        canvas.fill(x0: r.x0, y0: r.y0, x1: r.x1, y1: r.y1, colour: Colour(24, 24, 24))
        let names = nameWidth(m), row = rowHeight(m)
        let barX = r.x0 + 2 * m.padding + names, barW = r.x1 - m.padding - barX
        let barH = max(2, row * 3 / 5)
        for (i, emotion) in Emotion.allCases.enumerated() {
            let top = r.y0 + m.padding + i * row
            text.draw(Self.shortNames[i], x: r.x0 + m.padding, baseline: top + 1 + text.ascent(size: m.barTextSize),
                      size: m.barTextSize, colour: Colour(225, 225, 225), on: &canvas)
            let barTop = top + (row - barH) / 2
            let length = Int((Float(barW) * min(1, max(0, scores[emotion]))).rounded())
            canvas.fill(x0: barX, y0: barTop, x1: barX + barW, y1: barTop + barH, colour: Colour(70, 70, 70))
            canvas.fill(x0: barX, y0: barTop, x1: barX + length, y1: barTop + barH, colour: Colour.of(emotion))
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

    /// Blends `colour` over the frame through an 8-bit coverage map placed at (`x`, `y`).
    mutating func blend(coverage: [UInt8], width: Int, height: Int, x: Int, y: Int, colour: Colour) {
        let xa = max(0, x), xb = min(frame.width, x + width)
        let ya = max(0, y), yb = min(frame.height, y + height)
        guard xa < xb, ya < yb, coverage.count >= width * height else { return }
        let stride = frame.stride
        let (r, g, b) = (Int(colour.r), Int(colour.g), Int(colour.b))
        frame.pixels.withUnsafeMutableBufferPointer { px in
            coverage.withUnsafeBufferPointer { cov in
                for yy in ya..<yb {
                    let row = (yy - y) * width
                    var o = yy * stride + xa * 3
                    for xx in xa..<xb {
                        let a = Int(cov[row + xx - x])
                        if a == 255 {
                            px[o] = colour.r; px[o + 1] = colour.g; px[o + 2] = colour.b
                        } else if a > 0 {
                            // out = under + (over - under) * a / 255, rounded.
                            px[o] = UInt8((Int(px[o]) * (255 - a) + r * a + 127) / 255)
                            px[o + 1] = UInt8((Int(px[o + 1]) * (255 - a) + g * a + 127) / 255)
                            px[o + 2] = UInt8((Int(px[o + 2]) * (255 - a) + b * a + 127) / 255)
                        }
                        o += 3
                    }
                }
            }
        }
    }

    mutating func bitmapText(_ string: String, x: Int, y: Int, scale: Int, colour: Colour) {
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
