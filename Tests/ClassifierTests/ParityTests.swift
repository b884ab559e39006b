import Foundation
import Capture
import CoreTypes
import FaceDetect
import NeuralNet
import TestSupport
import XCTest
@testable import Classifier

/// Swift probabilities against PyTorch's (tools/make_classifier_fixtures.py) on fixed inputs.
final class ParityTests: XCTestCase {
    /// The model in its seven-emotion form: model labels mapped onto FER2013 order.
    private func sevenWay(_ p: [Float], labels: [String]) -> [Float] {
        var out = [Float](repeating: 0, count: 7)
        for (i, l) in labels.enumerated() { out[Emotion(name: l)!.rawValue] = p[i] }
        return out
    }

    private func check(model: ClassifierModel, expected: Fixtures.Expected) throws {
        let inputs = try Fixtures.inputs()
        XCTAssertEqual(inputs.map(\.name), expected.cases.map(\.name))
        XCTAssertEqual(model.labels, expected.labels)
        let gray = inputs.flatMap(\.pixels)
        for flip in [false, true] {
            let c = try EmotionClassifier(model: model, flipTTA: flip, maxBatch: 5)   // several batches
            let scores = try c.classify(gray: gray, count: inputs.count)
            XCTAssertEqual(scores.count, inputs.count)
            for (s, e) in zip(scores, expected.cases) {
                let want = sevenWay(flip ? e.probabilities_flip : e.probabilities, labels: expected.labels)
                assertClose(s.probabilities, want, tolerance: 1e-4, "\(model.name) \(e.name) flip=\(flip)")
            }
        }
    }

    func testTinyNetworkMatchesPyTorch() throws {
        let model = try Fixtures.tiny()
        XCTAssertFalse(model.runsChannelsLast, "tiny has strided convolutions and a residual add: layer-by-layer path")
        try check(model: model, expected: Fixtures.expected("tiny"))
    }

    /// An exported model in models/emotion against its fixture expected_NAME.json.
    private func checkExported(_ name: String) throws {
        let expected = try Fixtures.expected(name)
        let path = expected.model.hasPrefix("/") ? expected.model : TestPaths.repoRoot.appendingPathComponent(expected.model).path
        guard FileManager.default.fileExists(atPath: path + ".json") else {
            throw XCTSkip("\(expected.model).json is not there; export it, then rerun tools/make_classifier_fixtures.py --checkpoint ... --model \(expected.model)")
        }
        let model = try ClassifierModel(path: path)
        if let sha = sha256(ofFile: model.weightsPath), sha != expected.weights_sha256 {
            XCTFail("\(model.weightsPath) is not the file expected_\(name).json was made for (sha256 \(sha.prefix(12)) vs \(expected.weights_sha256.prefix(12))): rerun tools/make_classifier_fixtures.py --checkpoint CHECKPOINT --model \(expected.model)")
            return
        }
        // Plain conv/pool chains run channels-last; the parity above is then that path's, and
        // the layer-by-layer path must agree with it on the same inputs.
        XCTAssertTrue(model.runsChannelsLast, "\(name) should compile channels-last")
        try check(model: model, expected: expected)
        let inputs = try Fixtures.inputs()
        let m = model.preprocessing.multiplier, o = model.preprocessing.offset
        let x = try Tensor(shape: [inputs.count, 1, 48, 48], storage: inputs.flatMap(\.pixels).map { Float($0) * m + o })
        let a = try model.forward(x), b = try model.forwardSteps(x)
        XCTAssertEqual(a.shape, b.shape)
        for (u, v) in zip(a.storage, b.storage) where abs(u - v) > 1e-5 {
            XCTFail("\(name): channels-last \(u) vs layer by layer \(v)"); break
        }
    }

    func testShippedModelMatchesPyTorch() throws { try checkExported("fernet") }

    /// The default model (emotion/default.txt) against its own checkpoint's PyTorch outputs.
    func testDefaultModelMatchesPyTorch() throws { try checkExported("fernet_long") }

    /// The tutorials' small CNN (no batch norm, a dense head on a flattened map).
    func testSmallCNNMatchesPyTorch() throws { try checkExported("cnn_small") }

    /// The crop path end to end: a frame holding an input image at twice its size, and a face box
    /// that maps that frame onto the 48x48 crop, gives the input back exactly (2x2 area
    /// averaging of pixel-doubled content), so the probabilities are PyTorch's.
    func testCroppedFacesMatchPyTorch() throws {
        let model = try Fixtures.tiny()
        let expected = try Fixtures.expected("tiny")
        let inputs = try Fixtures.inputs()
        let g = FaceGeometry.fer2013
        var frames: [Frame] = []
        var faces: [(frame: Int, face: Face)] = []
        for (i, input) in inputs.enumerated() {
            frames.append(Fixtures.frame(width: 96, height: 96) { x, y in
                let v = input.pixels[(y / 2) * 48 + x / 2]
                return (v, v, v)
            })
            let box = Box(x: 2 * g.box.x, y: 2 * g.box.y, width: 2 * g.box.width, height: 2 * g.box.height)
            faces.append((i, Face(box: box, score: 1, landmarks: [])))
        }
        let scores = try EmotionClassifier(model: model).classify(faces.reversed(), in: frames)
        for (s, e) in zip(scores, expected.cases.reversed()) {
            assertClose(s.probabilities, sevenWay(e.probabilities, labels: expected.labels), tolerance: 1e-4, e.name)
        }
    }
}
