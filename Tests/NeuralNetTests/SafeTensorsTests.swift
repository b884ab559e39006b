import Foundation
import XCTest
@testable import NeuralNet

final class SafeTensorsTests: XCTestCase {
    /// Builds a file by hand (not with the code under test): header JSON + raw bytes.
    func file(header: String, data: [UInt8], headerLength: UInt64? = nil) -> Data {
        var d = Data()
        var len = (headerLength ?? UInt64(header.utf8.count)).littleEndian
        withUnsafeBytes(of: &len) { d.append(contentsOf: $0) }
        d.append(contentsOf: Array(header.utf8))
        d.append(contentsOf: data)
        return d
    }

    func floats(_ v: [Float]) -> [UInt8] { v.flatMap { f in withUnsafeBytes(of: f.bitPattern.littleEndian) { Array($0) } } }

    func testReadsValidFile() throws {
        let h = #"{"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[2],"data_offsets":[24,32]},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}"#
        let f = try SafeTensorsFile(data: file(header: h, data: floats([1, 2, 3, 4, 5, 6, -1, 0.5])), path: "ok.safetensors")
        XCTAssertEqual(f.metadata, ["format": "pt"])
        XCTAssertEqual(f.names, ["a", "b"])
        let a = try f.tensor("a", shape: [2, 3])
        XCTAssertEqual(a.storage, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try f.tensor("b").storage, [-1, 0.5])
    }

    func testRoundTripThroughWriter() throws {
        let t = try Tensor(shape: [2, 2], storage: [1, -2, 3.5, 4])
        let path = NSTemporaryDirectory() + "nn-roundtrip-\(getpid()).safetensors"
        try SafeTensorsFile.write(["w": t], metadata: ["k": "v"], to: path)
        let f = try SafeTensorsFile(path: path)
        XCTAssertEqual(try f.tensor("w", shape: [2, 2]), t)
        XCTAssertEqual(f.metadata["k"], "v")
        try? FileManager.default.removeItem(atPath: path)
    }

    func expect(_ body: @autoclosure () throws -> Any, _ check: (NeuralNetError) -> Bool,
                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let e = error as? NeuralNetError else { return XCTFail("not a NeuralNetError: \(error)", file: file, line: line) }
            XCTAssertTrue(check(e), "unexpected \(e)", file: file, line: line)
            XCTAssertTrue(e.description.contains("bad.safetensors"), "names the file: \(e)", file: file, line: line)
            XCTAssertFalse(e.description.contains("\n"), file: file, line: line)
        }
    }

    func testRejectsTruncatedFiles() {
        let h = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        expect(try SafeTensorsFile(data: Data([1, 2, 3]), path: "bad.safetensors")) {
            if case .truncated = $0 { return true } else { return false }
        }
        // Header length claims more bytes than there are.
        expect(try SafeTensorsFile(data: self.file(header: h, data: [], headerLength: 500), path: "bad.safetensors")) {
            if case .truncated = $0 { return true } else { return false }
        }
        // Data cut short: the tensor's end offset lies beyond the file.
        expect(try SafeTensorsFile(data: self.file(header: h, data: self.floats([1])), path: "bad.safetensors")) {
            if case .badOffsets(_, "a", _) = $0 { return true } else { return false }
        }
    }

    func testRejectsBadOffsetsAndHeaders() {
        let data = floats([1, 2, 3, 4])
        let cases = [
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,100]}}"#,
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,4]}}"#,
            #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}"#,
        ]
        for h in cases {
            expect(try SafeTensorsFile(data: self.file(header: h, data: data), path: "bad.safetensors")) {
                if case .badOffsets(_, "a", _) = $0 { return true } else { return false }
            }
        }
        for h in [#"{"a":1}"#, #"[1,2]"#, "not json", #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#] {
            expect(try SafeTensorsFile(data: self.file(header: h, data: data), path: "bad.safetensors")) {
                if case .badHeader = $0 { return true } else { return false }
            }
        }
    }

    func testRejectsWrongDTypeShapeAndMissing() throws {
        let h = #"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1,2],"data_offsets":[4,12]}}"#
        let f = try SafeTensorsFile(data: file(header: h, data: [0, 0, 0, 0] + floats([1, 2])), path: "bad.safetensors")
        expect(try f.tensor("a")) { if case .wrongDType(_, "a", "F16") = $0 { return true } else { return false } }
        expect(try f.tensor("b", shape: [2])) {
            if case .wrongShape(_, "b", [2], [1, 2]) = $0 { return true } else { return false }
        }
        expect(try f.tensor("c")) { if case .missingTensor(_, "c") = $0 { return true } else { return false } }
        XCTAssertEqual(try f.tensor("b", shape: [1, 2]).storage, [1, 2])
    }

    func testMissingFileIsUnreadable() {
        XCTAssertThrowsError(try SafeTensorsFile(path: "/nonexistent/bad.safetensors")) { e in
            guard case .unreadable? = e as? NeuralNetError else { return XCTFail("\(e)") }
        }
    }
}
