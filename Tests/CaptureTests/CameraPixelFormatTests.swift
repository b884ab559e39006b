import XCTest
@testable import Capture

/// Every raw camera format on known values. The expected colours are worked out by hand from
/// BT.601 limited range (R = 1.164(Y-16) + 1.596(V-128) and so on, rounded), not taken from the
/// code's output:
///   Y 235, U 128, V 128  ->  255 255 255  (white)
///   Y  16, U 128, V 128  ->    0   0   0  (black)
///   Y 126, U 128, V 128  ->  128 128 128  (1.164 * 110 = 128.0)
///   Y 100, U 150, V 200  ->  213  31 142  (97.8 + 114.9; 97.8 - 8.6 - 58.5; 97.8 + 44.4)
///   Y  81, U  90, V 240  ->  254   0   0  (saturated red; 255 within the fixed point's 1 level)
/// The test picture is 4x2 pixels: two 2x2 blocks of chroma. The left block has U = V = 128 and
/// luma white, black / grey, grey; the right block has U 150, V 200 and luma 100 everywhere, so
/// 4:2:2 and 4:2:0 layouts code the same picture exactly.
final class CameraPixelFormatTests: XCTestCase {
    private let white = [255, 255, 255], black = [0, 0, 0], grey = [128, 128, 128], mauve = [213, 31, 142]
    private var expected: [Int] {
        white + black + mauve + mauve
            + grey + grey + mauve + mauve
    }

    private func assertPicture(_ got: [UInt8], _ want: [Int], tolerance: Int = 1, _ format: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, format, file: file, line: line)
        for (i, (a, b)) in zip(got.map(Int.init), want).enumerated() where abs(a - b) > tolerance {
            XCTFail("\(format): sample \(i) (pixel \(i / 3), channel \(i % 3)) is \(a), expected \(b)", file: file, line: line)
            return
        }
    }

    private func convert(_ bytes: [UInt8], _ format: CameraPixelFormat, width: Int = 4, height: Int = 2,
                         bytesPerLine: Int = 0) throws -> [UInt8] {
        let converter = try CameraFrameConverter(format: format, width: width, height: height,
                                                 bytesPerLine: bytesPerLine, name: "test \(format)")
        return try bytes.withUnsafeBufferPointer { try converter.convert($0) }
    }

    func testYUYV() throws {
        let bytes: [UInt8] = [235, 128, 16, 128, 100, 150, 100, 200,
                              126, 128, 126, 128, 100, 150, 100, 200]
        assertPicture(try convert(bytes, .yuyv), expected, "YUYV")
        // Padded lines (bytesperline 12): the padding is skipped.
        let padded = Array(bytes[0..<8]) + [1, 2, 3, 4] + Array(bytes[8..<16]) + [5, 6, 7, 8]
        assertPicture(try convert(padded, .yuyv, bytesPerLine: 12), expected, "YUYV padded")
    }

    func testUYVY() throws {
        let bytes: [UInt8] = [128, 235, 128, 16, 150, 100, 200, 100,
                              128, 126, 128, 126, 150, 100, 200, 100]
        assertPicture(try convert(bytes, .uyvy), expected, "UYVY")
    }

    func testNV12() throws {
        let bytes: [UInt8] = [235, 16, 100, 100,
                              126, 126, 100, 100,
                              128, 128, 150, 200]
        assertPicture(try convert(bytes, .nv12), expected, "NV12")
        // bytesperline 6: every line of both planes has two bytes of padding.
        let padded: [UInt8] = [235, 16, 100, 100, 9, 9,
                               126, 126, 100, 100, 9, 9,
                               128, 128, 150, 200, 9, 9]
        assertPicture(try convert(padded, .nv12, bytesPerLine: 6), expected, "NV12 padded")
    }

    func testYU12() throws {
        let bytes: [UInt8] = [235, 16, 100, 100,
                              126, 126, 100, 100,
                              128, 150,
                              128, 200]
        assertPicture(try convert(bytes, .yu12), expected, "YU12")
        // bytesperline 8: the chroma planes have half that pitch, 4.
        let padded: [UInt8] = [235, 16, 100, 100, 0, 0, 0, 0,
                               126, 126, 100, 100, 0, 0, 0, 0,
                               128, 150, 7, 7,
                               128, 200, 7, 7]
        assertPicture(try convert(padded, .yu12, bytesPerLine: 8), expected, "YU12 padded")
    }

    func testRGB24AndBGR24() throws {
        let rgb: [UInt8] = [255, 0, 0, 0, 255, 0, 7, 7,
                            0, 0, 255, 10, 20, 30, 7, 7]
        assertPicture(try convert(rgb, .rgb24, width: 2, height: 2, bytesPerLine: 8),
                      [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30], tolerance: 0, "RGB24")
        let bgr: [UInt8] = [0, 0, 255, 0, 255, 0,
                            255, 0, 0, 30, 20, 10]
        assertPicture(try convert(bgr, .bgr24, width: 2, height: 2),
                      [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30], tolerance: 0, "BGR24")
    }

    func testSaturatedRed() throws {
        // 2x2 NV12 of BT.601's red: (254, 0, 0) by the formula, 255 by the fixed point.
        let red = try convert([81, 81, 81, 81, 90, 240], .nv12, width: 2, height: 2)
        assertPicture(red, Array(repeating: [254, 0, 0], count: 4).flatMap { $0 }, "NV12 red")
    }

    func testOddSizesUseTheLastChromaSample() throws {
        // 3x3 NV12: chroma is 2x2 samples; the third column and line take the second sample.
        let luma: [UInt8] = [235, 235, 100,
                             235, 235, 100,
                             100, 100, 100]
        let chroma: [UInt8] = [128, 128, 150, 200,
                               150, 200, 150, 200]
        // bytesperline 4 (the chroma plane's two pairs need 4 bytes a line).
        let planes = luma.enumerated().flatMap { i, y in i % 3 == 2 ? [y, 0] : [y] } + chroma
        let got = try convert(planes, .nv12, width: 3, height: 3, bytesPerLine: 4)
        assertPicture(got, white + white + mauve + white + white + mauve + mauve + mauve + mauve, "NV12 3x3")
    }

    func testShortBuffersAreErrors() {
        for format in [CameraPixelFormat.yuyv, .uyvy, .nv12, .yu12, .rgb24, .bgr24] {
            XCTAssertThrowsError(try convert([1, 2, 3], format)) { error in
                guard case CaptureError.unsupportedPixelFormat(let name, let reason) = error else { return XCTFail("\(format): \(error)") }
                XCTAssertEqual(name, "test \(format)")
                XCTAssertTrue(reason.contains("too few"), reason)
            }
        }
    }

    func testFourccs() {
        XCTAssertEqual(CameraPixelFormat.fourccName(CameraPixelFormat.nv12.fourccs[0]), "NV12")
        XCTAssertEqual(CameraPixelFormat.fourccName(CameraPixelFormat.yu12.fourccs[0]), "YU12")
        XCTAssertEqual(CameraPixelFormat.fourccName(CameraPixelFormat.rgb24.fourccs[0]), "RGB3")
        XCTAssertEqual(CameraPixelFormat.fourccName(CameraPixelFormat.bgr24.fourccs[0]), "BGR3")
        XCTAssertEqual(CameraPixelFormat.fourccName(CameraPixelFormat.mjpeg.fourccs[0]), "MJPG")
        XCTAssertEqual(CameraPixelFormat(fourcc: CameraPixelFormat.mjpeg.fourccs[1]), .mjpeg)
    }
}
