import Foundation
import FaceDetect
import NeuralNet
import XCTest
@testable import Classifier

/// Broken, mismatched and odd model files fail with one-line errors naming the file and the
/// layer or tensor.
final class ModelLoadingTests: XCTestCase {
    /// A copy of the tiny model in a temp folder, with the JSON edited by `edit` and the weights
    /// replaced by `weights` when given.
    private func variant(_ edit: (inout [String: Any]) -> Void = { _ in },
                         weights: ((inout [String: Tensor]) -> Void)? = nil) throws -> String {
        let dir = try Fixtures.tempDir(self)
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Fixtures.tinyPath + ".json"))) as! [String: Any]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: dir.appendingPathComponent("tiny.json"))
        let dst = dir.appendingPathComponent("tiny.safetensors").path
        if let weights {
            let f = try SafeTensorsFile(path: Fixtures.tinyPath + ".safetensors")
            var t: [String: Tensor] = [:]
            for n in f.names { t[n] = try f.tensor(n) }
            weights(&t)
            try SafeTensorsFile.write(t, to: dst)
        } else {
            try FileManager.default.copyItem(atPath: Fixtures.tinyPath + ".safetensors", toPath: dst)
        }
        return dir.appendingPathComponent("tiny").path
    }

    private func layers(_ json: inout [String: Any], _ body: (inout [[String: Any]]) -> Void) {
        var l = json["layers"] as! [[String: Any]]
        body(&l)
        json["layers"] = l
    }

    private func expectError(_ path: String, contains parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ClassifierModel(path: path), file: file, line: line) { error in
            XCTAssertTrue(error is ClassifierError, "\(error)", file: file, line: line)
            let text = String(describing: error)
            XCTAssertFalse(text.contains("\n"), text, file: file, line: line)
            for p in parts { XCTAssertTrue(text.contains(p), "'\(p)' not in: \(text)", file: file, line: line) }
        }
    }

    func testTinyLoadsAndFusesActivations() throws {
        let m = try Fixtures.tiny()
        XCTAssertEqual(m.labels, ["angry", "fear", "happy", "sad", "neutral"])
        XCTAssertEqual(m.inputShape, [1, 48, 48])
        XCTAssertEqual(m.preprocessing, Preprocessing(scale: 1.0 / 255, mean: 0.5, std: 0.25))
        // 18 layers; prelu0, relu0, relu1, prelu1 (after convolutions) and relu3 (after linear0)
        // fold into their producers. relu2 follows the residual add and stays.
        XCTAssertEqual(m.stepCount, 13)
    }

    func testWrongTensorShapeNamesFileAndTensor() throws {
        let path = try variant(weights: { t in t["conv1.weight"] = Tensor(shape: [12, 8, 3, 3], repeating: 0) })
        expectError(path, contains: ["tiny.safetensors", "conv1.weight", "[12, 8, 3, 3]", "[12, 8, 3, 5]"])
    }

    func testMissingTensor() throws {
        let path = try variant(weights: { t in t["linear1.bias"] = nil })
        expectError(path, contains: ["tiny.safetensors", "linear1.bias", "missing"])
    }

    func testUnusedTensorIsRejected() throws {
        let path = try variant(weights: { t in t["stray.weight"] = Tensor(shape: [3], repeating: 1) })
        expectError(path, contains: ["stray.weight", "no layer"])
    }

    func testJSONThatDoesNotFitTheWeights() throws {
        // The architecture says 10 output channels; the file has 12.
        let path = try variant { j in self.layers(&j) { l in l[2]["out_channels"] = 10; l[2]["output_shape"] = [10, 24, 24] } }
        expectError(path, contains: ["conv1.weight", "conv1"])
    }

    func testUnknownOpNamesLayer() throws {
        let path = try variant { j in self.layers(&j) { l in l[4]["op"] = "avgpool" } }
        expectError(path, contains: ["tiny.json", "maxpool0", "unknown op 'avgpool'"])
    }

    func testMissingFieldNamesLayerAndField() throws {
        let path = try variant { j in self.layers(&j) { l in l[0]["stride"] = nil } }
        expectError(path, contains: ["tiny.json", "conv0", "stride"])
    }

    func testDeclaredShapeMismatch() throws {
        let path = try variant { j in self.layers(&j) { l in l[4]["output_shape"] = [12, 11, 11] } }
        expectError(path, contains: ["maxpool0", "[12, 11, 11]", "[12, 12, 12]"])
    }

    func testUnknownInputName() throws {
        let path = try variant { j in self.layers(&j) { l in l[8]["inputs"] = ["relu2", "conv3"] } }
        expectError(path, contains: ["add0", "relu2"])
    }

    func testUnknownLabelAndFormat() throws {
        expectError(try variant { j in j["labels"] = ["angry", "fear", "joy", "sad", "neutral"] }, contains: ["joy"])
        expectError(try variant { j in j["format"] = "onnx" }, contains: ["format 'onnx'"])
        expectError(try variant { j in j["format_version"] = 2 }, contains: ["format_version 2 is newer", "tiny.json"])
        expectError(try variant { j in j.removeValue(forKey: "format_version") }, contains: ["format_version"])
        expectError(try variant { j in j["labels"] = ["angry", "fear", "happy", "sad"] }, contains: ["[5]", "4 labels"])
    }

    func testTruncatedAndMissingFiles() throws {
        let path = try variant()
        let st = path + ".safetensors"
        let data = try Data(contentsOf: URL(fileURLWithPath: st))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: st))
        expectError(path, contains: ["tiny.safetensors"])
        try "{ not json".write(toFile: path + ".json", atomically: true, encoding: .utf8)
        expectError(path, contains: ["tiny.json", "not valid JSON"])
        expectError("/nonexistent/model", contains: ["/nonexistent/model.json"])
    }

    func testWrongInputShapeAtRuntime() throws {
        let m = try Fixtures.tiny()
        XCTAssertThrowsError(try m.forward(Tensor(shape: [2, 1, 40, 48])))
    }
}

final class LabelAndLocatorTests: XCTestCase {
    func testSubsetAndMergedLabelsMapOntoSevenEmotions() throws {
        let map = try LabelMapping(labels: ["angry", "fear", "happy", "sad", "neutral"])
        XCTAssertEqual(map.emotionIndex, [0, 2, 3, 4, 6])
        let s = map.scores([0.1, 0.2, 0.3, 0.15, 0.25])
        XCTAssertEqual(s.probabilities, [0.1, 0, 0.2, 0.3, 0.15, 0, 0.25])
        XCTAssertEqual(s.top, .happy)
        // Order of the model's outputs need not be FER's.
        let r = try LabelMapping(labels: ["neutral", "happy"]).scores([0.7, 0.3])
        XCTAssertEqual(r.probabilities, [0, 0, 0, 0.3, 0, 0, 0.7])
        XCTAssertThrowsError(try LabelMapping(labels: ["happy", "contempt"]))
        XCTAssertThrowsError(try LabelMapping(labels: ["happy", "happy"]))
    }

    func testLocatorUsesDefaultTxtThenFernet() throws {
        let root = try Fixtures.tempDir(self)
        let emotion = root.appendingPathComponent("emotion")
        try FileManager.default.createDirectory(at: emotion, withIntermediateDirectories: true)
        // The JSON names its weights file (tiny.safetensors), whatever the JSON is called.
        try FileManager.default.copyItem(atPath: Fixtures.tinyPath + ".json", toPath: emotion.appendingPathComponent("small.json").path)
        try FileManager.default.copyItem(atPath: Fixtures.tinyPath + ".safetensors", toPath: emotion.appendingPathComponent("tiny.safetensors").path)
        // No default.txt and no fernet: not found, and the message lists where it looked.
        XCTAssertThrowsError(try EmotionClassifier.locate(name: nil, modelsDirectory: root.path, environment: [:])) { e in
            XCTAssertTrue("\(e)".contains("fernet"), "\(e)")
            XCTAssertTrue("\(e)".contains(root.path), "\(e)")
        }
        try "small\n".write(to: emotion.appendingPathComponent("default.txt"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try EmotionClassifier.locate(name: nil, modelsDirectory: root.path, environment: [:]),
                       emotion.appendingPathComponent("small").path)
        XCTAssertEqual(try EmotionClassifier.locate(name: "small", modelsDirectory: nil, environment: ["FER_LIVE_MODELS": root.path]),
                       emotion.appendingPathComponent("small").path)
        let c = try EmotionClassifier(name: "small", modelsDirectory: root.path)
        XCTAssertEqual(c.model.labels.count, 5)
        XCTAssertThrowsError(try EmotionClassifier.locate(name: "absent", modelsDirectory: root.path, environment: [:])) { e in
            XCTAssertTrue("\(e)".contains("models there are: small"), "an unknown name lists the models: \(e)")
        }
        // A path works as well as a name.
        XCTAssertEqual(try EmotionClassifier.locate(name: emotion.appendingPathComponent("small.json").path, modelsDirectory: nil),
                       emotion.appendingPathComponent("small").path)
    }

    func testFaceInMissingFrameIsAnError() throws {
        let c = try EmotionClassifier(model: Fixtures.tiny())
        XCTAssertThrowsError(try c.classify([(frame: 1, face: .init(box: .init(x: 0, y: 0, width: 10, height: 10), score: 1, landmarks: []))],
                                            in: [Fixtures.frame(width: 20, height: 20) { _, _ in (0, 0, 0) }]))
        XCTAssertEqual(try c.classify([], in: []), [])
    }
}
