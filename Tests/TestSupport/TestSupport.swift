import Capture
import Foundation
import NeuralNet
import XCTest

/// What every test target needs: where the repository, its fixtures and models, and the shared
/// data are; fresh temporary folders; frames decoded by the ffmpeg command line; warnings
/// collected; float arrays compared.
public enum TestPaths {
    /// The repository root (this file is Tests/TestSupport/TestSupport.swift).
    public static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Tests/Fixtures/NAME`.
    public static func fixture(_ name: String) -> URL {
        repoRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(name)
    }

    /// `models/NAME` (the shipped models).
    public static func model(_ name: String) -> URL { repoRoot.appendingPathComponent("models").appendingPathComponent(name) }

    /// The shared data: `FER_SHARED`, else a `shared` folder beside the repository root or
    /// beside one of its parents. Nil in a user's clone, which has none.
    public static var sharedFolder: URL? {
        let files = FileManager.default
        if let explicit = ProcessInfo.processInfo.environment["FER_SHARED"] {
            return files.fileExists(atPath: explicit) ? URL(fileURLWithPath: explicit) : nil
        }
        var folder = repoRoot
        while folder.path != "/" {
            let candidate = folder.deletingLastPathComponent().appendingPathComponent("shared")
            if files.fileExists(atPath: candidate.appendingPathComponent("media").path)
                || files.fileExists(atPath: candidate.appendingPathComponent("data").path) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return nil
    }

    /// A file under the shared folder (`media/woman2.mp4`), or a skip saying it is absent.
    public static func shared(_ relativePath: String) throws -> String {
        guard let path = sharedFolder?.appendingPathComponent(relativePath).path,
              FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("shared file \(relativePath) not found (set FER_SHARED or put shared/ beside the repository)")
        }
        return path
    }

    /// A fresh folder under the system's temporary folder; removed when `test` ends if given.
    public static func temporaryFolder(_ prefix: String, removedAfter test: XCTestCase? = nil) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test?.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}

/// The ffmpeg command line, the reference decoder of several tests.
public enum FFmpegCommand {
    public static var path: String? {
        ["/usr/bin/ffmpeg", "/usr/local/bin/ffmpeg"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `executable` with `arguments`: its standard output and exit status (standard error
    /// discarded).
    public static func run(_ executable: String, _ arguments: [String]) throws -> (output: Data, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (data, process.terminationStatus)
    }

    /// RGB24 frames of `input` as the ffmpeg command line decodes them (all, or those numbered
    /// in `frames`), at `width` x `height`; a skip when ffmpeg is not installed. The stream's own
    /// frames (`-fps_mode passthrough`): by default the rawvideo output is constant-rate, and a
    /// stream starting after time 0 would begin with copies of its first frame.
    public static func frames(_ input: String, frames: [Int]? = nil, width: Int, height: Int) throws -> [Frame] {
        guard let ffmpeg = path else { throw XCTSkip("ffmpeg command not installed") }
        var args = ["-v", "error", "-i", input]
        if let frames {
            args += ["-vf", "select='" + frames.map { "eq(n\\,\($0))" }.joined(separator: "+") + "'"]
        }
        args += ["-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
        let data = try run(ffmpeg, args).output
        let size = width * height * 3
        let bytes = [UInt8](data)
        return stride(from: 0, to: bytes.count - size + 1, by: size).enumerated().map { i, offset in
            Frame(index: i, time: 0, width: width, height: height, pixels: Array(bytes[offset..<(offset + size)]))
        }
    }
}

/// Collects warnings from a source, writer or pipeline.
public final class WarningLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    public init() {}
    public var messages: [String] { lock.lock(); defer { lock.unlock() }; return stored }
    public var handler: WarningHandler {
        { [self] message in lock.lock(); stored.append(message); lock.unlock() }
    }
}

/// Element-wise comparison of two float arrays within `tolerance`.
public func assertClose(_ a: [Float], _ b: [Float], tolerance: Float, _ message: String,
                        file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, message, file: file, line: line)
    let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    XCTAssertLessThanOrEqual(worst, tolerance, "\(message): \(a) vs \(b)", file: file, line: line)
}

/// SHA-256 of a file by the coreutils tool (Foundation on Linux has no digest API); nil when the
/// tool is missing.
public func sha256(ofFile path: String) -> String? {
    guard let tool = ["/usr/bin/sha256sum", "/bin/sha256sum"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = [path]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return nil }
    let out = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: out, as: UTF8.self).split(separator: " ").first.map(String.init)
}

/// A small deterministic generator so tests do not depend on the platform's random source.
public struct LCG {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
    }
    public mutating func tensor(_ shape: [Int]) -> Tensor {
        let n = shape.reduce(1, *)
        return (try? Tensor(shape: shape, storage: (0..<n).map { _ in next() })) ?? Tensor(shape: shape)
    }
}
