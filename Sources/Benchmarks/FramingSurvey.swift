import Classifier
import CoreTypes
import Foundation

/// Where a face detector puts faces on FER2013 images: collects detections mapped back to the
/// 48x48 frame's units and summarises them by quartiles. `fer-live measure-framing` feeds it;
/// its medians are the constants of `FaceGeometry.fer2013`.
public struct FramingSurvey: Sendable {
    public static let quantities = ["box.x", "box.y", "box.width", "box.height", "leftEye.x", "leftEye.y",
                                    "rightEye.x", "rightEye.y", "nose.x", "nose.y", "mouthLeft.x", "mouthLeft.y",
                                    "mouthRight.x", "mouthRight.y", "eyeCenter.x", "eyeCenter.y", "eyeDistance",
                                    "eyeToMouth", "rollDegrees"]
    public private(set) var values: [String: [Float]] = [:]
    public private(set) var images = 0
    public private(set) var found = 0

    public init() {}

    /// One image: `face` (nil when none was found) detected on the image scaled by `scale` and
    /// placed at `offset` in the detector's frame.
    public mutating func add(_ face: Face?, scale: Float, offset: Float) {
        images += 1
        guard let face, face.landmarks.count >= 5 else { return }
        found += 1
        func u(_ v: Float) -> Float { (v - offset) / scale }
        let b = face.box, l = face.landmarks.map { Point(x: u($0.x), y: u($0.y)) }
        let ec = Point(x: (l[0].x + l[1].x) / 2, y: (l[0].y + l[1].y) / 2)
        let mc = Point(x: (l[3].x + l[4].x) / 2, y: (l[3].y + l[4].y) / 2)
        let record: [String: Float] = [
            "box.x": u(b.x), "box.y": u(b.y), "box.width": b.width / scale, "box.height": b.height / scale,
            "leftEye.x": l[0].x, "leftEye.y": l[0].y, "rightEye.x": l[1].x, "rightEye.y": l[1].y,
            "nose.x": l[2].x, "nose.y": l[2].y, "mouthLeft.x": l[3].x, "mouthLeft.y": l[3].y,
            "mouthRight.x": l[4].x, "mouthRight.y": l[4].y, "eyeCenter.x": ec.x, "eyeCenter.y": ec.y,
            "eyeDistance": hypotf(l[1].x - l[0].x, l[1].y - l[0].y), "eyeToMouth": hypotf(mc.x - ec.x, mc.y - ec.y),
            "rollDegrees": atan2f(l[1].y - l[0].y, l[1].x - l[0].x) * 180 / .pi,
        ]
        for (k, v) in record { values[k, default: []].append(v) }
    }

    /// Linear-interpolated quantile q (0...1) of a quantity; nil when nothing was found.
    public func quantile(_ name: String, _ q: Float) -> Float? {
        guard let v = values[name]?.sorted(), !v.isEmpty else { return nil }
        let pos = q * Float(v.count - 1)
        let i = Int(pos), t = pos - Float(i)
        return i + 1 < v.count ? v[i] * (1 - t) + v[i + 1] * t : v[i]
    }

    public func median(_ name: String) -> Float? { quantile(name, 0.5) }

    /// The geometry to crop faces like these: medians, except that the two scale references
    /// are stretched together so the crop scale `FacePreprocessor` picks (the larger of the eye
    /// and eye-to-mouth ratios) is 1 on the median FER face, not above it.
    public var geometry: FaceGeometry? {
        guard let ex = median("eyeCenter.x"), let ey = median("eyeCenter.y"), let d = median("eyeDistance"),
              let m = median("eyeToMouth"), let bx = median("box.x"), let by = median("box.y"),
              let bw = median("box.width"), let bh = median("box.height"),
              let ed = values["eyeDistance"], let em = values["eyeToMouth"] else { return nil }
        let ratios = zip(ed, em).map { max($0 / d, $1 / m) }.sorted()
        let r = ratios[ratios.count / 2]
        return FaceGeometry(eyeCenter: Point(x: ex, y: ey), eyeDistance: d * r, eyeToMouth: m * r,
                            box: Box(x: bx, y: by, width: bw, height: bh))
    }

    public func table() -> String {
        var lines = ["\(found) of \(images) faces found; values in 48x48-frame pixels (origin top-left corner)",
                     "quantity          q25     median    q75"]
        for name in Self.quantities {
            guard let a = quantile(name, 0.25), let m = median(name), let c = quantile(name, 0.75) else { continue }
            lines.append(name.padding(toLength: 14, withPad: " ", startingAt: 0) + String(format: " %7.2f %8.2f %8.2f", a, m, c))
        }
        return lines.joined(separator: "\n")
    }
}
