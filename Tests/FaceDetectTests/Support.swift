import Capture
import Foundation
import XCTest
@testable import FaceDetect

enum Fixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let mtcnnDir = repoRoot.appendingPathComponent("Tests/Fixtures/mtcnn")
    static let modelDir = repoRoot.appendingPathComponent("models/mtcnn").path

    /// `FER_SHARED`, else `shared` beside the repository root or any of its parents.
    static var shared: String? {
        if let env = ProcessInfo.processInfo.environment["FER_SHARED"], FileManager.default.fileExists(atPath: env) { return env }
        var dir = repoRoot
        for _ in 0..<4 {
            let candidate = dir.deletingLastPathComponent().appendingPathComponent("shared")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("media").path) { return candidate.path }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    static let detector: MTCNN? = try? MTCNN(modelDirectory: modelDir)

    static func mtcnn() throws -> MTCNN {
        guard let d = detector else { return try MTCNN(modelDirectory: modelDir) }
        return d
    }

    static func rawFrame(_ file: String, width: Int, height: Int) throws -> Frame {
        let data = try Data(contentsOf: mtcnnDir.appendingPathComponent(file))
        XCTAssertEqual(data.count, width * height * 3, file)
        return Frame(index: 0, time: 0, width: width, height: height, pixels: [UInt8](data))
    }

    /// Frames decoded by the ffmpeg command line, as tools/make_mtcnn_fixtures.py does.
    static func ffmpegFrames(_ path: String, frames: [Int]?, width: Int, height: Int) throws -> [Frame] {
        guard let ffmpeg = ["/usr/bin/ffmpeg", "/usr/local/bin/ffmpeg"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("ffmpeg command not installed")
        }
        var args = ["-v", "error", "-i", path]
        if let frames {
            args += ["-vf", "select='" + frames.map { "eq(n\\,\($0))" }.joined(separator: "+") + "'", "-fps_mode", "passthrough"]
        }
        args += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ffmpeg)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let size = width * height * 3
        let bytes = [UInt8](data)
        return stride(from: 0, to: bytes.count - size + 1, by: size).enumerated().map { i, off in
            Frame(index: i, time: 0, width: width, height: height, pixels: Array(bytes[off..<(off + size)]))
        }
    }
}
