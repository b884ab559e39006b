import ArgumentParser
import Benchmarks
import Capture
import Classifier
import FaceDetect
import Foundation

/// Hidden tool: measures where MTCNN puts faces on FER2013 images, which fixes the crop geometry
/// (`FaceGeometry.fer2013`) the classifier uses on video frames.
struct MeasureFramingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measure-framing", abstract: "Where MTCNN finds faces on FER2013 images (crop geometry).",
        shouldDisplay: false)

    @Argument(help: "FER2013 CSV (.csv or .csv.gz).")
    var data: String
    @Option(help: "Usage rows to use.") var usage = "PublicTest"
    @Option(help: "Number of rows.") var rows = 400
    @Option(help: "Side of the upscaled face, in pixels (48 x the upscaling factor).") var side = 192
    @Option(help: "Mid-gray margin around the upscaled image, in upscaled pixels.") var margin = 48
    @Option(help: "Write one CSV line per row: the crop the pipeline would take of the detected face, in 48x48 units (origin, axisU, axisV); empty fields when no face was found.")
    var transforms: String?
    @Option(help: "Models folder (MTCNN in mtcnn/, classifier in emotion/).") var models: String?
    @Option(help: "Also classify: the rows themselves and the detected faces cropped back out of the canvas (accuracy of each).")
    var classify: String?

    func run() throws {
        try Reporting.run("measure-framing") {
            let detector = try MTCNN(searching: models.map { ($0 as NSString).appendingPathComponent("mtcnn") })
            var survey = FramingSurvey()
            let csv = FER2013CSV(path: data, options: .init(usage: [usage]))
            let canvas = side + 2 * margin
            let scale = Float(side) / 48
            var count = 0
            var lines = ["row,found,score,origin_x,origin_y,axisU_x,axisU_y,axisV_x,axisV_y"]
            let framer = FacePreprocessor(normalization: Preprocessing(scale: 1.0 / 255, mean: 0.5, std: 0.25))
            struct Done: Error {}
            let classifier = try classify.map { try EmotionClassifier(name: $0, modelsDirectory: models) }
            var unaligned = classifier
            unaligned?.preprocessor.align = false
            var direct = ConfusionMatrix(), cropped = ConfusionMatrix(), croppedFlat = ConfusionMatrix()
            do {
                try csv.forEachRow(warn: Reporting.warn) { row in
                    let frame = Self.upscaled(row.pixels, side: side, margin: margin, canvas: canvas)
                    let faces = try detector.detect(in: frame)
                    // The face nearest the image centre (FER images hold one face).
                    let c = Float(canvas) / 2
                    let face = faces.min { a, b in
                        hypotf(a.box.x + a.box.width / 2 - c, a.box.y + a.box.height / 2 - c)
                            < hypotf(b.box.x + b.box.width / 2 - c, b.box.y + b.box.height / 2 - c)
                    }
                    survey.add(face, scale: scale, offset: Float(margin))
                    if transforms != nil {
                        if let face {
                            // Canvas corner-origin coordinates map to the 48x48 frame's by (c - margin) / scale.
                            let t = framer.transform(for: face), m = Float(margin)
                            lines.append(String(format: "%d,1,%.4f,%.4f,%.4f,%.5f,%.5f,%.5f,%.5f", count, face.score,
                                                (t.origin.x - m) / scale, (t.origin.y - m) / scale,
                                                t.axisU.x / scale, t.axisU.y / scale, t.axisV.x / scale, t.axisV.y / scale))
                        } else {
                            lines.append("\(count),0,,,,,,,")
                        }
                    }
                    if let classifier, let unaligned, let face {
                        direct.add(truth: row.emotion, prediction: try classifier.classify(gray: row.pixels, count: 1)[0].top)
                        cropped.add(truth: row.emotion, prediction: try classifier.classify([(0, face)], in: [frame])[0].top)
                        croppedFlat.add(truth: row.emotion, prediction: try unaligned.classify([(0, face)], in: [frame])[0].top)
                    }
                    count += 1
                    if count >= rows { throw Done() }
                }
            } catch is Done {}
            if let transforms {
                try (lines.joined(separator: "\n") + "\n").write(toFile: transforms, atomically: true, encoding: .utf8)
            }
            print("MTCNN on \(count) \(usage) rows of \(data), upscaled to \(side)x\(side) (bilinear), \(margin) px mid-gray margin")
            print(survey.table())
            if classifier != nil {
                print(String(format: "accuracy on the %d faces found: rows as given %.2f%%, detected + cropped (eyes levelled) %.2f%%, detected + cropped (not rotated) %.2f%%",
                             direct.total, 100 * direct.accuracy, 100 * cropped.accuracy, 100 * croppedFlat.accuracy))
            }
            if let g = survey.geometry {
                print(String(format: "FaceGeometry(eyeCenter: (%.1f, %.1f), eyeDistance: %.1f, eyeToMouth: %.1f, box: (%.1f, %.1f, %.1f, %.1f))",
                             g.eyeCenter.x, g.eyeCenter.y, g.eyeDistance, g.eyeToMouth, g.box.x, g.box.y, g.box.width, g.box.height))
            }
        }
    }

    /// Bilinear upscale (pixel centres aligned, border repeated) onto a mid-gray RGB canvas.
    static func upscaled(_ px: [UInt8], side: Int, margin: Int, canvas: Int) -> Frame {
        var out = [UInt8](repeating: 128, count: canvas * canvas * 3)
        let scale = Float(side) / 48
        for y in 0..<side {
            let sy = min(max((Float(y) + 0.5) / scale - 0.5, 0), 47)
            let y0 = Int(sy), y1 = min(y0 + 1, 47), ty = sy - Float(y0)
            for x in 0..<side {
                let sx = min(max((Float(x) + 0.5) / scale - 0.5, 0), 47)
                let x0 = Int(sx), x1 = min(x0 + 1, 47), tx = sx - Float(x0)
                let top = Float(px[y0 * 48 + x0]) * (1 - tx) + Float(px[y0 * 48 + x1]) * tx
                let bottom = Float(px[y1 * 48 + x0]) * (1 - tx) + Float(px[y1 * 48 + x1]) * tx
                let v = UInt8(min(255, max(0, (top * (1 - ty) + bottom * ty).rounded())))
                let o = ((y + margin) * canvas + x + margin) * 3
                out[o] = v; out[o + 1] = v; out[o + 2] = v
            }
        }
        return Frame(index: 0, time: 0, width: canvas, height: canvas, pixels: out)
    }
}
