import Foundation
import TestSupport
import XCTest
@testable import Capture

/// Reading real and damaged inputs.
final class ReaderTests: XCTestCase {
    func testPNGImageMatchesPillow() throws {
        let (info, frames) = try Support.readAll(Support.fixture("astronaut.png"))
        XCTAssertEqual(info.width, 512)
        XCTAssertEqual(info.height, 512)
        XCTAssertEqual(frames.count, 1)
        let frame = try XCTUnwrap(frames.first)
        Support.assertMatches(frame, try Support.reference("astronaut.png"), tolerance: 0, meanTolerance: 1e-3)
    }

    func testMissingFile() throws {
        let path = "/nonexistent/folder/clip.mp4"
        XCTAssertThrowsError(try VideoFileSource(path: path)) { error in
            guard case CaptureError.notFound = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains(path), "\(error)")
        }
    }

    func testTextFileNamedMP4() throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("notes.mp4").path
        try Data(String(repeating: "this is not a video\n", count: 200).utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try VideoFileSource(path: path)) { error in
            guard case CaptureError.cannotOpen = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("notes.mp4"), "\(error)")
            XCTAssertFalse("\(error)".contains("\n"))
        }
    }

    private func writePattern(to path: String, count: Int, width: Int = 192, height: Int = 128) throws {
        let writer = try VideoWriter(path: path, width: width, height: height)
        for i in 0..<count { try writer.write(Support.pattern(index: i, width: width, height: height, time: Double(i) / 25)) }
        try writer.close()
    }

    func testTruncatedMP4FailsAtOpen() throws {
        // MP4 writes its index (moov) last: a cut file has none and cannot be opened.
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("cut.mp4").path
        try writePattern(to: path, count: 50)
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        let size = try handle.seekToEnd()
        try handle.truncate(atOffset: size / 2)
        try handle.close()
        XCTAssertThrowsError(try Support.readAll(path)) { error in
            XCTAssertTrue(error is CaptureError, "\(error)")
            XCTAssertTrue("\(error)".contains("cut.mp4"), "\(error)")
        }
    }

    func testTruncatedMKVKeepsTheFramesBeforeTheCut() throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("cut.mkv").path
        try writePattern(to: path, count: 50)
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        let size = try handle.seekToEnd()
        try handle.truncate(atOffset: size / 2)
        try handle.close()
        let (_, frames) = try Support.readAll(path)
        XCTAssertGreaterThan(frames.count, 5)
        XCTAssertLessThan(frames.count, 50)
    }

    func testCorruptMiddleSkipsWithWarnings() throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("damaged.mp4").path
        try writePattern(to: path, count: 60)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        // Garbage over a stretch in the middle of the media data (the index is at the end).
        var seed: UInt32 = 12345
        let start = bytes.count * 2 / 5
        for i in start..<(start + bytes.count / 10) {
            seed = seed &* 1_664_525 &+ 1_013_904_223
            bytes[i] = UInt8(truncatingIfNeeded: seed >> 24)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let warnings = WarningLog()
        let (info, frames) = try Support.readAll(path, warnings: warnings)
        XCTAssertEqual(info.width, 192)
        XCTAssertGreaterThan(frames.count, 20, "frames before and after the damage still come")
        XCTAssertFalse(warnings.messages.isEmpty, "the damage is reported")
        XCTAssertTrue(warnings.messages.allSatisfy { $0.contains("damaged.mp4") }, "\(warnings.messages)")
        // Indices stay consecutive whatever was skipped.
        XCTAssertEqual(frames.map(\.index), Array(0..<frames.count))
    }

    func testCloseIsIdempotentAndEndsTheInput() throws {
        let source = try VideoFileSource(path: Support.fixture("astronaut.png"))
        source.close()
        source.close()
        XCTAssertNil(try source.nextFrame())
    }
}
