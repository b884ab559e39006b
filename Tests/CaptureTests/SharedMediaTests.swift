import Foundation
import TestSupport
import XCTest
@testable import Capture

/// The real clips in shared/media (skipped where the shared folder is absent).
final class SharedMediaTests: XCTestCase {
    private func decode(_ name: String, frames expected: Int, rate: Double) throws {
        let path = try Support.sharedMedia(name)
        let warnings = WarningLog()
        let source = try VideoFileSource(path: path, options: .init(warningHandler: warnings.handler))
        XCTAssertEqual(source.info.width, 596)
        XCTAssertEqual(source.info.height, 336)
        XCTAssertEqual(source.info.codec, "h264")
        XCTAssertEqual(source.info.pixelFormat, "yuv420p")
        XCTAssertEqual(source.info.frameRate, rate, accuracy: 0.01)
        XCTAssertEqual(source.info.frameCount, expected)
        var count = 0
        var lastTime = -1.0
        var first: Frame?
        while let frame = try source.nextFrame() {
            XCTAssertEqual(frame.index, count)
            XCTAssertGreaterThan(frame.time, lastTime)
            XCTAssertEqual(frame.pixels.count, 596 * 336 * 3)
            lastTime = frame.time
            if first == nil { first = frame }
            count += 1
        }
        XCTAssertEqual(count, expected)
        XCTAssertEqual(warnings.messages, [])
        XCTAssertEqual(lastTime, Double(expected - 1) / rate, accuracy: 0.5 / rate)
        // Colour conversion against the ffmpeg command line's rgb24 output (bicubic chroma there,
        // so a few levels apart at edges); channel means catch swapped or mis-scaled channels.
        Support.assertMatches(try XCTUnwrap(first), try Support.reference("\(name)#0"), tolerance: 12, meanTolerance: 1.0)
    }

    func testWoman2() throws { try decode("woman2.mp4", frames: 464, rate: 30000.0 / 1001.0) }
    func testTestClip() throws { try decode("test.mp4", frames: 115, rate: 25) }
}
