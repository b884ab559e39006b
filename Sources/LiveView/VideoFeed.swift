import Capture
import Foundation
import Pipeline

/// Draws the overlay on the newest frame and encodes it as JPEG, on a thread of its own, only
/// while someone watches `/video.mjpg`. When encoding is slower than the frames come, the
/// frames in between are skipped: the encoder always takes the newest.
final class VideoFeed: @unchecked Sendable {
    private let hub: LiveHub
    private let overlay: Overlay
    private let quality: Int
    private let done = DispatchSemaphore(value: 0)

    init(hub: LiveHub, overlay: Overlay, quality: Int = 5) {
        self.hub = hub
        self.overlay = overlay
        self.quality = quality
        // The thread holds the feed until `hub.close()` ends its loop.
        let thread = Thread { [self] in loop() }
        thread.name = "fer-live.serve-jpeg"
        thread.start()
    }

    /// After `hub.close()`: waits (briefly) for the thread to leave.
    func join(timeout: Double = 2) {
        _ = done.wait(timeout: .now() + timeout)
    }

    private func loop() {
        defer { done.signal() }
        // Foundation does not name threads on Linux (nor does Swift see pthread_setname_np);
        // a name makes this thread's CPU show in top -H and in tools/measure_serve.py.
        try? "fer-serve-jpeg".write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
        var encoder: JPEGEncoder?
        var last: UInt64 = 0
        while let next = hub.nextFrameToEncode(after: last) {
            last = next.number
            var picture = next.frame
            overlay.draw(next.result, on: &picture)
            do {
                if encoder?.width != picture.width || encoder?.height != picture.height {
                    encoder = try JPEGEncoder(width: picture.width, height: picture.height, quality: quality,
                                              name: "the --serve video")
                }
                guard let encoder else { continue }
                let jpeg = try encoder.encode(picture)
                hub.publishEncoded(EncodedFrame(number: next.number, frameIndex: next.result.frameIndex,
                                                capturedAt: next.capturedAt, jpeg: jpeg))
            } catch {
                // The run goes on without the video; the page still gets the events.
                FileHandle.standardError.write(Data("fer-live: warning: --serve video stopped: \(error)\n".utf8))
                hub.encoderFailed()
                return
            }
        }
    }
}
