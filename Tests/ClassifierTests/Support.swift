import Capture
import Foundation
import XCTest
@testable import Classifier

enum Fixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let dir = repoRoot.appendingPathComponent("Tests/Fixtures/classifier")
    static var tinyPath: String { dir.appendingPathComponent("tiny").path }

    struct Input: Decodable { let name: String; let pixels: [UInt8] }
    struct Inputs: Decodable { let inputs: [Input] }
    struct Case: Decodable { let name: String; let probabilities: [Float]; let probabilities_flip: [Float] }
    struct Expected: Decodable {
        let model: String
        let weights_sha256: String
        let labels: [String]
        let cases: [Case]
    }

    static func inputs() throws -> [Input] {
        try JSONDecoder().decode(Inputs.self, from: Data(contentsOf: dir.appendingPathComponent("inputs.json"))).inputs
    }

    static func expected(_ name: String) throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: dir.appendingPathComponent("expected_\(name).json")))
    }

    static func tiny() throws -> ClassifierModel { try ClassifierModel(path: tinyPath) }

    /// `FER_SHARED`, else `shared` beside the repository root or one of its parents.
    static var shared: String? {
        if let env = ProcessInfo.processInfo.environment["FER_SHARED"], FileManager.default.fileExists(atPath: env) { return env }
        var dir = repoRoot
        for _ in 0..<4 {
            let candidate = dir.deletingLastPathComponent().appendingPathComponent("shared")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("data").path) { return candidate.path }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    /// A fresh temporary folder, removed at the end of the test.
    static func tempDir(_ test: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fer-classifier-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// A frame whose pixels come from `value(x, y) -> (r, g, b)`.
    static func frame(width: Int, height: Int, _ value: (Int, Int) -> (UInt8, UInt8, UInt8)) -> Frame {
        var px = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let (r, g, b) = value(x, y)
                px[(y * width + x) * 3] = r; px[(y * width + x) * 3 + 1] = g; px[(y * width + x) * 3 + 2] = b
            }
        }
        return Frame(index: 0, time: 0, width: width, height: height, pixels: px)
    }
}

func assertClose(_ a: [Float], _ b: [Float], tolerance: Float, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, message, file: file, line: line)
    let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    XCTAssertLessThanOrEqual(worst, tolerance, "\(message): \(a) vs \(b)", file: file, line: line)
}

/// SHA-256 of a file by the coreutils tool (Foundation on Linux has no digest API); nil when the
/// tool is missing.
func sha256(ofFile path: String) -> String? {
    guard let tool = ["/usr/bin/sha256sum", "/bin/sha256sum"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tool)
    p.arguments = [path]
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return nil }
    let out = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: out, as: UTF8.self).split(separator: " ").first.map(String.init)
}
