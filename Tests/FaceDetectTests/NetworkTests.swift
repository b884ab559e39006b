import Foundation
import XCTest
@testable import FaceDetect
@testable import NeuralNet
import Capture
import TestSupport

/// Raw network outputs against PyTorch's on the same inputs (tools/make_mtcnn_fixtures.py).
final class NetworkTests: XCTestCase {
    var nets: SafeTensorsFile!

    override func setUpWithError() throws {
        nets = try SafeTensorsFile(path: Fixtures.mtcnnDir.appendingPathComponent("nets.safetensors").path)
    }

    func assertClose(_ ours: [Float], _ ref: Tensor, tol: Float = 1e-4, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(ours.count, ref.count, what, file: file, line: line)
        guard ours.count == ref.count else { return }
        var worst: Float = 0
        for i in 0..<ours.count { worst = max(worst, abs(ours[i] - ref.storage[i])) }
        if ProcessInfo.processInfo.environment["FER_SHOW_WORST"] != nil { print("WORST \(what): \(worst)") }
        XCTAssertLessThanOrEqual(worst, tol, "\(what): max abs difference", file: file, line: line)
    }

    /// Column `range` of an `[N, C]` output.
    func columns(_ t: [Float], n: Int, c: Int, _ range: Range<Int>) -> [Float] {
        (0..<n).flatMap { i in range.map { t[i * c + $0] } }
    }

    func testPNetMatchesPyTorch() throws {
        let pnet = try PNet(path: Fixtures.modelDir + "/pnet.safetensors")
        let y = try pnet.forward(nets.tensor("pnet.in"))
        let ref = try nets.tensor("pnet.prob")
        XCTAssertEqual(Array(y.shape[2...]), Array(ref.shape[2...]))
        let plane = y.shape[2] * y.shape[3]
        assertClose(Array(y.storage[0..<(2 * plane)]), ref, "P-Net probabilities")
        assertClose(Array(y.storage[(2 * plane)...]), try nets.tensor("pnet.reg"), "P-Net regression")
        XCTAssertGreaterThan(ref.storage[plane...].max() ?? 0, 0.9, "fixture has a face cell")

        // The allocation-free path used by the detector gives the same map.
        let x = try nets.tensor("pnet.in")
        // The input as rows 5 to 5 + rows of a taller image (as P-Net reads a pyramid pass's
        // rows): channel planes rows + 8 rows apart, the rows around it garbage.
        let scratch = PNetScratch(), buffer = ScratchBuffer()
        let rows = x.shape[2], cols = x.shape[3], planeRows = rows + 8
        let input = buffer.reserve(3 * planeRows * cols)
        for i in 0..<(3 * planeRows * cols) { input[i] = .nan }
        for c in 0..<3 { for i in 0..<(rows * cols) { input[(c * planeRows + 5) * cols + i] = x.storage[c * rows * cols + i] } }
        let (mh, mw) = pnet.forwardInPlace(scratch, input: input + 5 * cols, planeRows: planeRows, rows: rows, cols: cols)
        XCTAssertEqual([mh, mw], Array(ref.shape[2...]))
        let probs = (0..<plane).map { faceProbability(scratch.head[$0], scratch.head[plane + $0]) }
        assertClose(probs, try Tensor(shape: [plane], storage: Array(ref.storage[plane...])), "in-place P-Net face probability")
        assertClose(((2 * plane)..<(6 * plane)).map { scratch.head[$0] }, try nets.tensor("pnet.reg"), "in-place P-Net regression")
    }

    func testRNetMatchesPyTorch() throws {
        let rnet = try RNet(path: Fixtures.modelDir + "/rnet.safetensors")
        let x = try nets.tensor("rnet.in")
        let y = try rnet.forward(x).storage
        let n = x.shape[0]
        assertClose(columns(y, n: n, c: 6, 0..<2), try nets.tensor("rnet.prob"), "R-Net probabilities")
        assertClose(columns(y, n: n, c: 6, 2..<6), try nets.tensor("rnet.reg"), "R-Net regression")
    }

    func testONetMatchesPyTorch() throws {
        let onet = try ONet(path: Fixtures.modelDir + "/onet.safetensors")
        let x = try nets.tensor("onet.in")
        let y = try onet.forward(x).storage
        let n = x.shape[0]
        assertClose(columns(y, n: n, c: 16, 0..<2), try nets.tensor("onet.prob"), "O-Net probabilities")
        assertClose(columns(y, n: n, c: 16, 2..<6), try nets.tensor("onet.reg"), "O-Net regression")
        assertClose(columns(y, n: n, c: 16, 6..<16), try nets.tensor("onet.landmarks"), "O-Net landmarks")
    }

    func testAreaResamplingMatchesTorchInterpolate() throws {
        let frame = try Fixtures.rawFrame("astronaut.rgb", width: 512, height: 512)
        let ref = try nets.tensor("pyramid.out")
        let oh = ref.shape[2], ow = ref.shape[3]
        var out = [Float](repeating: 0, count: 3 * oh * ow)
        out.withUnsafeMutableBufferPointer { p in
            AreaResampling.pyramid(frame, [.init(outH: oh, outW: ow, rows: 0..<oh, planeRows: oh, dst: p.baseAddress!)])
        }
        assertClose(out, ref, tol: 1e-5, "pyramid level")
        // A crop of the whole frame is the same level, channels-last.
        var crop = [Float](repeating: 0, count: 3 * oh * ow)
        crop.withUnsafeMutableBufferPointer { p in
            AreaResampling.crop(frame, x0: 0, y0: 0, w: 512, h: 512, outH: oh, outW: ow, into: p.baseAddress!)
        }
        XCTAssertEqual((0..<(oh * ow)).map { crop[3 * $0 + 1] }, Array(out[(oh * ow)..<(2 * oh * ow)]))
    }

    func testMissingOrMismatchedWeightsAreReported() throws {
        XCTAssertThrowsError(try MTCNN(modelDirectory: "/nonexistent")) { e in
            XCTAssertTrue("\(e)".contains("/nonexistent/pnet.safetensors"), "\(e)")
        }
        // R-Net weights where P-Net's belong: a shape error naming file and tensor.
        let dir = NSTemporaryDirectory() + "mtcnn-swap-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (dst, src) in [("pnet", "rnet"), ("rnet", "rnet"), ("onet", "onet")] {
            try FileManager.default.copyItem(atPath: Fixtures.modelDir + "/\(src).safetensors", toPath: dir + "/\(dst).safetensors")
        }
        XCTAssertThrowsError(try MTCNN(modelDirectory: dir)) { e in
            guard case .wrongShape(let path, "conv1.weight", [10, 3, 3, 3], [28, 3, 3, 3])? = e as? NeuralNetError else {
                return XCTFail("\(e)")
            }
            XCTAssertTrue(path.hasSuffix("pnet.safetensors"))
        }
    }

    func testModelLocatorSearchOrder() throws {
        let root = TestPaths.repoRoot.appendingPathComponent("models").path
        XCTAssertEqual(try ModelLocator.find(subdirectory: "mtcnn", requiredFiles: MTCNN.modelFiles, explicit: root,
                                             environment: [:], executablePath: "/nowhere/bin/x"), root + "/mtcnn")
        XCTAssertEqual(try ModelLocator.find(subdirectory: "mtcnn", requiredFiles: MTCNN.modelFiles, explicit: nil,
                                             environment: ["FER_LIVE_MODELS": root], executablePath: "/nowhere/bin/x"), root + "/mtcnn")
        // Walking up from an executable inside the repository's build folder.
        let exe = TestPaths.repoRoot.appendingPathComponent(".build/release/fer-live").path
        XCTAssertEqual(try ModelLocator.find(subdirectory: "mtcnn", requiredFiles: MTCNN.modelFiles, explicit: nil,
                                             environment: [:], executablePath: exe), root + "/mtcnn")
        XCTAssertThrowsError(try ModelLocator.find(subdirectory: "mtcnn", requiredFiles: MTCNN.modelFiles, explicit: "/nope",
                                                   environment: [:], executablePath: exe)) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("/nope/mtcnn") && !text.contains("\n"), text)
        }
        // A wrong FER_LIVE_MODELS is an error too, even where the repository's models would be found.
        XCTAssertThrowsError(try ModelLocator.find(subdirectory: "mtcnn", requiredFiles: MTCNN.modelFiles, explicit: nil,
                                                   environment: ["FER_LIVE_MODELS": "/nope"], executablePath: exe)) { e in
            XCTAssertTrue("\(e)".contains("/nope"), "\(e)")
        }
    }
}
