import Foundation
import XCTest
@testable import Capture

/// Decoded pixels against ffmpeg's own command line on the same file: H.264 4:2:0 (at widths
/// that are and are not a multiple of 16), JPEG (full range) and YUYV. Needs the `ffmpeg`
/// program (installed by `make deps`); skips without it.
final class DecodeColourTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/ffmpeg") else { throw XCTSkip("no /usr/bin/ffmpeg") }
        dir = try Support.temporaryFolder()
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    @discardableResult
    private func ffmpeg(_ args: [String]) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        p.arguments = ["-loglevel", "error", "-y"] + args
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "ffmpeg \(args.joined(separator: " "))")
        return data
    }

    /// ffmpeg's RGB24 of the first frame of `path`, with `flags` for its scaler (nil: its default).
    private func reference(_ path: String, flags: String? = nil) throws -> [UInt8] {
        let f = flags.map { ["-sws_flags", $0] } ?? []
        return [UInt8](try ffmpeg(["-i", path, "-frames:v", "1"] + f + ["-f", "rawvideo", "-pix_fmt", "rgb24", "-"]))
    }

    private func firstFrame(_ path: String) throws -> Frame {
        let source = try VideoFileSource(path: path)
        defer { source.close() }
        return try XCTUnwrap(try source.nextFrame())
    }

    /// Mean and largest absolute difference over all bytes of packed RGB24.
    private func difference(_ frame: Frame, _ ref: [UInt8]) -> (mean: Double, max: Int) {
        var total = 0, worst = 0
        for y in 0..<frame.height {
            for x in 0..<(3 * frame.width) {
                let d = abs(Int(frame.pixels[y * frame.stride + x]) - Int(ref[y * 3 * frame.width + x]))
                total += d
                worst = max(worst, d)
            }
        }
        return (Double(total) / Double(3 * frame.width * frame.height), worst)
    }

    func testH264MatchesFFmpegAtEveryWidth() throws {
        // 596 = 37 x 16 + 4: the SIMD converter's last partial block came out ~100 levels off.
        for width in [640, 596, 198] {
            let video = dir.appendingPathComponent("t\(width).mp4").path
            try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=\(width)x120:rate=25", "-frames:v", "2",
                        "-c:v", "libx264", "-pix_fmt", "yuv420p", video])
            let frame = try firstFrame(video)
            let ref = try reference(video)
            XCTAssertEqual(ref.count, 3 * width * 120)
            let d = difference(frame, ref)
            XCTAssertLessThanOrEqual(d.mean, 1.0, "width \(width)")
            XCTAssertLessThanOrEqual(d.max, 8, "width \(width): no column far off")
        }
    }

    func testJPEGMatchesFFmpegWithFullChromaInterpolation() throws {
        let jpeg = dir.appendingPathComponent("t.jpg").path
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=199x148", "-frames:v", "1", "-q:v", "3", jpeg])
        let frame = try firstFrame(jpeg)
        let d = difference(frame, try reference(jpeg, flags: "bicubic+accurate_rnd+full_chroma_int"))
        XCTAssertLessThanOrEqual(d.mean, 1.0)
        XCTAssertLessThanOrEqual(d.max, 8)
    }

    func testYUYVMatchesFFmpeg() throws {
        let (w, h) = (320, 240)
        let yuyv = [UInt8](try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=\(w)x\(h)", "-frames:v", "1",
                                       "-f", "rawvideo", "-pix_fmt", "yuyv422", "-"]))
        XCTAssertEqual(yuyv.count, 2 * w * h)
        let raw = dir.appendingPathComponent("t.yuyv").path
        try Data(yuyv).write(to: URL(fileURLWithPath: raw))
        let ref = [UInt8](try ffmpeg(["-f", "rawvideo", "-pix_fmt", "yuyv422", "-s", "\(w)x\(h)", "-i", raw,
                                      "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]))
        let rgb = try PixelConversion.yuyvToRGB(yuyv, width: w, height: h)
        let d = difference(Frame(index: 0, time: 0, width: w, height: h, pixels: rgb), ref)
        XCTAssertLessThanOrEqual(d.mean, 1.0)
    }
}
