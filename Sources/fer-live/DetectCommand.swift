import ArgumentParser
import Capture
import FaceDetect
import Foundation
import NeuralNet
import Parallel
import Pipeline

struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Find faces (MTCNN) in every frame of INPUT; one JSON object per frame.")

    @Argument(help: "A video file, image or URL.")
    var input: String

    @Option(help: "Stop after this many frames.")
    var maxFrames: Int?

    @Option(help: "Where the JSON lines go: a file, or - for standard output.")
    var jsonl: String = "-"

    @Flag(name: [.customShort("y"), .customLong("overwrite")], help: "Replace the JSON lines file if it exists.")
    var overwrite = false

    @OptionGroup var detector: DetectorOptions

    func validate() throws {
        if let maxFrames, maxFrames < 0 { throw ValidationError("--max-frames must not be negative") }
    }

    func run() throws {
        try Reporting.run("detect") {
            try OutputCheck.validate(outputs: [.init(option: "--jsonl", path: jsonl)], inputs: [input], overwrite: overwrite)
            let mtcnn = try detector.makeDetector()
            let source = try Sources.open(input)
            defer { source.close() }
            // Written under a temporary name and moved into place at the end (`TextOutput`).
            let out = try TextOutput(path: jsonl)
            var complete = false
            defer { if !complete { out.discard() } }
            var frames = 0, faces = 0
            // A few frames at a time, one per core (the same faces as one by one, in order).
            let group = 2 * Threads.cores
            var done = false
            while !done {
                var batch: [Frame] = []
                while batch.count < group, maxFrames.map({ frames + batch.count < $0 }) ?? true {
                    guard let frame = try source.nextFrame() else { done = true; break }
                    batch.append(frame)
                }
                if batch.isEmpty { break }
                for (frame, found) in zip(batch, try mtcnn.detect(in: batch)) {
                    out.append(DetectionJSON.line(frame: frame.index, time: frame.time, faces: found))
                    frames += 1
                    faces += found.count
                }
                try out.flush()
            }
            if frames == 0 { throw PipelineError.noFrames(source: input) }
            try out.close()
            complete = true
            Reporting.printError("fer-live detect: \(frames) frames, \(faces) faces")
        }
    }
}
