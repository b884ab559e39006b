import Capture
import Classifier
import FaceDetect
import Foundation
import Pipeline

/// Loads what every job needs from the flags: the detector and the classifier.
enum Components {
    static func detector(_ flags: PipelineFlags) throws -> FaceDetecting {
        try MTCNN(searching: flags.models, options: try flags.detectorOptions)
    }

    static func classifier(_ flags: PipelineFlags) throws -> EmotionClassifying {
        throw NotBuiltYet(what: "the emotion classifier")
    }

    /// Runs a job and prints its summary on standard error (standard output is for results).
    static func run(_ job: Job, quiet: Bool, label: String) throws {
        let summary = try job.run()
        if !quiet { Reporting.printError(summary.report(label: label)) }
    }
}
