import Foundation
import XCTest
@testable import Capture

final class WriterTests: XCTestCase {
    func testUnwritablePathFailsAtInit() throws {
        let path = "/nonexistent-folder/out.mp4"
        XCTAssertThrowsError(try VideoWriter(path: path, width: 64, height: 48)) { error in
            guard case CaptureError.cannotWrite = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains(path), "\(error)")
        }
        XCTAssertThrowsError(try VideoWriter(path: "/nonexistent-folder/out.png", width: 64, height: 48)) { error in
            guard case CaptureError.cannotWrite = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("/nonexistent-folder/out.png"), "\(error)")
        }
    }

    func testUnknownExtension() throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("out.xyz").path
        XCTAssertThrowsError(try VideoWriter(path: path, width: 64, height: 48)) { error in
            guard case CaptureError.unsupportedOutput = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("out.xyz"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }

    func testWrongFrameSizeAndWriteAfterClose() throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("sized.mkv").path
        let writer = try VideoWriter(path: path, width: 64, height: 48)
        XCTAssertThrowsError(try writer.write(Frame(width: 32, height: 48))) { error in
            guard case CaptureError.invalidFrame = error else { return XCTFail("\(error)") }
        }
        try writer.write(Frame(width: 64, height: 48))
        try writer.close()
        XCTAssertThrowsError(try writer.write(Frame(width: 64, height: 48)))
        XCTAssertEqual(try Support.readAll(path).1.count, 1)
    }

    func testDeinitWritesTheTrailer() throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("dropped.mp4").path
        do {
            let writer = try VideoWriter(path: path, width: 64, height: 48)
            for i in 0..<5 { try writer.write(Frame(index: i, time: Double(i) / 25, width: 64, height: 48)) }
        }
        XCTAssertEqual(try Support.readAll(path).1.count, 5)
    }

    func testRepeatedTimesAreShiftedNotRejected() throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("same-time.mkv").path
        let warnings = WarningLog()
        let writer = try VideoWriter(path: path, width: 64, height: 48, options: .init(warningHandler: warnings.handler))
        for i in 0..<4 { try writer.write(Frame(index: i, time: 0, width: 64, height: 48)) }
        try writer.close()
        XCTAssertEqual(warnings.messages.count, 1)
        XCTAssertEqual(try Support.readAll(path).1.count, 4)
    }
}
