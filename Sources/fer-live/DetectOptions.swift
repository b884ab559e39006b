import ArgumentParser
import FaceDetect

/// The face detector's options, one group for every command that detects faces (`live`,
/// `annotate`, `log` through `PipelineFlags`; `detect`; `bench detect`), parsed and validated
/// once, the same way everywhere.
struct DetectorOptions: ParsableArguments {
    @Option(name: .customLong("min-face"), help: "Smallest face to find, in pixels.")
    var minFace: Double = 20

    @Option(name: .customLong("scale-factor"), help: "Image pyramid scale step, in (0.05, 0.99).")
    var scaleFactor: Double = 0.709

    @Option(help: "Detector thresholds for P-Net, R-Net, O-Net, each between 0 and 1, e.g. 0.6,0.7,0.7.")
    var thresholds: String = "0.6,0.7,0.7"

    @Option(help: "Folder holding mtcnn/ and emotion/ (default: $FER_LIVE_MODELS, else models/ next to the executable or in a folder above it).")
    var models: String?

    func validate() throws {
        guard minFace >= 1, minFace.isFinite else { throw ValidationError("--min-face must be at least 1 (got \(minFace))") }
        guard scaleFactor > 0.05, scaleFactor < 0.99 else {
            throw ValidationError("--scale-factor must lie between 0.05 and 0.99 (got \(scaleFactor))")
        }
        _ = try parsedThresholds()
    }

    func parsedThresholds() throws -> [Float] {
        let parts = thresholds.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        let values = parts.compactMap { $0 }
        guard parts.count == 3, values.count == 3, values.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
            throw ValidationError("--thresholds takes three numbers between 0 and 1, like 0.6,0.7,0.7 (got \(thresholds))")
        }
        return values
    }

    var mtcnnOptions: MTCNN.Options {
        get throws {
            MTCNN.Options(minFaceSize: minFace, scaleFactor: scaleFactor, thresholds: try parsedThresholds())
        }
    }

    func makeDetector() throws -> MTCNN {
        try MTCNN(searching: models, options: try mtcnnOptions)
    }
}
