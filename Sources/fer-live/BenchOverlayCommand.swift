import ArgumentParser
import Capture
import Classifier
import CoreTypes
import FaceDetect
import Foundation
import Pipeline

/// Times the overlay alone: boxes, labels and probability bars for N faces on a WIDTHxHEIGHT
/// frame (the faces spread over the picture, 150 to 250 pixels, as a crowd at 1080p).
struct BenchOverlayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overlay", abstract: "Time drawing the overlay (boxes, labels, bars) onto one frame.")

    @Option(help: "Frame size.") var size = "1920x1080"
    @Option(help: "Faces on the frame.") var faces = 7
    @Option(help: "Timed draws; the median is reported.") var runs = 200
    @Flag(name: .customLong("no-bars"), help: "Without the probability bars.") var noBars = false
    @Flag(help: "With the five landmarks.") var landmarks = false

    func validate() throws {
        guard (1...64).contains(faces) else { throw ValidationError("--faces must be between 1 and 64") }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
    }

    func run() throws {
        let wh = size.lowercased().split(separator: "x").compactMap { Int($0) }
        guard wh.count == 2, wh[0] >= 64, wh[1] >= 64 else { throw ValidationError("--size takes WIDTHxHEIGHT, like 1920x1080") }
        let (w, h) = (wh[0], wh[1])
        var frame = Frame(index: 0, time: 0, width: w, height: h)
        let tracked = (0..<faces).map { i -> TrackedFace in
            let side = Float(150 + (i * 37) % 100)
            let x = Float((i * 613) % max(1, w - Int(side) - 40) + 20), y = Float((i * 379) % max(1, h - Int(side) - 120) + 60)
            let lm = (0..<5).map { Point(x: x + side * Float($0 + 1) / 6, y: y + side / 2) }
            var p = [Float](repeating: 0.02, count: 7)
            p[i % 7] = 0.88
            return TrackedFace(id: i, face: Face(box: Box(x: x, y: y, width: side, height: side * 1.2), score: 0.99, landmarks: lm),
                               scores: EmotionScores(probabilities: p))
        }
        let result = FrameResult(frameIndex: 0, time: 0, faces: tracked)
        let overlay = Overlay(showBars: !noBars, showLandmarks: landmarks)
        for _ in 0..<10 { overlay.draw(result, on: &frame) }   // warm-up
        var times: [Double] = []
        for _ in 0..<runs {
            let t0 = DispatchTime.now().uptimeNanoseconds
            overlay.draw(result, on: &frame)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        times.sort()
        print(String(format: "overlay %dx%d, %d faces%@: median %.3f ms, p90 %.3f ms per frame (%d draws)", w, h, faces,
                     noBars ? ", no bars" : "", times[times.count / 2], times[times.count * 9 / 10], runs))
    }
}
