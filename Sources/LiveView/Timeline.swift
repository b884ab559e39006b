import Classifier
import CoreTypes
import Foundation
import Pipeline

/// Each face's emotions over time, for a page opened after the run started (or ended): the
/// page draws what it receives live on top of this. A live run keeps the last minute, a file
/// the whole run, thinned out once it grows long so memory stays bounded.
struct Timeline: Sendable {
    struct Sample: Sendable, Equatable {
        var time: Float
        var faceID: Int32
        /// The seven probabilities in percent, in `Emotion.allCases` order.
        var percent: [UInt8]
    }

    /// nil: keep the whole run.
    let window: Double?
    let capacity: Int
    private(set) var samples: [Sample] = []
    /// Every how many-th frame is kept; doubles each time the file's history is thinned.
    private(set) var stride = 1
    private var framesSeen = 0

    init(window: Double?, capacity: Int = 60_000) {
        self.window = window
        self.capacity = max(2, capacity)
    }

    mutating func record(_ result: FrameResult) {
        defer { framesSeen += 1 }
        guard framesSeen % stride == 0 else { return }
        for face in result.faces {
            let percent = Emotion.allCases.map { UInt8(max(0, min(100, (face.scores[$0] * 100).rounded()))) }
            samples.append(Sample(time: Float(result.time), faceID: Int32(truncatingIfNeeded: face.id), percent: percent))
        }
        if let window, let first = samples.first, Double(first.time) < result.time - window * 1.25 {
            // Trim in batches (a quarter of the window at a time) rather than on every frame.
            let cutoff = Float(result.time - window)
            samples.removeFirst(samples.firstIndex { $0.time >= cutoff } ?? samples.count)
        }
        if samples.count > capacity {
            // Keep every other frame's samples, and record every other frame from now on.
            stride *= 2
            var keep: [Sample] = []
            var lastTime: Float = -.infinity
            var toggle = false
            for s in samples {
                if s.time != lastTime { toggle.toggle(); lastTime = s.time }
                if toggle { keep.append(s) }
            }
            samples = keep
        }
    }

    /// `{"window_s":60,"emotions":[...],"faces":{"1":[[t,angry,...,neutral],...]},"last":{...}}`,
    /// probabilities in percent; `last` is the newest frame's JSON line, for the face cards.
    func json(last: String? = nil) -> String {
        var byFace: [Int32: [String]] = [:]
        var order: [Int32] = []
        for s in samples {
            if byFace[s.faceID] == nil { order.append(s.faceID) }
            byFace[s.faceID, default: []].append("[\(Number.fixed(Double(s.time), 3)),\(s.percent.map(String.init).joined(separator: ","))]")
        }
        let faces = order.map { "\"\($0)\":[\(byFace[$0, default: []].joined(separator: ","))]" }.joined(separator: ",")
        let windowText = window.map { Number.fixed($0, 0) } ?? "null"
        return "{\"window_s\":\(windowText),\"emotions\":[\(Emotion.allCases.map { "\"\($0.name)\"" }.joined(separator: ","))],\"faces\":{\(faces)},\"last\":\(last ?? "null")}"
    }
}
