import ArgumentParser
import FaceDetect

/// MTCNN options shared by `detect` and `bench detect`.
struct DetectorOptions: ParsableArguments {
    @Option(help: "Smallest face searched for, in pixels.")
    var minFace: Double = 20

    @Option(help: "Scale factor between pyramid levels.")
    var scaleFactor: Double = 0.709

    @Option(help: "P-Net, R-Net, O-Net score thresholds, comma separated.")
    var thresholds: String = "0.6,0.7,0.7"

    @Option(help: "Folder holding mtcnn/{pnet,rnet,onet}.safetensors (default: $FER_LIVE_MODELS, next to the executable, the repository's models/).")
    var models: String?

    func validate() throws {
        guard parsedThresholds != nil else { throw ValidationError("--thresholds needs three numbers like 0.6,0.7,0.7") }
    }

    var parsedThresholds: [Float]? {
        let parts = thresholds.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 3, parts.allSatisfy({ $0 != nil }) else { return nil }
        return parts.compactMap { $0 }
    }

    func makeDetector() throws -> MTCNN {
        let options = MTCNN.Options(minFaceSize: minFace, scaleFactor: scaleFactor,
                                    thresholds: parsedThresholds ?? [0.6, 0.7, 0.7])
        return try MTCNN(searching: models, options: options)
    }
}

import Foundation
