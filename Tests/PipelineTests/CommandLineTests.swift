import Foundation
import XCTest

/// One command line: the same options and rules in every command, results alone on standard
/// output, exit statuses as shells expect. Against the built executable.
final class CommandLineTests: XCTestCase {
    private var dir: URL!
    private var sample = ""

    override func setUpWithError() throws {
        dir = try EndToEnd.temporaryFolder()
        sample = dir.appendingPathComponent("sample.mp4").path
        try EndToEnd.makeSample(at: sample, frames: 10)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func testThresholdsAreValidatedTheSameWayInDetectAndLog() throws {
        for command in ["detect", "log", "annotate"] {
            var args = [command, sample, "--thresholds", "5,5,5"]
            if command == "annotate" { args += ["-o", dir.appendingPathComponent("x.mp4").path] }
            let r = try EndToEnd.run(args)
            XCTAssertEqual(r.status, 64, "\(command): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("--thresholds takes three numbers between 0 and 1"), "\(command): \(r.stderr)")
        }
    }

    func testVersion() throws {
        let r = try EndToEnd.run(["--version"])
        XCTAssertEqual(r.status, 0)
        XCTAssertNotNil(r.stdout.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression), r.stdout)
    }

    func testJSONLinesCarryEveryFrameAndOnlyJSONGoesToStandardOutput() throws {
        for command in [["log", sample], ["live", "--input", sample]] {
            let r = try EndToEnd.run(command + ["--jsonl", "-", "--quiet", "--detect-every", "1"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let lines = r.stdout.split(separator: "\n")
            if command[0] == "log" { XCTAssertEqual(lines.count, 10, "one line per frame") }
            XCTAssertGreaterThan(lines.count, 0)
            for line in lines {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                XCTAssertNotNil(object?["faces"] as? [Any], "\(command[0]): \(line)")
            }
        }
    }

    func testLiveCSVOnStandardOutputIsNotMixedWithTheTextLog() throws {
        let r = try EndToEnd.run(["live", "--input", sample, "--csv", "-", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.first?.hasPrefix(EndToEnd.header) ?? false, r.stdout)
        XCTAssertTrue(lines.dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 26 },
                      "only CSV rows: \(r.stdout)")
        let both = try EndToEnd.run(["live", "--input", sample, "--csv", "-", "--jsonl", "-"])
        XCTAssertEqual(both.status, 64, both.stderr)
    }

    func testSummaryCountsInWords() throws {
        let r = try EndToEnd.run(["log", sample, "--csv", dir.appendingPathComponent("one.csv").path, "--max-frames", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains(": 1 frame, 1 face in 1 frame, "), r.stderr)
    }

    func testSIGTERMExits143WithValidOutputs() throws {
        let video = dir.appendingPathComponent("term.mp4").path, csv = dir.appendingPathComponent("term.csv").path
        let long = dir.appendingPathComponent("long.mp4").path
        try EndToEnd.makeSample(at: long, frames: 400)
        XCTAssertEqual(try EndToEnd.annotateAndInterrupt([long, "-o", video], csv: csv, signal: SIGTERM), 143)
        let (_, frames) = try EndToEnd.decodeAll(video)
        XCTAssertGreaterThan(frames, 0, "the video kept what was done")
        XCTAssertGreaterThan(try EndToEnd.readCSV(csv).count, 10)
    }

    func testEvalTakesFilesWithoutOrWithOtherUsageValues() throws {
        let px = (0..<2304).map { String(($0 * 13) % 256) }.joined(separator: " ")
        let plain = dir.appendingPathComponent("plain.csv")
        try "emotion,pixels\n3,\(px)\n0,\(px)\n6,\(px)\n".write(to: plain, atomically: true, encoding: .utf8)
        let r = try EndToEnd.run(["eval", plain.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("3"), r.stdout)
        let own = dir.appendingPathComponent("own.csv")
        try "emotion,pixels,Usage\n3,\(px),Holdout\n0,\(px),Holdout\n".write(to: own, atomically: true, encoding: .utf8)
        XCTAssertEqual(try EndToEnd.run(["eval", own.path, "--usage", "Holdout"]).status, 0)
        let missing = try EndToEnd.run(["eval", own.path])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("no rows with Usage PublicTest") && missing.stderr.contains("Holdout 2"), missing.stderr)
    }

    /// A pipe is read once: no second open for the audio takes frames away, and "-" is standard
    /// input (a streamable Matroska file; MP4 needs to seek).
    func testPipesAndStandardInputKeepEveryFrame() throws {
        let mkv = dir.appendingPathComponent("clip.mkv").path
        try EndToEnd.makeSample(at: mkv, frames: 30)
        let fifo = dir.appendingPathComponent("fifo.mkv").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let feeder = Process()
        feeder.executableURL = URL(fileURLWithPath: "/bin/sh")
        feeder.arguments = ["-c", "cat \"$0\" > \"$1\"", mkv, fifo]
        try feeder.run()
        let out = dir.appendingPathComponent("fifo-out.mp4").path
        let r = try EndToEnd.run(["annotate", fifo, "-o", out, "-q"])
        feeder.waitUntilExit()
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try EndToEnd.decodeAll(out).1, 30, "every frame of the pipe")

        let p = Process()
        p.executableURL = try EndToEnd.executable
        p.arguments = ["log", "-", "--csv", "-", "-q", "--detect-every", "1"]
        p.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: mkv))
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        XCTAssertEqual(Set(text.split(separator: "\n").dropFirst().map { $0.split(separator: ",")[0] }).count, 30,
                       "a face in each of the 30 frames read from standard input")
    }
}
