import Foundation
import TestSupport
import XCTest
@testable import Capture

/// Paths, generated frames and image metrics shared by the Capture tests.
enum Support {
    static var repoRoot: URL { TestPaths.repoRoot }

    static func fixture(_ name: String) -> String { TestPaths.fixture(name).path }

    static func sharedMedia(_ name: String) throws -> String { try TestPaths.shared("media/\(name)") }

    static func temporaryFolder() throws -> URL { try TestPaths.temporaryFolder("fer-capture-tests") }

    /// A smooth moving pattern: gradients drifting with the frame index and a soft disc crossing
    /// the picture, so that each frame differs and the content is codable at high quality.
    static func pattern(index: Int, width: Int, height: Int, time: Double) -> Frame {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let cx = Double(width) * (0.2 + 0.6 * Double(index % 50) / 50.0)
        let cy = Double(height) * 0.5
        let radius = Double(min(width, height)) * 0.2
        for y in 0..<height {
            for x in 0..<width {
                let dx = Double(x) - cx, dy = Double(y) - cy
                let disc = max(0, min(1, (radius - (dx * dx + dy * dy).squareRoot()) / 8))
                let r = 60 + 120 * Double(x) / Double(width) + 2 * Double(index)
                let g = 40 + 160 * Double(y) / Double(height)
                let b = 128 + 90 * sin(Double(x + y + 3 * index) / 40)
                let o = (y * width + x) * 3
                pixels[o] = UInt8(max(0, min(255, r * (1 - disc) + 230 * disc)))
                pixels[o + 1] = UInt8(max(0, min(255, g * (1 - disc) + 40 * disc)))
                pixels[o + 2] = UInt8(max(0, min(255, b * (1 - disc) + 30 * disc)))
            }
        }
        return Frame(index: index, time: time, width: width, height: height, pixels: pixels)
    }

    /// Peak signal-to-noise ratio over all RGB samples, in dB (infinity for identical frames).
    static func psnr(_ a: Frame, _ b: Frame) -> Double {
        var sum = 0.0
        for y in 0..<a.height {
            for x in 0..<(3 * a.width) {
                let d = Double(a.pixels[y * a.stride + x]) - Double(b.pixels[y * b.stride + x])
                sum += d * d
            }
        }
        let mse = sum / Double(3 * a.width * a.height)
        return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }

    static func readAll(_ path: String, warnings: WarningLog = WarningLog()) throws -> (SourceInfo, [Frame]) {
        let source = try VideoFileSource(path: path, options: .init(warningHandler: warnings.handler))
        var frames: [Frame] = []
        while let frame = try source.nextFrame() { frames.append(frame) }
        source.close()
        return (source.info, frames)
    }

    struct Reference: Decodable {
        var width: Int
        var height: Int
        var mean: [Double]
        var pixels: [[Int]]
        /// FNV-1a 64 of all the packed RGB24 bytes, in hex, where the reference is exact.
        var fnv1a64: String?
    }

    /// FNV-1a, 64 bits, of `bytes`, continuing from `hash`: a checksum that tells copies apart
    /// from changed data.
    static func fnv1a64<S: Sequence>(_ bytes: S, continuing hash: UInt64 = 0xCBF2_9CE4_8422_2325) -> UInt64
        where S.Element == UInt8 {
        bytes.reduce(hash) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01B3 }
    }

    /// FNV-1a 64 of a frame's packed RGB24 bytes (rows without their padding), in hex as
    /// tools/capture_reference.py writes it.
    static func fnv1a64(_ frame: Frame) -> String {
        var h = fnv1a64([UInt8]())
        for y in 0..<frame.height {
            h = fnv1a64(frame.pixels[(y * frame.stride)..<(y * frame.stride + 3 * frame.width)], continuing: h)
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Pixels decoded by Pillow / the ffmpeg command line (tools/capture_reference.py).
    static func reference(_ key: String) throws -> Reference {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture("capture_reference.json")))
        let all = try JSONDecoder().decode([String: Reference].self, from: data)
        guard let reference = all[key] else { throw XCTSkip("no reference for \(key) in capture_reference.json") }
        return reference
    }

    /// Checks a decoded frame against reference pixels within `tolerance` per sample.
    static func assertMatches(_ frame: Frame, _ reference: Reference, tolerance: Int, meanTolerance: Double,
                              file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(frame.width, reference.width, file: file, line: line)
        XCTAssertEqual(frame.height, reference.height, file: file, line: line)
        guard frame.width == reference.width, frame.height == reference.height else { return }
        for point in reference.pixels {
            let (x, y) = (point[0], point[1])
            for c in 0..<3 {
                let got = Int(frame.pixels[y * frame.stride + 3 * x + c])
                XCTAssertLessThanOrEqual(abs(got - point[2 + c]), tolerance,
                                         "pixel (\(x), \(y)) channel \(c): \(got) vs \(point[2 + c])", file: file, line: line)
            }
        }
        for c in 0..<3 {
            var sum = 0.0
            for y in 0..<frame.height {
                for x in 0..<frame.width { sum += Double(frame.pixels[y * frame.stride + 3 * x + c]) }
            }
            let mean = sum / Double(frame.width * frame.height)
            XCTAssertEqual(mean, reference.mean[c], accuracy: meanTolerance, "channel \(c) mean", file: file, line: line)
        }
    }
}
