import Capture
import XCTest
@testable import FaceDetect

/// Frames detected together (one per core) must give each frame exactly what detecting it alone
/// gives, in input order.
final class BatchDetectionTests: XCTestCase {
    func testFramesInFlightGiveTheSameFacesInOrder() throws {
        let mtcnn = try Fixtures.mtcnn()
        let src = try Fixtures.rawFrame("astronaut.rgb", width: 512, height: 512)
        // Different sizes and contents, so a mix-up between frames would show.
        var frames: [Frame] = []
        for (i, size) in [512, 300, 420, 256, 380].enumerated() {
            var pixels = [UInt8](repeating: 0, count: size * size * 3)
            for y in 0..<size {
                let s = y * 512 * 3
                pixels.replaceSubrange((y * size * 3)..<((y + 1) * size * 3), with: src.pixels[s..<(s + size * 3)])
            }
            frames.append(Frame(index: i, time: Double(i), width: size, height: size, pixels: pixels))
        }
        frames.insert(Frame(index: 9, time: 9, width: 64, height: 48), at: 2)   // black: no face
        let alone = try frames.map { try mtcnn.detect(in: $0) }
        let together = try mtcnn.detect(in: frames)
        XCTAssertEqual(together, alone)
        XCTAssertGreaterThan(alone.filter { !$0.isEmpty }.count, 2, "most frames must have a face")
        XCTAssertTrue(alone[2].isEmpty)
    }

    func testABadFrameInTheBatchThrows() throws {
        let mtcnn = try Fixtures.mtcnn()
        let good = Frame(index: 0, time: 0, width: 32, height: 32)
        let bad = Frame(index: 1, time: 0, width: 32, height: 32, pixels: [UInt8](repeating: 0, count: 10))
        XCTAssertThrowsError(try mtcnn.detect(in: [good, bad, good]))
    }
}
