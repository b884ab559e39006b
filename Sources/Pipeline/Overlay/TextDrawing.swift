import Foundation

/// How the overlay writes text: measured first (layout), then drawn into a canvas. Sizes are
/// pixel sizes of the em, so both renderers scale with the frame.
protocol TextDrawing: Sendable {
    /// Pixels above and below the baseline of a line of text at `size`.
    func ascent(size: Int) -> Int
    func descent(size: Int) -> Int
    /// Width of `text` at `size`, in pixels.
    func width(of text: String, size: Int) -> Int
    /// Draws `text` with its baseline at `baseline`, starting at `x`; clipped to the canvas.
    func draw(_ text: String, x: Int, baseline: Int, size: Int, colour: Colour, on canvas: inout Canvas)
}

extension TextDrawing {
    func lineHeight(size: Int) -> Int { ascent(size: size) + descent(size: size) }
}

/// Which renderer the overlay uses: FreeType with a system font when one is found (DejaVu Sans
/// Bold, through fontconfig, or the file in `FER_LIVE_FONT`), else the built-in bitmap font.
enum OverlayText {
    static let shared: any TextDrawing = {
        let environment = ProcessInfo.processInfo.environment["FER_LIVE_FONT"]
        let path = environment ?? FreeTypeFont.locate("DejaVu Sans:bold") ?? FreeTypeFont.locate("sans-serif:bold")
        if let path, let font = FreeTypeFont(path: path) { return FreeTypeText(font: font) }
        return BitmapText()
    }()
}

/// Anti-aliased text from a FreeType font.
struct FreeTypeText: TextDrawing {
    let font: FreeTypeFont

    func ascent(size: Int) -> Int { font.metrics(size: size).ascent }
    func descent(size: Int) -> Int { font.metrics(size: size).descent }

    func width(of text: String, size: Int) -> Int {
        var pen = 0, right = 0
        for scalar in text.unicodeScalars {
            let g = font.glyph(scalar, size: size)
            right = max(right, pen + g.left + g.width)
            pen += g.advance
        }
        return max(pen, right)
    }

    func draw(_ text: String, x: Int, baseline: Int, size: Int, colour: Colour, on canvas: inout Canvas) {
        var pen = x
        for scalar in text.unicodeScalars {
            let g = font.glyph(scalar, size: size)
            canvas.blend(coverage: g.coverage, width: g.width, height: g.height,
                         x: pen + g.left, y: baseline - g.top, colour: colour)
            pen += g.advance
        }
    }
}

/// The 5x8 bitmap font, scaled by whole pixels: the fallback where no font file is found.
struct BitmapText: TextDrawing {
    private func scale(_ size: Int) -> Int { max(1, size / BitmapFont.glyphHeight) }

    func ascent(size: Int) -> Int { 6 * scale(size) }
    func descent(size: Int) -> Int { 2 * scale(size) }
    func width(of text: String, size: Int) -> Int { BitmapFont.width(of: text, scale: scale(size)) }

    func draw(_ text: String, x: Int, baseline: Int, size: Int, colour: Colour, on canvas: inout Canvas) {
        let s = scale(size)
        canvas.bitmapText(text, x: x, y: baseline - 6 * s, scale: s, colour: colour)
    }
}
