import Capture
import Foundation
import TestSupport
import XCTest
@testable import Classifier

enum Fixtures {
    static let dir = TestPaths.fixture("classifier")
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

    /// The shared folder (nil where there is none).
    static var shared: String? { TestPaths.sharedFolder?.path }

    /// A fresh temporary folder, removed at the end of the test.
    static func tempDir(_ test: XCTestCase) throws -> URL { try TestPaths.temporaryFolder("fer-classifier", removedAfter: test) }

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
