import Capture
import Foundation
import TestSupport
import XCTest

/// Runs the built `fer-live` executable and makes the inputs the end-to-end tests need.
enum EndToEnd {
    static var repoRoot: URL { TestPaths.repoRoot }

    /// `fer-live` beside the test bundle (swift build --build-tests builds both).
    static var executable: URL {
        get throws {
            let candidates = [
                Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("fer-live"),
                Bundle.main.bundleURL.appendingPathComponent("fer-live"),
                URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("fer-live"),
            ]
            guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
                throw XCTSkip("fer-live executable not found beside the tests (run `swift build --build-tests` first)")
            }
            return found
        }
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// `environment` is added to this process's environment (for the shard variables).
    static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = try executable
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return (process, out, err)
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let (process, out, err) = try start(arguments, environment: environment)
        // Read both pipes while it runs so a chatty process cannot block on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var stdoutData = Data(), stderrData = Data()
        DispatchQueue.global().async(group: group) { stdoutData = out.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { stderrData = err.fileHandleForReading.readDataToEndOfFile() }
        process.waitUntilExit()
        group.wait()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                      stderr: String(decoding: stderrData, as: UTF8.self))
    }

    /// Starts `annotate` with the full detector on every frame (the slowest path, so the run is
    /// still going), waits until the CSV being written holds some rows, sends SIGINT, and returns
    /// the exit status.
    static func annotateAndInterrupt(_ arguments: [String], csv: String, signal: Int32 = SIGINT) throws -> Int32 {
        let (process, _, err) = try start(["annotate"] + arguments + ["--csv", csv, "--quiet", "--detect-every", "1"])
        waitForStagedRows(csv, moreThan: 10, while: process)
        XCTAssertTrue(process.isRunning, "run ended before it could be interrupted: make the input longer")
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        _ = err.fileHandleForReading.readDataToEndOfFile()
        return process.terminationStatus
    }

    /// Waits (60 s at most, and only while `process` runs) until the CSV being written to `csv`
    /// holds more than `rows` lines: while a run goes on, it is under its temporary name beside
    /// `csv` (`.STEM.PID.part.csv`, Pipeline's `OutputFile`).
    static func waitForStagedRows(_ csv: String, moreThan rows: Int, while process: Process) {
        let folder = (csv as NSString).deletingLastPathComponent
        let stem = ((csv as NSString).lastPathComponent as NSString).deletingPathExtension
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, process.isRunning {
            let partial = (try? FileManager.default.contentsOfDirectory(atPath: folder))?
                .first { $0.hasPrefix(".\(stem).") && $0.hasSuffix(".part.csv") }
            if let partial, let text = try? String(contentsOfFile: (folder as NSString).appendingPathComponent(partial), encoding: .utf8),
               text.split(separator: "\n").count > rows { return }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    static func temporaryFolder() throws -> URL { try TestPaths.temporaryFolder("fer-e2e") }

    /// The public-domain astronaut picture panned across `frames` frames of 360x300 at 25 fps:
    /// one face, always in view, moving a pixel or two per frame.
    static func makeSample(at path: String, frames: Int = 40) throws {
        let picture = try VideoFileSource(path: repoRoot.appendingPathComponent("Tests/Fixtures/astronaut.png").path)
        defer { picture.close() }
        guard let image = try picture.nextFrame() else { throw XCTSkip("astronaut.png did not decode") }
        let (w, h) = (360, 300)
        let writer = try VideoWriter(path: path, width: w, height: h, frameRateNumerator: 25, frameRateDenominator: 1)
        for i in 0..<frames {
            let ox = 40 + (i * 2) % 80, oy = 10 + i % 20
            var pixels = [UInt8](repeating: 0, count: w * h * 3)
            for y in 0..<h {
                let src = (oy + y) * image.stride + ox * 3
                pixels.replaceSubrange((y * w * 3)..<((y + 1) * w * 3), with: image.pixels[src..<(src + w * 3)])
            }
            try writer.write(Frame(index: i, time: Double(i) / 25, width: w, height: h, pixels: pixels))
        }
        try writer.close()
    }

    static func sharedMedia(_ name: String) throws -> String { try TestPaths.shared("media/\(name)") }

    /// The CSV's rows as columns, header first.
    static func readCSV(_ path: String) throws -> [[String]] {
        try String(contentsOfFile: path, encoding: .utf8)
            .split(separator: "\n")
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    static func decodeAll(_ path: String) throws -> (SourceInfo, Int) {
        let source = try VideoFileSource(path: path)
        defer { source.close() }
        var n = 0
        while try source.nextFrame() != nil { n += 1 }
        return (source.info, n)
    }

    static let header = "frame,time_s,face_id,x,y,width,height,score,angry,disgust,fear,happy,sad,surprise,neutral,emotion"
}
