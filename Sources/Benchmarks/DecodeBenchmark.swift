import Capture
import Foundation

/// Times decoding a whole input to RGB frames: what `fer-live bench decode` reports.
public enum DecodeBenchmark {
    public struct Run: Sendable {
        public var frames: Int
        public var seconds: Double
        public var fps: Double { seconds > 0 ? Double(frames) / seconds : 0 }
    }

    /// Opens `path`, decodes every frame to RGB and closes it; the time includes opening.
    public static func run(path: String, threads: Int,
                           warningHandler: @escaping WarningHandler = Warnings.standardError) throws -> Run {
        var frames = 0
        var checksum: UInt8 = 0
        let seconds = try Clock.seconds {
            let source = try VideoFileSource(path: path, options: .init(threads: threads, warningHandler: warningHandler))
            while let frame = try source.nextFrame() {
                frames += 1
                // Touch the pixels so the conversion cannot be skipped as dead work.
                checksum &+= frame.pixels[frame.pixels.count / 2]
            }
            source.close()
        }
        _ = checksum
        return Run(frames: frames, seconds: seconds)
    }
}
