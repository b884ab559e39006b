/// A rectangle in frame pixels, `x0..<x1` by `y0..<y1`.
struct PixelRect: Equatable, Sendable {
    var x0: Int, y0: Int, x1: Int, y1: Int
    var width: Int { x1 - x0 }
    var height: Int { y1 - y0 }

    init(x: Int, y: Int, width: Int, height: Int) { x0 = x; y0 = y; x1 = x + width; y1 = y + height }

    func inside(width w: Int, height h: Int) -> Bool { x0 >= 0 && y0 >= 0 && x1 <= w && y1 <= h }

    /// Moved (not resized) so that it lies inside a `w` x `h` frame; nil when it is too big.
    func clamped(width w: Int, height h: Int) -> PixelRect? {
        guard width <= w, height <= h else { return nil }
        return PixelRect(x: min(max(0, x0), w - width), y: min(max(0, y0), h - height), width: width, height: height)
    }

    func intersects(_ other: PixelRect) -> Bool {
        x0 < other.x1 && other.x0 < x1 && y0 < other.y1 && other.y0 < y1
    }
}

/// Sizes of the overlay's parts for one frame size: they follow the shorter side, so labels
/// read alike from 320x240 to 4K (text 10 px at 240 lines, 27 px at 1080, 54 px at 2160).
struct OverlayMetrics: Equatable, Sendable {
    let textSize: Int
    let barTextSize: Int
    let thickness: Int
    let padding: Int

    init(width: Int, height: Int) {
        let side = Double(max(1, min(width, height)))
        textSize = max(10, Int((side / 40).rounded()))
        barTextSize = max(9, textSize * 3 / 4)
        thickness = max(2, Int((side / 270).rounded()))
        padding = max(2, textSize / 5)
    }
}

/// Where one face's label and probability panel go. Every part stays inside the frame on all
/// four edges: the label goes above the box, or inside its top when there is no room above, and
/// is slid sideways to stay in view; the panel goes below the box, else above the label, else
/// beside the box, and is left out only when the frame is too small to hold it.
struct FaceLayout: Equatable, Sendable {
    let label: PixelRect?
    let panel: PixelRect?

    static func place(box: PixelRect, labelSize: (width: Int, height: Int), panelSize: (width: Int, height: Int)?,
                      frameWidth w: Int, frameHeight h: Int, gap: Int) -> FaceLayout {
        // Label: above the box when it fits there, else just inside the box's top edge (or the
        // frame's, for a box that starts above the frame).
        let above = box.y0 - labelSize.height
        let labelY = above >= 0 ? above : max(0, box.y0)
        let label = PixelRect(x: box.x0, y: labelY, width: labelSize.width, height: labelSize.height)
            .clamped(width: w, height: h)
        guard let panelSize else { return FaceLayout(label: label, panel: nil) }
        let taken = label ?? PixelRect(x: box.x0, y: box.y0, width: 0, height: 0)
        var candidates = [
            PixelRect(x: box.x0, y: box.y1 + gap, width: panelSize.width, height: panelSize.height),
            PixelRect(x: box.x0, y: min(taken.y0, box.y0) - gap - panelSize.height, width: panelSize.width, height: panelSize.height),
            PixelRect(x: box.x1 + gap, y: box.y0, width: panelSize.width, height: panelSize.height),
            PixelRect(x: box.x0 - gap - panelSize.width, y: box.y0, width: panelSize.width, height: panelSize.height),
        ]
        // The first that fits as it is; else the first that fits when slid into the frame
        // without covering the label.
        if let fits = candidates.first(where: { $0.inside(width: w, height: h) }) { return FaceLayout(label: label, panel: fits) }
        candidates = candidates.compactMap { $0.clamped(width: w, height: h) }
        let panel = candidates.first { label == nil || !$0.intersects(taken) } ?? candidates.first
        return FaceLayout(label: label, panel: panel)
    }
}
