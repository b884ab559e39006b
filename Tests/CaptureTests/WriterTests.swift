import Foundation
import TestSupport
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

    func testIndexTiming() throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("indexed.mp4").path
        let writer = try VideoWriter(path: path, width: 64, height: 48, frameRateNumerator: 30000, frameRateDenominator: 1001,
                                     options: .init(timing: .frameIndex))
        for i in 0..<6 { try writer.write(Frame(index: i, time: 99, width: 64, height: 48)) }
        try writer.close()
        let (info, frames) = try Support.readAll(path)
        let tick = Double(info.timeBaseNumerator) / Double(info.timeBaseDenominator)
        XCTAssertEqual(frames.count, 6)
        for frame in frames { XCTAssertEqual(frame.time, Double(frame.index) * 1001 / 30000, accuracy: tick / 2 + 1e-9) }
    }
}
