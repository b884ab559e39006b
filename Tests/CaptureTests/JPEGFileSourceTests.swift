import Foundation
import TestSupport
import XCTest
@testable import Capture

/// JPEG photos go to libjpeg-turbo, whose default decoding is Pillow's: the frame is Pillow's
/// pixels bit for bit (tools/capture_reference.py), within a level of ffmpeg's command line,
/// and files libjpeg-turbo should not take (CMYK, a broken header, not a JPEG) go to FFmpeg.
final class JPEGFileSourceTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws { dir = try Support.temporaryFolder() }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    private func onlyFrame(_ source: FrameSource) throws -> Frame {
        defer { source.close() }
        let frame = try XCTUnwrap(try source.nextFrame())
        XCTAssertNil(try source.nextFrame(), "a photo is one frame")
        return frame
    }

    func testPhotoIsPillowsPixelsBitForBit() throws {
        let path = Support.fixture("photo-420.jpg")
        let source = try Sources.open(path)
        XCTAssertTrue(source is JPEGFileSource, "a JPEG file goes to libjpeg-turbo, not \(type(of: source))")
        XCTAssertEqual(source.info.width, 61)
        XCTAssertEqual(source.info.pixelFormat, "jpeg 4:2:0")
        let frame = try onlyFrame(source)
        let reference = try Support.reference("photo-420.jpg")
        Support.assertMatches(frame, reference, tolerance: 0, meanTolerance: 1e-9)
        XCTAssertEqual(Support.fnv1a64(frame), try XCTUnwrap(reference.fnv1a64), "every byte as Pillow decodes it")
    }

    /// At most 1 level (mean absolute) from ffmpeg's command line with its accurate conversion
    /// (full chroma interpolation, accurate rounding: what FFmpeg-decoded JPEGs get here), on the
    /// fixture and on a test card with sharp colour edges. Against ffmpeg's default conversion
    /// the card differs by 2.2 levels, as much as ffmpeg's own accurate conversion (2.0) does.
    func testWithinOneLevelOfFFmpegsAccurateConversion() throws {
        guard let ffmpeg = FFmpegCommand.path else { throw XCTSkip("ffmpeg command not installed") }
        let big = dir.appendingPathComponent("testsrc.jpg").path
        XCTAssertEqual(try FFmpegCommand.run(ffmpeg, ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=397x251", "-frames:v", "1",
                                                      "-q:v", "4", big]).status, 0)
        for path in [Support.fixture("photo-420.jpg"), big] {
            let frame = try onlyFrame(try XCTUnwrap(try JPEGFileSource.openIfJPEG(path: path)))
            let ref = [UInt8](try FFmpegCommand.run(ffmpeg, ["-v", "error", "-i", path, "-frames:v", "1", "-sws_flags",
                                                             "bicubic+accurate_rnd+full_chroma_int", "-f", "rawvideo",
                                                             "-pix_fmt", "rgb24", "-"]).output)
            XCTAssertEqual(ref.count, 3 * frame.width * frame.height)
            guard ref.count == 3 * frame.width * frame.height else { return }
            var total = 0
            for y in 0..<frame.height {
                for x in 0..<(3 * frame.width) { total += abs(Int(frame.pixels[y * frame.stride + x]) - Int(ref[y * 3 * frame.width + x])) }
            }
            let mean = Double(total) / Double(ref.count)
            XCTAssertLessThanOrEqual(mean, 1.0, path)
            XCTAssertGreaterThan(mean, 0, "\(path): a different decoder from ffmpeg's, so some levels differ")
        }
    }

    func testTruncatedPhotoWarnsOnceAndKeepsThePicture() throws {
        let whole = try Data(contentsOf: URL(fileURLWithPath: Support.fixture("photo-420.jpg")))
        let path = dir.appendingPathComponent("cut.jpg").path
        try whole.prefix(whole.count * 2 / 3).write(to: URL(fileURLWithPath: path))
        let log = WarningLog()
        let source = try XCTUnwrap(try JPEGFileSource.openIfJPEG(path: path, warningHandler: log.handler))
        let warnings = log.messages
        let frame = try onlyFrame(source)
        XCTAssertEqual(frame.width, 61)
        XCTAssertEqual(frame.height, 45)
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings.first?.contains(path) ?? false, "the warning names the file: \(warnings)")
    }

    /// Damaged photos (bytes overwritten, cut anywhere): each opens, is left to FFmpeg, or throws
    /// a `CaptureError` naming the file; none crashes, and a picture that comes out is whole.
    func testDamagedPhotosNeverCrash() throws {
        let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Support.fixture("photo-420.jpg"))))
        let path = dir.appendingPathComponent("damaged.jpg").path
        var rng = SplitMix(state: 42)   // the same damage every run
        var opened = 0
        for round in 0..<300 {
            var bytes = whole
            for _ in 0..<(1 + round % 8) { bytes[Int.random(in: 3..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            if round % 3 == 0 { bytes = Array(bytes.prefix(Int.random(in: 4..<bytes.count, using: &rng))) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                guard let source = try JPEGFileSource.openIfJPEG(path: path, warningHandler: { _ in }) else { continue }
                let frame = try onlyFrame(source)
                XCTAssertEqual(frame.pixels.count, 3 * frame.width * frame.height)
                opened += 1
            } catch let error as CaptureError {
                XCTAssertEqual(error.name, path, "\(error)")
            }
        }
        XCTAssertGreaterThan(opened, 0, "some damaged photos still decode")
    }

    /// SplitMix64: a seeded generator, so a failing round can be replayed.
    private struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func testFilesForFFmpegAreLeftToIt() throws {
        // CMYK: libjpeg-turbo gives no RGB for it; FFmpeg decodes it.
        let cmyk = Support.fixture("photo-cmyk.jpg")
        XCTAssertNil(try JPEGFileSource.openIfJPEG(path: cmyk))
        XCTAssertTrue(try Sources.open(cmyk) is VideoFileSource)
        // Not a JPEG, a JPEG marker then garbage, a missing file: FFmpeg (and its messages).
        let garbage = dir.appendingPathComponent("garbage.jpg").path
        try Data([0xFF, 0xD8, 0xFF, 0xE0] + Array("not a picture".utf8)).write(to: URL(fileURLWithPath: garbage))
        for path in [Support.fixture("astronaut.png"), garbage, dir.appendingPathComponent("missing.jpg").path] {
            XCTAssertNil(try JPEGFileSource.openIfJPEG(path: path), path)
        }
        XCTAssertThrowsError(try Sources.open(dir.appendingPathComponent("missing.jpg").path)) { error in
            guard case CaptureError.notFound = error else { return XCTFail("\(error)") }
        }
    }
}
