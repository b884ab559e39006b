import CoreTypes
/// A box in flight through the cascade: corners (x1, y1, x2, y2) in frame pixels, score, and
/// the regression offsets the last network predicted for it.
struct Candidate: Sendable {
    var x1: Float, y1: Float, x2: Float, y2: Float
    var score: Float
    var reg: (Float, Float, Float, Float) = (0, 0, 0, 0)
    var landmarks: [Point] = []
}

/// Box arithmetic of facenet-pytorch's detect_face, step for step (Float32 throughout).
enum BoxMath {
    /// torchvision.ops.nms: highest score first, drops boxes whose IoU with a kept one exceeds
    /// `threshold`; areas without the +1. Returns kept indices, highest score first.
    static func nms(_ c: [Candidate], threshold: Double) -> [Int] {
        let order = c.indices.sorted { c[$0].score > c[$1].score || (c[$0].score == c[$1].score && $0 < $1) }
        let boxes = SortedBoxes(c, order: order, plusOne: 0)
        return boxes.greedy { a, b, x1, y1, x2, y2, area in
            let w = max(0, min(x2[a], x2[b]) - max(x1[a], x1[b]))
            let h = max(0, min(y2[a], y2[b]) - max(y1[a], y1[b]))
            let inter = w * h
            let iou = inter / (area[a] + area[b] - inter)
            return Double(iou) > threshold
        }
    }

    /// detect_face's nms_numpy with method 'Min': areas with +1, overlap over the smaller area,
    /// keeps boxes whose overlap is <= threshold.
    static func nmsMin(_ c: [Candidate], threshold: Float) -> [Int] {
        let order = c.indices.sorted { c[$0].score > c[$1].score || (c[$0].score == c[$1].score && $0 > $1) }
        let boxes = SortedBoxes(c, order: order, plusOne: 1)
        return boxes.greedy { a, b, x1, y1, x2, y2, area in
            let w = max(0, min(x2[a], x2[b]) - max(x1[a], x1[b]) + 1)
            let h = max(0, min(y2[a], y2[b]) - max(y1[a], y1[b]) + 1)
            let o = (w * h) / min(area[a], area[b])
            return !(o <= threshold)
        }
    }

    /// Stage-1 refinement: offsets scaled by width and height without the +1.
    static func regressStage1(_ b: inout Candidate) {
        let w = b.x2 - b.x1, h = b.y2 - b.y1
        let (r0, r1, r2, r3) = b.reg
        b = Candidate(x1: b.x1 + r0 * w, y1: b.y1 + r1 * h, x2: b.x2 + r2 * w, y2: b.y2 + r3 * h, score: b.score)
    }

    /// bbreg: offsets scaled by width + 1 and height + 1.
    static func bbreg(_ b: inout Candidate) {
        let w = b.x2 - b.x1 + 1, h = b.y2 - b.y1 + 1
        let (r0, r1, r2, r3) = b.reg
        b.x1 += r0 * w; b.y1 += r1 * h; b.x2 += r2 * w; b.y2 += r3 * h
    }

    /// rerec: squares the box around its centre with side max(w, h).
    static func rerec(_ b: inout Candidate) {
        let h = b.y2 - b.y1, w = b.x2 - b.x1
        let l = max(w, h)
        b.x1 = b.x1 + w * 0.5 - l * 0.5
        b.y1 = b.y1 + h * 0.5 - l * 0.5
        b.x2 = b.x1 + l
        b.y2 = b.y1 + l
    }

    /// pad + the crop condition: the pixel rectangle [x0, x1) x [y0, y1) the next network sees,
    /// or nil when it is empty (facenet-pytorch skips those crops).
    static func cropRect(_ b: Candidate, width: Int, height: Int) -> (x0: Int, y0: Int, x1: Int, y1: Int)? {
        func trunc(_ v: Float) -> Int? {
            guard v.isFinite else { return nil }
            return Int(max(-1e9, min(1e9, v)))
        }
        guard var x = trunc(b.x1), var y = trunc(b.y1), var ex = trunc(b.x2), var ey = trunc(b.y2) else { return nil }
        if x < 1 { x = 1 }
        if y < 1 { y = 1 }
        if ex > width { ex = width }
        if ey > height { ey = height }
        guard ey > y - 1, ex > x - 1 else { return nil }
        return (x - 1, y - 1, ex, ey)
    }
}

/// Box corners and areas in score order, one flat array each: the NMS loops read contiguous floats
/// instead of copying `Candidate`s (whose landmark array costs a retain and a release per copy,
/// which made NMS over thousands of 1080p boxes take 11 ms).
private struct SortedBoxes {
    let order: [Int]
    var x1: [Float], y1: [Float], x2: [Float], y2: [Float], area: [Float]

    init(_ c: [Candidate], order: [Int], plusOne: Float) {
        self.order = order
        x1 = order.map { c[$0].x1 }
        y1 = order.map { c[$0].y1 }
        x2 = order.map { c[$0].x2 }
        y2 = order.map { c[$0].y2 }
        area = order.map { (c[$0].x2 - c[$0].x1 + plusOne) * (c[$0].y2 - c[$0].y1 + plusOne) }
    }

    /// Greedy suppression in score order: keeps a box unless a kept, higher-ranked one
    /// `suppresses` it (arguments: ranks of the kept and the tested box, then the arrays).
    /// Returns the kept boxes' original indices, best first. Inlined with its closure so the
    /// inner loop (one overlap test against every later box, written without branches) compiles
    /// to straight vector code: P-Net's NMS tests about a million pairs per 1080p frame.
    @inline(__always)
    func greedy(_ suppresses: (Int, Int, UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>,
                               UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>) -> Bool) -> [Int] {
        let n = order.count
        var suppressed = [UInt8](repeating: 0, count: n)
        var keep: [Int] = []
        x1.withUnsafeBufferPointer { x1 in
        y1.withUnsafeBufferPointer { y1 in
        x2.withUnsafeBufferPointer { x2 in
        y2.withUnsafeBufferPointer { y2 in
        area.withUnsafeBufferPointer { area in
            suppressed.withUnsafeMutableBufferPointer { sup in
                for a in 0..<n where sup[a] == 0 {
                    keep.append(order[a])
                    for b in (a + 1)..<n {
                        sup[b] |= suppresses(a, b, x1, y1, x2, y2, area) ? 1 : 0
                    }
                }
            }
        }}}}}
        return keep
    }
}
