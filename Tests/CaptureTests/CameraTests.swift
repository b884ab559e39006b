import Foundation
import XCTest
@testable import Capture

/// V4L2 without a camera: failures must be clean, and the YUYV conversion is checked on its own.
final class CameraTests: XCTestCase {
    func testMissingDeviceNamesIt() throws {
        let path = "/dev/video97"
        XCTAssertThrowsError(try CameraSource(device: path)) { error in
            guard case CaptureError.notFound = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains(path), "\(error)")
        }
        XCTAssertThrowsError(try Sources.open(path)) { error in
            XCTAssertTrue("\(error)".contains(path), "\(error)")
        }
    }

    func testNonVideoDeviceIsRefused() throws {
        XCTAssertThrowsError(try CameraSource(device: "/dev/null")) { error in
            guard case CaptureError.deviceFailed = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("/dev/null"), "\(error)")
        }
    }

    /// BT.601, limited range, from its definition (Kr = 0.299, Kb = 0.114), not from the code.
    private func expectedRGB(y: Int, u: Int, v: Int) -> [Int] {
        let kr = 0.299, kb = 0.114, kg = 1 - kr - kb
        let luma = 255.0 / 219.0 * Double(y - 16)
        let cb = 255.0 / 224.0 * Double(u - 128), cr = 255.0 / 224.0 * Double(v - 128)
        let r = luma + 2 * (1 - kr) * cr
        let g = luma - 2 * (1 - kb) * kb / kg * cb - 2 * (1 - kr) * kr / kg * cr
        let b = luma + 2 * (1 - kb) * cb
        return [r, g, b].map { Int(max(0, min(255, $0.rounded()))) }
    }

    private func convertOnePair(y0: Int, y1: Int, u: Int, v: Int) throws -> [Int] {
        try PixelConversion.yuyvToRGB([UInt8(y0), UInt8(u), UInt8(y1), UInt8(v)], width: 2, height: 1).map(Int.init)
    }

    func testKnownColours() throws {
        XCTAssertEqual(try convertOnePair(y0: 235, y1: 16, u: 128, v: 128), [255, 255, 255, 0, 0, 0])
        let grey = try convertOnePair(y0: 126, y1: 126, u: 128, v: 128)
        XCTAssertEqual(grey, expectedRGB(y: 126, u: 128, v: 128) + expectedRGB(y: 126, u: 128, v: 128))
        XCTAssertEqual(Array(grey.prefix(3)), [128, 128, 128])
        // Saturated red, green and blue as BT.601 codes them.
        for (yuv, rgb) in [((81, 90, 240), [255, 0, 0]), ((145, 54, 34), [0, 255, 0]), ((41, 240, 110), [0, 0, 255])] {
            let got = try convertOnePair(y0: yuv.0, y1: yuv.0, u: yuv.1, v: yuv.2)
            for c in 0..<3 {
                XCTAssertLessThanOrEqual(abs(got[c] - rgb[c]), 2, "YUV \(yuv) channel \(c): \(got)")
                XCTAssertLessThanOrEqual(abs(got[c] - expectedRGB(y: yuv.0, u: yuv.1, v: yuv.2)[c]), 1)
            }
        }
    }

    func testMatchesFormulaEverywhere() throws {
        // A grid over the whole cube, clamping included.
        var yuyv: [UInt8] = []
        var expected: [Int] = []
        for y in stride(from: 0, through: 255, by: 15) {
            for u in stride(from: 0, through: 255, by: 17) {
                for v in stride(from: 0, through: 255, by: 17) {
                    yuyv += [UInt8(y), UInt8(u), UInt8(255 - y), UInt8(v)]
                    expected += expectedRGB(y: y, u: u, v: v) + expectedRGB(y: 255 - y, u: u, v: v)
                }
            }
        }
        let width = yuyv.count / 2
        let got = try PixelConversion.yuyvToRGB(yuyv, width: width, height: 1).map(Int.init)
        XCTAssertEqual(got.count, expected.count)
        let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1)
    }

    func testPaddedLinesAndOddWidth() throws {
        // 3 pixels a line (two pairs, the last half used) and 4 padding bytes after each line.
        let line: [UInt8] = [235, 128, 16, 128, 126, 128, 0, 128, 9, 9, 9, 9]
        let rgb = try PixelConversion.yuyvToRGB(line + line, width: 3, height: 2, bytesPerLine: 12)
        XCTAssertEqual(rgb.count, 3 * 3 * 2)
        XCTAssertEqual(Array(rgb[0..<9]), [255, 255, 255, 0, 0, 0, 128, 128, 128])
        XCTAssertEqual(Array(rgb[9..<18]), Array(rgb[0..<9]))
    }

    func testShortBufferIsAnError() {
        XCTAssertThrowsError(try PixelConversion.yuyvToRGB([1, 2, 3], width: 2, height: 1)) { error in
            guard case CaptureError.unsupportedPixelFormat = error else { return XCTFail("\(error)") }
        }
    }
}
