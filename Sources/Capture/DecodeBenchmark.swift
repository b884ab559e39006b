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
        let start = DispatchTime.now().uptimeNanoseconds
        let source = try VideoFileSource(path: path, options: .init(threads: threads, warningHandler: warningHandler))
        var frames = 0
        var checksum: UInt8 = 0
        while let frame = try source.nextFrame() {
            frames += 1
            // Touch the pixels so the conversion cannot be skipped as dead work.
            checksum &+= frame.pixels[frame.pixels.count / 2]
        }
        source.close()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        _ = checksum
        return Run(frames: frames, seconds: seconds)
    }

    public static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}
