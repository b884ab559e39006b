import Capture
import Foundation
import TestSupport
import XCTest
@testable import FaceDetect

enum Fixtures {
    static let mtcnnDir = TestPaths.fixture("mtcnn")
    static let modelDir = TestPaths.model("mtcnn").path

    /// The shared folder (nil where there is none).
    static var shared: String? { TestPaths.sharedFolder?.path }

    static let detector: MTCNN? = try? MTCNN(modelDirectory: modelDir)

    static func mtcnn() throws -> MTCNN {
        guard let d = detector else { return try MTCNN(modelDirectory: modelDir) }
        return d
    }

    static func rawFrame(_ file: String, width: Int, height: Int) throws -> Frame {
        let data = try Data(contentsOf: mtcnnDir.appendingPathComponent(file))
        XCTAssertEqual(data.count, width * height * 3, file)
        return Frame(index: 0, time: 0, width: width, height: height, pixels: [UInt8](data))
    }

    /// Frames decoded by the ffmpeg command line, as tools/make_mtcnn_fixtures.py does.
    static func ffmpegFrames(_ path: String, frames: [Int]?, width: Int, height: Int) throws -> [Frame] {
        try FFmpegCommand.frames(path, frames: frames, width: width, height: height)
    }
}
