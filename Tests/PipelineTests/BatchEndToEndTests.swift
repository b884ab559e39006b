import Foundation
import XCTest

/// `fer-live batch` as a user runs it: a folder with a broken file, a rerun that skips what is
/// done, an interrupted run that resumes, and shards that together cover every input once.
final class BatchEndToEndTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws { dir = try EndToEnd.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func path(_ relative: String) -> String { dir.appendingPathComponent(relative).path }

    private func sample(_ relative: String, frames: Int = 8) throws {
        try FileManager.default.createDirectory(atPath: (path(relative) as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try EndToEnd.makeSample(at: path(relative), frames: frames)
    }

    /// Runs `batch` with no shard variables from this process's environment (a test run inside
    /// a Slurm job would otherwise become one shard).
    private func batch(_ arguments: [String], environment: [String: String] = [:]) throws -> EndToEnd.Result {
        let cleared = ["SLURM_ARRAY_TASK_ID": "", "SLURM_ARRAY_TASK_COUNT": "", "SLURM_ARRAY_TASK_MIN": "",
                       "SLURM_ARRAY_TASK_MAX": "", "SLURM_ARRAY_TASK_STEP": "", "JOB_COMPLETION_INDEX": ""]
        return try EndToEnd.run(["batch"] + arguments, environment: cleared.merging(environment) { $1 })
    }

    /// Every record in the output folder's record files, as JSON objects.
    private func records(_ folder: String, file: String? = nil) throws -> [[String: Any]] {
        let names = try file.map { [$0] } ?? FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".jsonl") && $0.hasPrefix("batch") }
        return try names.sorted().flatMap { name -> [[String: Any]] in
            let text = try String(contentsOfFile: (folder as NSString).appendingPathComponent(name), encoding: .utf8)
            return try text.split(separator: "\n").map {
                try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
        }
    }

    private func summary(_ folder: String) throws -> [String: [String: String]] {
        let rows = try EndToEnd.readCSV((folder as NSString).appendingPathComponent("summary.csv"))
        let header = try XCTUnwrap(rows.first)
        XCTAssertEqual(Array(header.prefix(7)), ["input", "name", "status", "frames", "duration_s", "faces", "frames_with_faces"])
        var byName: [String: [String: String]] = [:]
        for row in rows.dropFirst() { byName[row[1]] = Dictionary(uniqueKeysWithValues: zip(header, row)) }
        XCTAssertEqual(byName.count, rows.count - 1, "one row per input")
        return byName
    }

    private func leftovers(_ folder: String) -> [String] {
        let all = FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []
        return all.filter { $0.contains(".part") }
    }

    func testFolderWithABrokenFileAndARerunThatSkips() throws {
        try sample("in/a.mp4")
        try sample("in/sub/b.mp4", frames: 10)
        try Data("not a video".utf8).write(to: URL(fileURLWithPath: path("in/sub/broken.mp4")))
        try Data("notes".utf8).write(to: URL(fileURLWithPath: path("in/notes.txt")))
        try Data("\(path("in/missing.mp4"))\n".utf8).write(to: URL(fileURLWithPath: path("list.txt")))
        let out = path("out")

        let first = try batch([path("in"), "--list", path("list.txt"), "--out", out, "--csv", "-q"])
        XCTAssertEqual(first.status, 1, "a failed input makes the exit status 1: \(first.stderr)")
        XCTAssertTrue(first.stderr.contains("sub/broken.mp4 failed"), first.stderr)
        XCTAssertTrue(first.stderr.contains("missing.mp4 failed"), first.stderr)
        let byName = try summary(out)
        XCTAssertEqual(Set(byName.keys), ["a.mp4", "sub/b.mp4", "sub/broken.mp4", "missing.mp4"], "notes.txt is no video")
        XCTAssertEqual(byName["a.mp4"]?["status"], "ok")
        XCTAssertEqual(byName["a.mp4"]?["frames"], "8")
        XCTAssertEqual(byName["a.mp4"]?["duration_s"], "0.320", "8 frames at 25 fps")
        XCTAssertEqual(byName["sub/b.mp4"]?["frames"], "10")
        XCTAssertEqual(byName["sub/b.mp4"]?["frames_with_faces"], "10", "the astronaut is in every frame")
        let shares = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"].compactMap { byName["sub/b.mp4"]?[$0].flatMap(Double.init) }
        XCTAssertEqual(shares.count, 7)
        XCTAssertEqual(shares.reduce(0, +), 1, accuracy: 0.001, "the shares of one face per frame add up to 1")
        XCTAssertEqual(byName["sub/broken.mp4"]?["status"], "failed")
        XCTAssertFalse(byName["sub/broken.mp4"]?["reason"]?.isEmpty ?? true)
        XCTAssertEqual(byName["missing.mp4"]?["status"], "failed")
        // The outputs mirror the folder; one CSV row per face per frame after the header.
        XCTAssertEqual(try EndToEnd.readCSV(path("out/sub/b.mp4.csv")).count, 11)
        XCTAssertEqual(try EndToEnd.readCSV(path("out/a.mp4.csv")).count, 9)
        XCTAssertEqual(try EndToEnd.readCSV(path("out/a.mp4.csv")).first?.joined(separator: ","), EndToEnd.header + ",lm0_x,lm0_y,lm1_x,lm1_y,lm2_x,lm2_y,lm3_x,lm3_y,lm4_x,lm4_y")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("out/sub/broken.mp4.csv")))
        XCTAssertEqual(try records(out).count, 4)

        // A rerun skips what is done and tries the failed ones again.
        let csvBefore = try FileManager.default.attributesOfItem(atPath: path("out/a.mp4.csv"))[.modificationDate] as? Date
        let second = try batch([path("in"), "--list", path("list.txt"), "--out", out, "--csv", "-q"])
        XCTAssertEqual(second.status, 1)
        let rerun = try records(out).dropFirst(4)
        XCTAssertEqual(Set(rerun.compactMap { $0["name"] as? String }), ["sub/broken.mp4", "missing.mp4"])
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: path("out/a.mp4.csv"))[.modificationDate] as? Date, csvBefore)

        // A changed input is done again; a fixed one too; --force redoes everything.
        try sample("in/a.mp4", frames: 12)
        try FileManager.default.removeItem(atPath: path("in/sub/broken.mp4"))
        try FileManager.default.removeItem(atPath: path("list.txt"))
        let third = try batch([path("in"), "--out", out, "--csv", "-q"])
        XCTAssertEqual(third.status, 0, third.stderr)
        XCTAssertEqual(try records(out).dropFirst(6).compactMap { $0["name"] as? String }, ["a.mp4"])
        XCTAssertEqual(try summary(out)["a.mp4"]?["frames"], "12")
        XCTAssertEqual(try EndToEnd.readCSV(path("out/a.mp4.csv")).count, 13)
        let forced = try batch([path("in"), "--out", out, "--csv", "-q", "--force"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertEqual(try records(out).dropFirst(7).compactMap { $0["name"] as? String }, ["a.mp4", "sub/b.mp4"])
        XCTAssertEqual(leftovers(out), [], "no temporary file left")
    }

    func testAnExistingFileNoRecordClaimsIsNotReplaced() throws {
        try sample("in/a.mp4")
        try FileManager.default.createDirectory(atPath: path("out"), withIntermediateDirectories: true)
        try Data("someone else's\n".utf8).write(to: URL(fileURLWithPath: path("out/a.mp4.csv")))
        let r = try batch([path("in"), "--out", path("out"), "--csv", "-q"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("already exists"), r.stderr)
        XCTAssertEqual(try String(contentsOfFile: path("out/a.mp4.csv"), encoding: .utf8), "someone else's\n")
        XCTAssertEqual(try batch([path("in"), "--out", path("out"), "--csv", "-q", "-y"]).status, 0)
        XCTAssertEqual(try EndToEnd.readCSV(path("out/a.mp4.csv")).count, 9)
    }

    func testInterruptedRunFinishesTheCurrentInputAndResumes() throws {
        for name in ["a.mp4", "b.mp4", "c.mp4"] { try sample("in/\(name)", frames: 60) }
        let out = path("out")
        let cleared = ["SLURM_ARRAY_TASK_ID": "", "JOB_COMPLETION_INDEX": ""]
        // The full detector on every frame: the slowest path, so the run is still going.
        let (process, _, err) = try EndToEnd.start(["batch", path("in"), "--out", out, "--csv", "-q", "--detect-every", "1"],
                                                   environment: cleared)
        // Wait until b.mp4 is being written (rows in its temporary CSV beside out/b.mp4.csv), so
        // the signal comes in the middle of an input, not between two.
        EndToEnd.waitForStagedRows((out as NSString).appendingPathComponent("b.mp4.csv"), moreThan: 5, while: process)
        XCTAssertTrue(process.isRunning, "the batch ended before it could be interrupted: make the inputs longer")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 130, stderr)

        let stopped = try records(out)
        XCTAssertEqual(stopped.first?["name"] as? String, "a.mp4")
        XCTAssertEqual(stopped.first?["status"] as? String, "ok")
        // The signal came while b.mp4 was being processed: it was finished as annotate does (its
        // CSV whole up to where it stopped), recorded as stopped, and no input started after it.
        XCTAssertEqual(stopped.count, 2, "\(stopped)")
        XCTAssertEqual(stopped.last?["name"] as? String, "b.mp4")
        XCTAssertEqual(stopped.last?["status"] as? String, "stopped")
        let partial = try EndToEnd.readCSV(path("out/b.mp4.csv"))
        XCTAssertEqual(partial.count - 1, stopped.last?["faces"] as? Int)
        XCTAssertLessThan(partial.count - 1, 60)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("out/c.mp4.csv")))
        XCTAssertEqual(leftovers(out), [])

        let resumed = try batch([path("in"), "--out", out, "--csv", "-q"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try records(out).dropFirst(stopped.count).compactMap { $0["name"] as? String }, ["b.mp4", "c.mp4"],
                       "a.mp4 is not done again")
        let byName = try summary(out)
        XCTAssertEqual(byName.mapValues { $0["status"] }, ["a.mp4": "ok", "b.mp4": "ok", "c.mp4": "ok"])
        XCTAssertEqual(byName.mapValues { $0["frames"] }, ["a.mp4": "60", "b.mp4": "60", "c.mp4": "60"])
        XCTAssertEqual(try EndToEnd.readCSV(path("out/b.mp4.csv")).count, 61)
    }

    func testShardsCoverEveryInputExactlyOnce() throws {
        // Two folders, one file name in both: the second gets a number, not the first's outputs.
        for name in ["x/a.mp4", "x/b.mp4", "x/c.mp4", "y/a.mp4", "y/d.mp4"] { try sample(name) }
        let out = path("out")
        let inputs = [path("x"), path("y")]
        let shard0 = try batch(inputs + ["--out", out, "--csv", "-q", "--shard", "0/3"])
        // Slurm: --array=1-3, task 2 is the second shard.
        let shard1 = try batch(inputs + ["--out", out, "--csv", "-q"],
                               environment: ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "3"])
        // Kubernetes: an indexed Job of three completions, index 2.
        let shard2 = try batch(inputs + ["--out", out, "--csv", "-q", "--shards", "3"], environment: ["JOB_COMPLETION_INDEX": "2"])
        for r in [shard0, shard1, shard2] { XCTAssertEqual(r.status, 0, r.stderr) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("out/summary.csv")), "shards leave the summary to --summarize")

        let counts = try (0..<3).map { try records(out, file: "batch-shard-\($0)-of-3.jsonl").count }
        XCTAssertEqual(counts, [2, 2, 1])
        let all = try records(out)
        XCTAssertEqual(all.compactMap { $0["input"] as? String }.sorted(),
                       ["x/a.mp4", "x/b.mp4", "x/c.mp4", "y/a.mp4", "y/d.mp4"].map(path), "every input exactly once")
        XCTAssertEqual(Set(all.compactMap { ($0["outputs"] as? [String: String])?["csv"] }),
                       ["a.mp4.csv", "a-2.mp4.csv", "b.mp4.csv", "c.mp4.csv", "d.mp4.csv"])

        let summarized = try batch(["--summarize", out, "-q"])
        XCTAssertEqual(summarized.status, 0, summarized.stderr)
        let byName = try summary(out)
        XCTAssertEqual(Set(byName.keys), ["a.mp4", "a-2.mp4", "b.mp4", "c.mp4", "d.mp4"])
        XCTAssertEqual(byName["a-2.mp4"]?["input"], path("y/a.mp4"))
        XCTAssertTrue(byName.values.allSatisfy { $0["status"] == "ok" && $0["frames"] == "8" })
        // A shard run again finds its inputs done, also under another shard count.
        let again = try batch(inputs + ["--out", out, "--csv", "--shard", "1/2"])
        XCTAssertEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("0 done, 0 failed, 2 already done"), again.stderr)
    }

    func testAFolderWithoutMediaGivesAnEmptySummary() throws {
        try FileManager.default.createDirectory(atPath: path("in"), withIntermediateDirectories: true)
        try Data("notes".utf8).write(to: URL(fileURLWithPath: path("in/notes.txt")))
        let r = try batch([path("in"), "--out", path("out"), "--csv"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("no inputs found"), r.stderr)
        XCTAssertEqual(try EndToEnd.readCSV(path("out/summary.csv")).count, 1, "the header alone")
        // --summarize on a folder no batch wrote is an error, not an empty summary.
        let s = try batch(["--summarize", path("in")])
        XCTAssertEqual(s.status, 1)
        XCTAssertTrue(s.stderr.contains("holds no batch record file"), s.stderr)
    }

    func testBadShardIsRefusedBeforeAnyWork() throws {
        try sample("in/a.mp4")
        // A malformed option is a usage error, as for every command.
        let r = try batch([path("in"), "--out", path("out"), "--shard", "3/3"])
        XCTAssertEqual(r.status, 64)
        XCTAssertTrue(r.stderr.contains("outside 0...2"), r.stderr)
        // A scheduler variable that makes no shard: one line, exit 1, nothing written.
        let s = try batch([path("in"), "--out", path("out")], environment: ["SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_COUNT": "4"])
        XCTAssertEqual(s.status, 1)
        XCTAssertEqual(s.stderr.split(separator: "\n").count, 1, s.stderr)
        XCTAssertTrue(s.stderr.contains("outside 0...3"), s.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("out")))
        let k = try batch([path("in"), "--out", path("out")], environment: ["JOB_COMPLETION_INDEX": "0"])
        XCTAssertEqual(k.status, 1)
        XCTAssertTrue(k.stderr.contains("--shards"), k.stderr)
    }
}
