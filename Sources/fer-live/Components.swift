import ArgumentParser
import Capture
import Classifier
import FaceDetect
import Foundation
import LiveView
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
    /// With `--serve`, the page is up for the run (and after it, with `--serve-keep`).
    static func run(_ job: Job, quiet: Bool, label: String, serve: ServeFlags) throws {
        guard let address = try serve.address() else {
            try finish(try job.run(), quiet: quiet, label: label)
            return
        }
        var job = job
        let facts = SourceFacts(info: job.source.info, kind: job.options.mode == .live ? .live : .file,
                                maxFrames: job.options.maxFrames)
        let server = try LiveServer(address: address, facts: facts, overlay: job.outputs.overlay)
        defer { server.stop() }
        if server.address.isAllInterfaces {
            Reporting.warn("--serve \(server.address) listens on every interface: anyone who can reach this machine can watch")
        } else if !server.address.isLoopback {
            Reporting.warn("--serve \(server.address) is reachable from that network, not only from this machine")
        }
        Reporting.printError("serving \(server.url)")
        let sink = server.makeSink()
        job.extraSinks.append(sink)
        job.onProgress = { sink.progressed($0) }
        let summary = try job.run()
        if serve.keep && !summary.stoppedEarly {
            if !quiet { Reporting.printError(summary.report(label: label)) }
            Reporting.printError("run ended; the page stays up at \(server.url) until Ctrl-C")
            waitForInterrupt()
            return
        }
        try finish(summary, quiet: quiet, label: label)
    }

    private static func finish(_ summary: PipelineSummary, quiet: Bool, label: String) throws {
        if !quiet { Reporting.printError(summary.report(label: label)) }
        if summary.stoppedEarly { throw ExitCode(128 + (summary.stopSignal ?? SIGINT)) }
    }

    /// Blocks until SIGINT or SIGTERM. Not a second `SignalWatcher`: libdispatch installs its
    /// signal handler once per process, so after the job's watcher restored the default action
    /// a new watcher's SIG_IGN would swallow the signal. A plain handler posting a semaphore
    /// (async-signal-safe) does it.
    private static func waitForInterrupt() {
        sem_init(interrupted, 0, 0)
        let handler: @convention(c) (Int32) -> Void = { _ in sem_post(interrupted) }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        while sem_wait(interrupted) != 0 && errno == EINTR {}
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

/// Posted by the signal handler of `Components.waitForInterrupt`. A pointer, not a Swift
/// variable, so the handler's access does not overlap the waiting one in Swift's eyes.
nonisolated(unsafe) private let interrupted: UnsafeMutablePointer<sem_t> = .allocate(capacity: 1)
