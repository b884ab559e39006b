import ArgumentParser
import Capture
import FaceDetect
import Foundation
import NeuralNet

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

    @OptionGroup var detector: DetectorOptions

    func validate() throws {
        if let maxFrames, maxFrames < 0 { throw ValidationError("--max-frames must not be negative") }
    }

    func run() throws {
        try Reporting.run("detect") {
            let mtcnn = try detector.makeDetector()
            let source = try FrameInput.open(input)
            defer { source.close() }
            let out: FileHandle
            if jsonl == "-" {
                out = FileHandle.standardOutput
            } else {
                guard FileManager.default.createFile(atPath: jsonl, contents: nil),
                      let h = FileHandle(forWritingAtPath: jsonl) else {
                    throw DetectFailure(what: "\(jsonl): cannot create the JSON lines file")
                }
                out = h
            }
            defer { if jsonl != "-" { try? out.close() } }
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
                    out.write(Data((DetectionJSON.line(frame: frame.index, time: frame.time, faces: found) + "\n").utf8))
                    frames += 1
                    faces += found.count
                }
            }
            Reporting.printError("fer-live detect: \(frames) frames, \(faces) faces")
        }
    }
}

struct DetectFailure: Error, CustomStringConvertible {
    let what: String
    var description: String { what }
}
