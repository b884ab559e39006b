import Capture
import Foundation
import XCTest
@testable import Pipeline

/// Nothing a user gives or already has is lost: the built executable against the ordinary slips
/// (an output that is the input, two outputs in one file, an existing file, a missing folder, a
/// full disk, a video written to one image, an input without frames).
final class OutputSafetyTests: XCTestCase {
    private var dir: URL!
    private var sample: String!

    override func setUpWithError() throws {
        dir = try EndToEnd.temporaryFolder()
        sample = path("sample.mp4")
        try EndToEnd.makeSample(at: sample, frames: 12)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    private func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    private func bytes(_ p: String) -> Data? { FileManager.default.contents(atPath: p) }

    /// The folder's file names, so a test can see that no temporary file was left behind.
    private func names() throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
    }

    private func assertOneLineError(_ r: EndToEnd.Result, mentions: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 1, r.stderr, file: file, line: line)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "one line: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(mentions), "\(r.stderr) names \(mentions)", file: file, line: line)
    }

    func testOutputThatIsTheInputIsRefusedAndTheInputKept() throws {
        let before = bytes(sample)
        assertOneLineError(try EndToEnd.run(["annotate", sample, "-o", sample, "-q"]), mentions: "is the input")
        assertOneLineError(try EndToEnd.run(["log", sample, "--csv", sample, "-q"]), mentions: "is the input")
        // The same file under another name: a relative path and a symbolic link.
        let link = path("link.mp4")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: sample)
        assertOneLineError(try EndToEnd.run(["annotate", link, "-o", sample, "-y", "-q"]), mentions: "is the input")
        XCTAssertEqual(bytes(sample), before, "the input is untouched")
        XCTAssertEqual(try names(), ["sample.mp4", "link.mp4"])
    }

    func testTwoOutputsInOneFileAreRefused() throws {
        let r = try EndToEnd.run(["annotate", sample, "-o", path("out.mp4"), "--csv", path("out.mp4"), "-q"])
        assertOneLineError(r, mentions: "are both")
        XCTAssertEqual(try names(), ["sample.mp4"], "nothing was written")
    }

    func testExistingOutputIsReplacedOnlyWithOverwrite() throws {
        let csv = path("old.csv")
        try Data("earlier result\n".utf8).write(to: URL(fileURLWithPath: csv))
        assertOneLineError(try EndToEnd.run(["log", sample, "--csv", csv, "-q"]), mentions: "already exists")
        XCTAssertEqual(bytes(csv), Data("earlier result\n".utf8))
        let r = try EndToEnd.run(["log", sample, "--csv", csv, "-q", "--overwrite"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try EndToEnd.readCSV(csv).count, 13, "header and one row per frame")
        XCTAssertEqual(try names(), ["sample.mp4", "old.csv"], "no temporary file left")
    }

    func testFailedRunKeepsTheEarlierVideo() throws {
        let video = path("out.mp4")
        XCTAssertEqual(try EndToEnd.run(["annotate", sample, "-o", video, "-q", "--max-frames", "3"]).status, 0)
        let earlier = bytes(video)
        // A CSV into a missing folder: refused before any work.
        assertOneLineError(try EndToEnd.run(["annotate", sample, "-o", video, "-y", "--csv", path("missing/x.csv"), "-q"]),
                           mentions: "no folder")
        XCTAssertEqual(bytes(video), earlier)
        // A CSV onto a full disk: fails during the run; the earlier video stays whole.
        if FileManager.default.fileExists(atPath: "/dev/full") {
            let r = try EndToEnd.run(["annotate", sample, "-o", video, "-y", "--csv", "/dev/full", "-q"])
            assertOneLineError(r, mentions: "/dev/full")
            XCTAssertEqual(bytes(video), earlier, "a failed run replaced the earlier result")
        }
        XCTAssertEqual(try names(), ["sample.mp4", "out.mp4"], "no temporary file left")
    }

    func testVideoToOneImageIsRefusedAndAPatternWritesEveryFrame() throws {
        assertOneLineError(try EndToEnd.run(["annotate", sample, "-o", path("out.png"), "-q"]), mentions: "is a video")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("out.png")))
        let r = try EndToEnd.run(["annotate", sample, "-o", path("frame_%03d.png"), "-q", "--max-frames", "4"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try names(), ["sample.mp4", "frame_000.png", "frame_001.png", "frame_002.png", "frame_003.png"])
        let image = try VideoFileSource(path: path("frame_002.png"))
        defer { image.close() }
        XCTAssertEqual(image.info.width, 360)
        XCTAssertEqual(image.info.height, 300)
    }

    func testInputWithoutFramesIsAnErrorAndLeavesNoOutput() throws {
        // A Matroska file cut inside its first cluster: it opens, but no frame can be read.
        let mkv = path("sample.mkv")
        try EndToEnd.makeSample(at: mkv, frames: 5)
        let full = try XCTUnwrap(bytes(mkv))
        let cluster = try XCTUnwrap(full.range(of: Data([0x1F, 0x43, 0xB6, 0x75])), "a Matroska cluster")
        let cut = path("cut.mkv")
        try full.prefix(cluster.lowerBound + 60).write(to: URL(fileURLWithPath: cut))
        try FileManager.default.removeItem(atPath: mkv)
        let r = try EndToEnd.run(["annotate", cut, "-o", path("out.mp4"), "--csv", path("out.csv"), "-q"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("no frame could be read"), r.stderr)
        XCTAssertFalse(r.stderr.contains("after frame #0"), "no frame was read, so none is named: \(r.stderr)")
        XCTAssertEqual(try names(), ["sample.mp4", "cut.mkv"], "no empty output left behind")
    }

    func testDetectRefusesAnExistingFileWithoutOverwrite() throws {
        let out = path("faces.jsonl")
        XCTAssertEqual(try EndToEnd.run(["detect", sample, "--jsonl", out, "--max-frames", "2"]).status, 0)
        let earlier = bytes(out)
        XCTAssertEqual(String(decoding: earlier ?? Data(), as: UTF8.self).split(separator: "\n").count, 2)
        assertOneLineError(try EndToEnd.run(["detect", sample, "--jsonl", out]), mentions: "already exists")
        XCTAssertEqual(bytes(out), earlier)
        assertOneLineError(try EndToEnd.run(["detect", sample, "--jsonl", sample, "-y"]), mentions: "is the input")
    }

    /// The temporary name keeps the folder and the extension (FFmpeg picks the container by it).
    func testTemporaryNameSitsBesideTheOutput() {
        let f = OutputFile("/some/folder/talk.mp4")
        XCTAssertTrue(f.isStaged)
        XCTAssertTrue(f.writePath.hasPrefix("/some/folder/.talk."), f.writePath)
        XCTAssertTrue(f.writePath.hasSuffix(".part.mp4"), f.writePath)
        XCTAssertFalse(OutputFile("-").isStaged)
        XCTAssertFalse(OutputFile("/dev/null").isStaged, "a device is written in place")
    }
}
