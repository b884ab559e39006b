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
            let source = try Sources.open(input, warningHandler: { Reporting.warn($0) })
            defer { source.close() }
            let info = source.info
            let fps = String(format: "%.3f", info.frameRate)
            if json {
                let object: [String: Any] = [
                    "input": info.name, "width": info.width, "height": info.height,
                    "fps": info.frameRate,
                    "fps_rational": "\(info.frameRateNumerator)/\(info.frameRateDenominator)",
                    "time_base": "\(info.timeBaseNumerator)/\(info.timeBaseDenominator)",
                    "frames": info.frameCount.map { $0 as Any } ?? NSNull(),
                    "duration": info.duration.map { $0 as Any } ?? NSNull(),
                    "codec": info.codec, "pixel_format": info.pixelFormat,
                ]
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
            }
        }
    }
}
