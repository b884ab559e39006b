import Capture
import CoreTypes
import Foundation

/// The JSON of faces, one schema for every command (README, "JSON lines"): a frame is
/// `{"frame":0,"time_s":0.0400,"faces":[...]}` (every frame, `faces` empty when there is none), a
/// face `{"box":[x,y,w,h],"score":0.9987,"landmarks":[[x,y],...]}` in source pixels, to which
/// `log`, `annotate` and `live` add `face_id`, `emotion`, `confidence` and `probabilities`.
public enum DetectionJSON {
    /// The detector's fields of a face, without braces: `"box":[...],"score":...,"landmarks":[...]`.
    public static func fields(_ f: Face) -> String {
        let b = f.box
        let lms = f.landmarks.map { "[\(number($0.x, 1)),\(number($0.y, 1))]" }.joined(separator: ",")
        return "\"box\":[\(number(b.x, 1)),\(number(b.y, 1)),\(number(b.width, 1)),\(number(b.height, 1))],"
            + "\"score\":\(number(f.score, 4)),\"landmarks\":[\(lms)]"
    }

    /// One frame's line; `faces` are complete JSON objects.
    public static func frame(_ index: Int, time: Double, faces: [String]) -> String {
        "{\"frame\":\(index),\"time_s\":\(number(time, 4)),\"faces\":[\(faces.joined(separator: ","))]}"
    }

    /// `fer-live detect`'s line: the detector's fields only.
    public static func line(frame: Int, time: Double, faces: [Face]) -> String {
        Self.frame(frame, time: time, faces: faces.map { "{\(fields($0))}" })
    }

    /// Fixed decimals; a non-finite value (never expected) as 0, so the line stays valid JSON.
    public static func number(_ v: Float, _ digits: Int) -> String { number(Double(v), digits) }

    public static func number(_ v: Double, _ digits: Int) -> String {
        v.isFinite ? String(format: "%.\(digits)f", v) : "0"
    }
}
