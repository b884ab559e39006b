import Foundation
import TestSupport
import XCTest
@testable import Capture

/// Frames written by VideoWriter and read back by VideoFileSource.
final class RoundTripTests: XCTestCase {
    /// Writes `count` pattern frames, reads them back and checks count, size, timestamps, quality.
    private func roundTrip(ext: String, width: Int, height: Int, rate: (Int, Int), count: Int,
                           codec: VideoWriter.Codec = .automatic, minimumPSNR: Double = 35,
                           file: StaticString = #filePath, line: UInt = #line) throws -> VideoWriter {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("pattern-\(width)x\(height).\(ext)").path
        let period = Double(rate.1) / Double(rate.0)
        let originals = (0..<count).map { Support.pattern(index: $0, width: width, height: height, time: Double($0) * period) }

        let warnings = WarningLog()
        let writer = try VideoWriter(path: path, width: width, height: height,
                                     frameRateNumerator: rate.0, frameRateDenominator: rate.1,
                                     options: .init(codec: codec, warningHandler: warnings.handler))
        for frame in originals { try writer.write(frame) }
        try writer.close()
        try writer.close()  // idempotent
        XCTAssertEqual(writer.framesWritten, count, file: file, line: line)
        XCTAssertEqual(warnings.messages, [], file: file, line: line)

        let (info, frames) = try Support.readAll(path, warnings: warnings)
        XCTAssertEqual(warnings.messages, [], file: file, line: line)
        XCTAssertEqual(info.width, width, file: file, line: line)
        XCTAssertEqual(info.height, height, file: file, line: line)
        XCTAssertEqual(frames.count, count, file: file, line: line)
        XCTAssertEqual(Double(info.frameRateNumerator) / Double(info.frameRateDenominator),
                       Double(rate.0) / Double(rate.1), accuracy: 1e-6, "frame rate", file: file, line: line)
        let tick = Double(info.timeBaseNumerator) / Double(info.timeBaseDenominator)
        XCTAssertGreaterThan(tick, 0, file: file, line: line)
        var total = 0.0
        for (original, decoded) in zip(originals, frames) {
            XCTAssertEqual(decoded.width, width, file: file, line: line)
            XCTAssertEqual(decoded.height, height, file: file, line: line)
            XCTAssertEqual(decoded.index, original.index, file: file, line: line)
            // Exact to the container's time base: within half a tick of the written time.
            XCTAssertEqual(decoded.time, original.time, accuracy: tick / 2 + 1e-9,
                           "frame \(original.index) time", file: file, line: line)
            total += Support.psnr(original, decoded)
        }
        let mean = total / Double(max(1, frames.count))
        XCTAssertGreaterThanOrEqual(mean, minimumPSNR, "mean PSNR \(mean) dB", file: file, line: line)
        return writer
    }

    func testOddSizeH264At25fps() throws {
        let writer = try roundTrip(ext: "mp4", width: 597, height: 337, rate: (25, 1), count: 30)
        XCTAssertEqual(writer.codecName, "h264")
        XCTAssertEqual(writer.pixelFormat, "yuv444p")
    }

    func testOddSizeH264atNTSCRate() throws {
        _ = try roundTrip(ext: "mp4", width: 597, height: 337, rate: (30000, 1001), count: 30)
    }

    func testEvenSizeUses420() throws {
        let writer = try roundTrip(ext: "mp4", width: 320, height: 240, rate: (30000, 1001), count: 20)
        XCTAssertEqual(writer.pixelFormat, "yuv420p")
    }

    func testMPEG4FallbackKeepsOddSize() throws {
        let writer = try roundTrip(ext: "mp4", width: 597, height: 337, rate: (25, 1), count: 12, codec: .mpeg4,
                                   minimumPSNR: 30)
        XCTAssertEqual(writer.codecName, "mpeg4")
    }

    func testOtherContainers() throws {
        for ext in ["mkv", "mov", "avi"] {
            _ = try roundTrip(ext: ext, width: 160, height: 120, rate: (25, 1), count: 10)
        }
    }

    func testPNGIsLossless() throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("still.png").path
        let original = Support.pattern(index: 3, width: 97, height: 61, time: 0)
        let writer = try VideoWriter(path: path, width: 97, height: 61)
        try writer.write(original)
        try writer.close()
        let (info, frames) = try Support.readAll(path)
        XCTAssertEqual(info.codec, "png")
        XCTAssertEqual(frames.count, 1)
        XCTAssertEqual(frames.first?.pixels, original.pixels)
    }

    func testJPEGIsClose() throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("still.jpg").path
        let original = Support.pattern(index: 3, width: 97, height: 61, time: 0)
        try ImageWriter.write(original, to: path)
        let (info, frames) = try Support.readAll(path)
        XCTAssertEqual(info.codec, "mjpeg")
        let decoded = try XCTUnwrap(frames.first)
        XCTAssertEqual(decoded.width, 97)
        XCTAssertEqual(decoded.height, 61)
        XCTAssertGreaterThan(Support.psnr(original, decoded), 35)
    }
}
