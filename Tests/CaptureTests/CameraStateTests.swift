import CV4L2
import Foundation
import TestSupport
import XCTest
@testable import Capture

/// The camera code's state machine (open, negotiate, stream, stop, reopen) and its failures,
/// against `FakeCamera` behind the V4L2 seam. What a fake cannot show (a real driver's timing,
/// its buffer flags, libv4l2's own conversions) is `make camera-test`'s job, against vivid.
final class CameraStateTests: XCTestCase {
    private let path = "/dev/video-fake"

    private func openDescriptorCount() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
    }

    private func source(_ camera: FakeCamera, width: Int = 640, height: Int = 480, fps: Int = 30,
                        format: CameraPixelFormat = .automatic, timeout: Double = 1,
                        warnings: WarningLog = WarningLog()) throws -> CameraSource {
        try CameraSource(device: path, options: .init(width: width, height: height, framesPerSecond: fps,
                                                      pixelFormat: format, timeout: timeout,
                                                      warningHandler: warnings.handler),
                         system: camera)
    }

    func testOpenStreamStopReopenTwiceLeavesNothingOpen() throws {
        let camera = FakeCamera()
        let before = try openDescriptorCount()
        for round in 0..<2 {
            let warnings = WarningLog()
            let capture = try source(camera, warnings: warnings)
            XCTAssertEqual(camera.openDescriptors.count, 1)
            XCTAssertFalse(camera.streaming, "streaming waits for the first frame")
            for expected in 0..<5 {
                let frame = try XCTUnwrap(capture.nextFrame())
                XCTAssertEqual(frame.index, expected)
                XCTAssertEqual(frame.time, Double(expected) / 30, accuracy: 1e-5)
                XCTAssertEqual([frame.width, frame.height], [640, 480])
                // Luma 16 + n with neutral chroma: grey of 1.164 n.
                let grey = Int((1.164 * Double(camera.delivered - 1)).rounded())
                XCTAssertLessThanOrEqual(abs(Int(frame.pixels[0]) - grey), 1, "round \(round) frame \(expected)")
            }
            XCTAssertTrue(camera.streaming)
            XCTAssertEqual(camera.mappings.count, 4)
            capture.close()
            capture.close()   // twice is safe
            XCTAssertFalse(camera.streaming)
            XCTAssertEqual(camera.mappings.count, 0, "every buffer unmapped")
            XCTAssertEqual(camera.grantedBuffers, 0, "the driver's buffers freed (REQBUFS 0)")
            XCTAssertEqual(camera.openDescriptors.count, 0)
            XCTAssertNil(try capture.nextFrame(), "a closed camera gives no frame")
            XCTAssertEqual(warnings.messages, [])
        }
        // Dropped without close(): deinit releases it.
        do {
            let capture = try source(camera)
            _ = try capture.nextFrame()
        }
        XCTAssertEqual(camera.openDescriptors.count, 0)
        XCTAssertEqual(camera.mappings.count, 0)
        XCTAssertEqual(try openDescriptorCount(), before, "no descriptor left in /proc/self/fd")
    }

    func testNegotiationReportsWhatTheCameraGives() throws {
        let camera = FakeCamera()
        let warnings = WarningLog()
        let capture = try source(camera, width: 1280, height: 720, fps: 60, warnings: warnings)
        XCTAssertEqual([capture.info.width, capture.info.height], [640, 480])
        XCTAssertEqual(capture.info.frameRate, 30)
        XCTAssertEqual(warnings.messages, ["\(path): asked for 1280x720 at 60 fps, the camera gives 640x480 at 30 fps"])
        capture.close()

        // What it has is taken without a word: 320x240 at 60 fps is offered.
        let quiet = WarningLog()
        let exact = try source(camera, width: 320, height: 240, fps: 60, warnings: quiet)
        XCTAssertEqual([exact.info.width, exact.info.height], [320, 240])
        XCTAssertEqual(exact.info.frameRate, 60)
        XCTAssertEqual(quiet.messages, [])
        XCTAssertEqual(exact.offers.map(\.fourcc), ["YUYV"])
        XCTAssertEqual(exact.offers[0].sizes.map(\.summary), ["640x480: 15, 30 fps", "320x240: 15, 30, 60 fps"])
    }

    func testAutomaticFormatPrefersOneThatHasTheRate() {
        func offer(_ format: CameraPixelFormat, _ sizes: [(Int, Int, [Double])], emulated: Bool = false) -> CameraFormatOffer {
            CameraFormatOffer(fourcc: CameraPixelFormat.fourccName(format.fourccs[0]), code: format.fourccs[0],
                              description: format.rawValue, emulated: emulated,
                              sizes: sizes.map { CameraFrameSize(width: $0.0, height: $0.1, range: nil, framesPerSecond: $0.2) })
        }
        // A typical UVC webcam: YUYV at full rate only when small, MJPEG at 30 fps everywhere.
        let webcam = [offer(.yuyv, [(640, 480, [15, 30]), (1280, 720, [5, 10])]),
                      offer(.mjpeg, [(640, 480, [15, 30]), (1280, 720, [15, 30])])]
        XCTAssertEqual(CameraSource.choose(.automatic, from: webcam, width: 640, height: 480, framesPerSecond: 30), .yuyv)
        XCTAssertEqual(CameraSource.choose(.automatic, from: webcam, width: 1280, height: 720, framesPerSecond: 30), .mjpeg)
        XCTAssertEqual(CameraSource.choose(.automatic, from: webcam, width: 1920, height: 1080, framesPerSecond: 30), .yuyv,
                       "no format has the size: the first preference, the driver picks the size")
        XCTAssertEqual(CameraSource.choose(.nv12, from: webcam, width: 640, height: 480, framesPerSecond: 30), .nv12, "asked is asked")
        // Only libv4l2's emulated formats and one fer-live does not read: libv4l2's RGB24.
        let odd = [offer(.yuyv, [(640, 480, [30])], emulated: true),
                   CameraFormatOffer(fourcc: "GREY", code: 0x5945_5247, description: "grey", emulated: false, sizes: [])]
        XCTAssertEqual(CameraSource.choose(.automatic, from: odd, width: 640, height: 480, framesPerSecond: 30), .rgb24)
        let planar = [offer(.nv12, [(640, 480, [30])]), offer(.bgr24, [(640, 480, [30])])]
        XCTAssertEqual(CameraSource.choose(.automatic, from: planar, width: 640, height: 480, framesPerSecond: 30), .nv12)
    }

    func testSpuriousWakeUpsAreNotErrors() throws {
        let camera = FakeCamera()
        camera.spuriousWakeUps = true
        let warnings = WarningLog()
        let capture = try source(camera, warnings: warnings)
        for expected in 0..<6 { XCTAssertEqual(try capture.nextFrame()?.index, expected) }
        XCTAssertNil(capture.failure)
        XCTAssertEqual(warnings.messages, [])
    }

    func testUnplugMidwayEndsTheInputWithTheReason() throws {
        let camera = FakeCamera()
        camera.unplugAfter = 3
        // libv4l2 logs its own "error dequeuing buf" when DQBUF fails: not repeated to the user.
        camera.logOnFailure = ["libv4l2: error dequeuing buf: No such device"]
        let warnings = WarningLog()
        let capture = try source(camera, warnings: warnings)
        for expected in 0..<3 { XCTAssertEqual(try capture.nextFrame()?.index, expected) }
        XCTAssertNil(try capture.nextFrame(), "the input ends; the job keeps its outputs")
        guard case CaptureError.deviceFailed(let name, let reason)? = capture.failure as? CaptureError else {
            return XCTFail("\(String(describing: capture.failure))")
        }
        XCTAssertEqual(name, path)
        XCTAssertTrue(reason.contains("went away while streaming") && reason.contains("No such device"), reason)
        XCTAssertNil(try capture.nextFrame())
        XCTAssertEqual(camera.openDescriptors.count, 0, "released at once")
        XCTAssertEqual(camera.mappings.count, 0)
        XCTAssertFalse(warnings.messages.contains { $0.contains("libv4l2") }, "\(warnings.messages)")
    }

    func testUnplugBeforeAnyFrameThrows() throws {
        let camera = FakeCamera()
        camera.unplugAfter = 0
        let capture = try source(camera)
        XCTAssertThrowsError(try capture.nextFrame()) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(path): "), "\(error)")
        }
    }

    func testStalledCameraTimesOutWithoutHanging() throws {
        let camera = FakeCamera()
        camera.stallAfter = 2
        let capture = try source(camera, timeout: 0.3)
        XCTAssertNotNil(try capture.nextFrame())
        XCTAssertNotNil(try capture.nextFrame())
        let start = Date()
        XCTAssertNil(try capture.nextFrame())
        let waited = Date().timeIntervalSince(start)
        XCTAssertGreaterThanOrEqual(waited, 0.29)
        XCTAssertLessThan(waited, 2)
        guard case CaptureError.timeout(let name, let reason)? = capture.failure as? CaptureError else {
            return XCTFail("\(String(describing: capture.failure))")
        }
        XCTAssertEqual(name, path)
        XCTAssertTrue(reason.contains("0.3 s"), reason)
        XCTAssertEqual(camera.openDescriptors.count, 0)
    }

    func testBusyPermissionAndOutputNodeAreOneLineEach() throws {
        let busy = FakeCamera()
        busy.failing[FER_VIDIOC_S_FMT] = EBUSY
        XCTAssertThrowsError(try source(busy)) { error in
            guard case CaptureError.deviceBusy = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".hasPrefix("\(self.path): device busy: VIDIOC_S_FMT"), "\(error)")
        }
        XCTAssertEqual(busy.openDescriptors.count, 0, "a failed open releases the descriptor")

        let denied = FakeCamera()
        denied.openError = EACCES
        XCTAssertThrowsError(try source(denied)) { error in
            guard case CaptureError.permissionDenied = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("video' group"), "\(error)")
        }

        let output = FakeCamera()
        output.capabilities = UInt32(V4L2_CAP_VIDEO_OUTPUT) | UInt32(V4L2_CAP_STREAMING)
        XCTAssertThrowsError(try source(output)) { error in
            XCTAssertEqual("\(error)", "\(self.path): device error: not a video capture device (a video output node)")
        }
        XCTAssertEqual(output.openDescriptors.count, 0)
    }

    func testLibraryMessagesAreWarningsOnlyWhenTheCallWorked() throws {
        let camera = FakeCamera()
        camera.logOnSuccess = ["libv4l2: error converting / decoding frame data: v4l-convert: error parsing JPEG header"]
        let warnings = WarningLog()
        let capture = try source(camera, warnings: warnings)
        XCTAssertNotNil(try capture.nextFrame())
        XCTAssertTrue(warnings.messages.allSatisfy { $0.hasPrefix("\(path): libv4l2: error converting") }, "\(warnings.messages)")
        XCTAssertFalse(warnings.messages.isEmpty)
    }

    func testLibV4L2LogKeepsErrorsAndDropsTheTrace() {
        XCTAssertTrue(LibV4L2Log.matters("libv4l2: error dequeuing buf: No such device"))
        XCTAssertTrue(LibV4L2Log.matters("libv4l2: warning v4l2 mmap buffers still mapped on close()"))
        XCTAssertFalse(LibV4L2Log.matters("request == VIDIOC_DQBUF"))
        XCTAssertFalse(LibV4L2Log.matters("result == 0"))
        XCTAssertFalse(LibV4L2Log.matters("libv4l2: v4l2 format set"))
    }
}
