import ArgumentParser
import Capture
import Classifier
import FaceDetect
import Foundation
import Pipeline

/// Loads what every job needs from the flags: the detector and the classifier.
enum Components {
    static func detector(_ flags: PipelineFlags) throws -> FaceDetecting {
        try detectorFactory(flags)()
    }

    /// Loads MTCNN once; each call of the closure gives a detector for one input. With
    /// --detect-every > 1 that is a fresh `KeyframeDetector` (it remembers the faces of earlier
    /// frames) around the one network, so no state passes from one input to the next (the
    /// pipeline also asks for `forNewStream()`; a fresh one here does not depend on that).
    static func detectorFactory(_ flags: PipelineFlags) throws -> () -> FaceDetecting {
        let mtcnn = try flags.detector.makeDetector()
        let interval = flags.detectEvery
        return { interval > 1 ? KeyframeDetector(detector: mtcnn, interval: interval) : mtcnn }
    }

    static func classifier(_ flags: PipelineFlags) throws -> EmotionClassifying {
        try EmotionClassifier(name: flags.model, modelsDirectory: flags.models, flipTTA: flags.flip)
    }

    /// Runs a job and prints its summary on standard error (standard output is for results).
    /// A run stopped by Ctrl-C or SIGTERM still wrote valid outputs, and exits as shells expect
    /// of a process ended by that signal: 128 + the signal (130 for SIGINT, 143 for SIGTERM).
    static func run(_ job: Job, quiet: Bool, label: String) throws {
        let summary = try job.run()
        if !quiet { Reporting.printError(summary.report(label: label)) }
        if summary.stoppedEarly { throw ExitCode(128 + (summary.stopSignal ?? SIGINT)) }
    }
}
