import ArgumentParser
import Capture
import Foundation

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Print what a video file, image, URL or camera (/dev/videoN) reports about itself.")

    @Argument(help: "A video file, image, URL or /dev/videoN.")
    var input: String

    @Flag(help: "Print one JSON object instead of lines.")
    var json = false

    func run() throws {
        try Reporting.run("probe") {
            let warn: WarningHandler = { Reporting.warn($0) }
            // A camera is asked for the defaults, and what it gives is printed, not warned about.
            let source: FrameSource = Sources.isCamera(input)
                ? try CameraSource(device: input, options: .init(reportsDifferences: false, warningHandler: warn))
                : try Sources.open(input, warningHandler: warn)
            defer { source.close() }
            let info = source.info
            let fps = String(format: "%.3f", info.frameRate)
            let camera = source as? CameraSource
            if json {
                var object: [String: Any] = [
                    "input": info.name, "width": info.width, "height": info.height,
                    "fps": info.frameRate,
                    "fps_rational": "\(info.frameRateNumerator)/\(info.frameRateDenominator)",
                    "time_base": "\(info.timeBaseNumerator)/\(info.timeBaseDenominator)",
                    "frames": info.frameCount.map { $0 as Any } ?? NSNull(),
                    "duration": info.duration.map { $0 as Any } ?? NSNull(),
                    "codec": info.codec, "pixel_format": info.pixelFormat,
                ]
                if let camera { object["camera"] = Self.cameraObject(camera) }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("input:        \(info.name)")
                print("size:         \(info.width)x\(info.height)")
                print("fps:          \(info.frameRateNumerator)/\(info.frameRateDenominator) (\(fps))")
                print("frames:       \(info.frameCount.map(String.init) ?? "unknown")")
                print("duration:     \(info.duration.map { String(format: "%.3f s", $0) } ?? "unknown")")
                print("codec:        \(info.codec)")
                print("pixel format: \(info.pixelFormat)")
                print("time base:    \(info.timeBaseNumerator)/\(info.timeBaseDenominator)")
                if let camera { Self.printOffers(camera) }
            }
        }
    }

    /// What a camera offers, a line per format and size: "YUYV 640x480: 5, 10, 15, 25 fps".
    static func printOffers(_ camera: CameraSource) {
        print("device:       \(camera.card) (driver \(camera.driver))")
        print("offers:       \(camera.offers.isEmpty ? "no format listed" : "")")
        for offer in camera.offers {
            let read = offer.pixelFormat == nil ? " (fer-live does not read it)" : ""
            let emulated = offer.emulated ? " (converted by libv4l2)" : ""
            print("  \(offer.fourcc) \(offer.description)\(emulated)\(read)")
            for size in offer.sizes { print("    \(size.summary)") }
        }
    }

    static func cameraObject(_ camera: CameraSource) -> [String: Any] {
        let formats: [[String: Any]] = camera.offers.map { offer in
            [
                "fourcc": offer.fourcc, "description": offer.description, "emulated": offer.emulated,
                "read_by_fer_live": offer.pixelFormat != nil,
                "sizes": offer.sizes.map { size -> [String: Any] in
                    var entry: [String: Any] = ["width": size.width, "height": size.height, "fps": size.framesPerSecond]
                    if let range = size.range {
                        entry["max_width"] = range.maxWidth
                        entry["max_height"] = range.maxHeight
                        entry["step_width"] = range.stepWidth
                        entry["step_height"] = range.stepHeight
                    }
                    if size.rateIsRange { entry["fps_is_range"] = true }
                    return entry
                },
            ]
        }
        return ["card": camera.card, "driver": camera.driver, "pixel_format": camera.negotiatedFormat.rawValue, "formats": formats]
    }
}
