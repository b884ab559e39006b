import Classifier
import Foundation
import NeuralNet

/// One function per parser of untrusted bytes, each taking the bytes a fuzzer (or a regression
/// test replaying a saved input) hands it. A harness passes when the parser returns or throws;
/// a crash, a trap, a hang or a sanitizer report is the finding. Parse errors are expected and
/// ignored: the fuzzer's inputs are almost all invalid. Each returns whether the bytes were
/// accepted, so that the regression tests can check the seeds still get past the parser's front.
public enum FuzzHarnesses {
    /// The safetensors header (length, JSON table) and every tensor it lists, read as floats.
    @discardableResult
    public static func safeTensors(_ bytes: Data) -> Bool {
        guard let file = try? SafeTensorsFile(data: bytes, path: "fuzz.safetensors") else { return false }
        var all = true
        for name in file.names where (try? file.tensor(name)) == nil { all = false }
        return all
    }

    /// A classifier model's JSON graph, built against the real weights of the test model
    /// (`Tests/Fixtures/classifier/tiny.safetensors`, copied once into a temporary folder), and
    /// run on one face when it loads.
    @discardableResult
    public static func modelJSON(_ bytes: Data) -> Bool {
        guard let folder = ModelFolder.shared else { return false }
        guard let model = try? ClassifierModel(json: bytes, jsonPath: folder.jsonPath) else { return false }
        // One input of the declared shape, when it is small enough to run in a moment.
        let shape = [1] + model.inputShape
        let count = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
        guard model.inputShape.allSatisfy({ $0 > 0 }), count <= 1 << 16,
              let input = try? Tensor(shape: shape, storage: [Float](repeating: 0.5, count: count)) else { return true }
        return (try? model.forward(input)) != nil
    }

    /// The FER2013 CSV reader over a file holding the bytes (it streams from a path).
    @discardableResult
    public static func ferCSV(_ bytes: Data) -> Bool {
        // gzip's magic makes the reader start `gzip -dc`: that is gzip's parser, not ours, and a
        // process per input would slow the fuzzer a hundredfold.
        if bytes.count >= 2, bytes[bytes.startIndex] == 0x1F, bytes[bytes.startIndex + 1] == 0x8B { return false }
        guard let path = ScratchFile.shared?.write(bytes) else { return false }
        let lenient = try? FER2013CSV(path: path, options: .init(maxWarnings: 0)).forEachRow { _ in }
        _ = try? FER2013CSV(path: path, options: .init(strict: true)).forEachRow { _ in }
        return (lenient?.accepted ?? 0) > 0
    }
}

/// A temporary folder with the test model's weights, where fuzzed JSON graphs are loaded.
private final class ModelFolder: Sendable {
    static let shared: ModelFolder? = ModelFolder()
    let jsonPath: String

    private init?() {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Tests/Fixtures/classifier/tiny.safetensors")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fer-fuzz-model-\(getpid())")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let target = folder.appendingPathComponent("tiny.safetensors")
            if !FileManager.default.fileExists(atPath: target.path) { try FileManager.default.copyItem(at: fixture, to: target) }
        } catch {
            return nil
        }
        jsonPath = folder.appendingPathComponent("tiny.json").path
    }
}

/// One file, rewritten with each input.
private final class ScratchFile: Sendable {
    static let shared: ScratchFile? = ScratchFile()
    let path: String

    private init?() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("fer-fuzz-\(getpid()).csv").path
    }

    func write(_ bytes: Data) -> String? {
        (try? bytes.write(to: URL(fileURLWithPath: path))) == nil ? nil : path
    }
}
