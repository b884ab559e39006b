import ArgumentParser
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
    @Option(help: "Upscaling factor of the 48x48 image before detection.") var scale = 4
    @Option(help: "Mid-gray margin around the upscaled image, in upscaled pixels.") var margin = 48
    @Option(help: "Models folder (MTCNN in mtcnn/, classifier in emotion/).") var models: String?
    @Option(help: "Also classify: the rows themselves and the detected faces cropped back out of the canvas (accuracy of each).")
    var classify: String?

    func run() throws {
        try Reporting.run("measure-framing") {
            let detector = try MTCNN(searching: models.map { ($0 as NSString).appendingPathComponent("mtcnn") })
            var survey = FramingSurvey()
            let csv = FER2013CSV(path: data, options: .init(usage: [usage]))
            let side = 48 * scale, canvas = side + 2 * margin
            var count = 0
            struct Done: Error {}
            let classifier = try classify.map { try EmotionClassifier(name: $0, modelsDirectory: models) }
            var unaligned = classifier
            unaligned?.preprocessor.align = false
            var direct = ConfusionMatrix(), cropped = ConfusionMatrix(), croppedFlat = ConfusionMatrix()
            do {
                try csv.forEachRow(warn: Reporting.warn) { row in
                    let frame = Self.upscaled(row.pixels, scale: scale, margin: margin, canvas: canvas)
                    let faces = try detector.detect(in: frame)
                    // The face nearest the image centre (FER images hold one face).
                    let c = Float(canvas) / 2
                    let face = faces.min { a, b in
                        hypotf(a.box.x + a.box.width / 2 - c, a.box.y + a.box.height / 2 - c)
                            < hypotf(b.box.x + b.box.width / 2 - c, b.box.y + b.box.height / 2 - c)
                    }
                    survey.add(face, scale: Float(scale), offset: Float(margin))
                    if let classifier, let unaligned, let face {
                        direct.add(truth: row.emotion, prediction: try classifier.classify(gray: row.pixels, count: 1)[0].top)
                        cropped.add(truth: row.emotion, prediction: try classifier.classify([(0, face)], in: [frame])[0].top)
                        croppedFlat.add(truth: row.emotion, prediction: try unaligned.classify([(0, face)], in: [frame])[0].top)
                    }
                    count += 1
                    if count >= rows { throw Done() }
                }
            } catch is Done {}
            print("MTCNN on \(count) \(usage) rows of \(data), upscaled x\(scale) (bilinear), \(margin) px mid-gray margin")
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
    static func upscaled(_ px: [UInt8], scale: Int, margin: Int, canvas: Int) -> Frame {
        var out = [UInt8](repeating: 128, count: canvas * canvas * 3)
        let side = 48 * scale
        for y in 0..<side {
            let sy = min(max((Float(y) + 0.5) / Float(scale) - 0.5, 0), 47)
            let y0 = Int(sy), y1 = min(y0 + 1, 47), ty = sy - Float(y0)
            for x in 0..<side {
                let sx = min(max((Float(x) + 0.5) / Float(scale) - 0.5, 0), 47)
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
