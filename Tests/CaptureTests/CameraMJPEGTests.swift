import Foundation
import TestSupport
import XCTest
@testable import Capture

/// MJPEG, which vivid cannot produce: a real MJPEG stream made by the ffmpeg command line (4:2:2
/// full-range JPEG, as UVC webcams send) goes through the camera's own conversion path
/// (`CameraFrameConverter`, FFmpeg's MJPEG decoder kept between frames) and must match ffmpeg's
/// own decode of the same stream.
final class CameraMJPEGTests: XCTestCase {
    private func run(_ executable: String, _ arguments: [String]) throws -> Data {
        let (data, status) = try FFmpegCommand.run(executable, arguments)
        XCTAssertEqual(status, 0, "\(executable) \(arguments)")
        return data
    }

    /// The pictures of an MJPEG elementary stream, split where each JPEG starts (SOI FF D8
    /// followed by a marker; entropy-coded data never holds FF D8, FF being stuffed).
    private func pictures(_ stream: [UInt8]) -> [[UInt8]] {
        var starts: [Int] = []
        var i = 0
        while i + 2 < stream.count {
            if stream[i] == 0xFF, stream[i + 1] == 0xD8, stream[i + 2] == 0xFF { starts.append(i) }
            i += 1
        }
        return starts.enumerated().map { n, start in Array(stream[start..<(n + 1 < starts.count ? starts[n + 1] : stream.count)]) }
    }

    /// The picture with its Huffman tables (DHT segments) removed: most webcams send MJPEG so,
    /// leaving the decoder to use the standard tables.
    private func withoutHuffmanTables(_ jpeg: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0xFF, 0xD8]
        var i = 2
        while i + 4 <= jpeg.count, jpeg[i] == 0xFF {
            let marker = jpeg[i + 1]
            if marker == 0xDA { break }   // start of scan: the rest is entropy-coded data
            let length = Int(jpeg[i + 2]) << 8 | Int(jpeg[i + 3])
            if marker != 0xC4 { out += jpeg[i..<(i + 2 + length)] }
            i += 2 + length
        }
        return out + jpeg[i...]
    }

    func testRealMJPEGStreamThroughTheCameraConversion() throws {
        guard let ffmpeg = FFmpegCommand.path else { throw XCTSkip("ffmpeg command not installed") }
        let folder = try TestPaths.temporaryFolder("fer-mjpeg", removedAfter: self)
        // woman2.mp4 when the shared media are there (a real face, moving), else the repository's
        // astronaut picture.
        let input = (try? Support.sharedMedia("woman2.mp4")) ?? Support.fixture("astronaut.png")
        let (width, height) = (320, 240)
        let stream = folder.appendingPathComponent("camera.mjpeg").path
        // -huffman default: the standard tables, so the pictures still decode once the DHT
        // segments are stripped as webcams do.
        let loop = input.hasSuffix(".png") ? ["-loop", "1"] : []
        _ = try run(ffmpeg, ["-v", "error", "-y"] + loop + ["-i", input,
                             "-frames:v", "6", "-vf", "scale=\(width):\(height)", "-pix_fmt", "yuvj422p",
                             "-c:v", "mjpeg", "-q:v", "4", "-huffman", "default", "-f", "mjpeg", stream])
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: stream)))
        let jpegs = pictures(bytes)
        XCTAssertEqual(jpegs.count, 6)

        // ffmpeg's decode of the same stream, with the accurate full-range conversion the
        // Capture README names.
        let reference = [UInt8](try run(ffmpeg, ["-v", "error", "-f", "mjpeg", "-i", stream, "-sws_flags",
                                                 "bicubic+accurate_rnd+full_chroma_int", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]))
        let size = 3 * width * height
        XCTAssertEqual(reference.count, 6 * size)

        let converter = try CameraFrameConverter(format: .mjpeg, width: width, height: height, bytesPerLine: 0, name: "mjpeg camera")
        for (n, jpeg) in jpegs.enumerated() {
            let rgb = try jpeg.withUnsafeBufferPointer { try converter.convert($0) }
            XCTAssertEqual(rgb.count, size)
            let want = reference[(n * size)..<((n + 1) * size)]
            let diffs = zip(rgb, want).map { abs(Int($0) - Int($1)) }
            let mean = Double(diffs.reduce(0, +)) / Double(size)
            XCTAssertLessThan(mean, 0.5, "frame \(n): mean difference to ffmpeg \(mean)")
            XCTAssertLessThanOrEqual(diffs.max() ?? 0, 3, "frame \(n)")
            // Not a flat picture: the content made it through.
            XCTAssertGreaterThan(Set(rgb).count, 100)

            let stripped = withoutHuffmanTables(jpeg)
            XCTAssertLessThan(stripped.count, jpeg.count, "frame \(n) had Huffman tables to strip")
            let same = try stripped.withUnsafeBufferPointer { try converter.convert($0) }
            XCTAssertEqual(same, rgb, "frame \(n) without DHT decodes the same")
        }

        // A truncated picture (an error, or a concealed frame: the decoder decides) leaves the
        // decoder as it was: the next picture decodes exactly as before.
        let first = try jpegs[1].withUnsafeBufferPointer { try converter.convert($0) }
        let broken = Array(jpegs[0].prefix(jpegs[0].count / 3))
        _ = try? broken.withUnsafeBufferPointer { try converter.convert($0) }
        XCTAssertEqual(try jpegs[1].withUnsafeBufferPointer { try converter.convert($0) }, first)
        // Another size than the negotiated one is refused, naming the camera.
        let small = try CameraFrameConverter(format: .mjpeg, width: 160, height: 120, bytesPerLine: 0, name: "mjpeg camera")
        XCTAssertThrowsError(try jpegs[0].withUnsafeBufferPointer { try small.convert($0) }) { error in
            XCTAssertTrue("\(error)".contains("mjpeg camera") && "\(error)".contains("320x240"), "\(error)")
        }
    }
}
