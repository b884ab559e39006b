import CFFmpeg
import XCTest
@testable import Capture

/// The colour converter's refusal path, which real files rarely reach.
final class ConverterTests: XCTestCase {
    func testHardwareFormatIsRefused() throws {
        // A hardware surface format has no pixels in memory: swscale cannot read it.
        let picture = try AVFrameBox()
        picture.frame.pointee.format = AV_PIX_FMT_VAAPI.rawValue
        picture.frame.pointee.width = 16
        picture.frame.pointee.height = 16
        XCTAssertThrowsError(try RGBConverter().rgb(from: picture.frame, name: "surface.mkv")) { error in
            guard case CaptureError.unsupportedPixelFormat = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("surface.mkv"), "\(error)")
            XCTAssertTrue("\(error)".contains("vaapi"), "\(error)")
        }
    }

    func testErrorDescriptionIsOneLine() {
        let error = CaptureError.cannotOpen(input: "a.mp4", reason: "first\nsecond")
        XCTAssertEqual(error.description, "a.mp4: cannot open: first second")
        XCTAssertEqual(error.name, "a.mp4")
    }
}

/// Like warnings are folded into one line and a count.
final class WarningFolderTests: XCTestCase {
    func testRepeatsAreCountedAndFlushed() {
        nonisolated(unsafe) var lines: [String] = []
        let folder = WarningFolder { lines.append($0) }
        folder.warn("frame #3 was damaged")
        folder.warn("frame #4 was damaged")
        folder.warn("frame #5 was damaged")
        folder.warn("reading stopped after frame #9")
        folder.flush()
        XCTAssertEqual(lines.count, 3, "\(lines)")
        XCTAssertEqual(lines[0], "warning: frame #3 was damaged")
        XCTAssertTrue(lines[1].hasPrefix("warning: 2 more like the last"), lines[1])
        XCTAssertEqual(lines[2], "warning: reading stopped after frame #9")
        folder.flush()
        XCTAssertEqual(lines.count, 3, "nothing more to flush")
    }
}
