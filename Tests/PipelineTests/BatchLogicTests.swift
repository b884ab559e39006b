import Foundation
import XCTest
@testable import Pipeline

/// The batch command's decisions without the executable: which inputs, in which order, under
/// which names, in which shard, skipped or run, and what the summary says.
final class BatchDiscoveryTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws { dir = try EndToEnd.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func touch(_ relative: String, _ text: String = "x") throws {
        let url = dir.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func testFoldersGiveMediaFilesSortedSkippingHiddenAndTheOutputFolder() throws {
        for name in ["in/b.mp4", "in/a/x.MOV", "in/a/y.jpg", "in/a/.hidden.mp4", "in/.cache/z.mp4",
                     "in/a/.y.123.part.csv", "in/notes.txt", "in/out/result.mp4", "in/a/z.webm"] {
            try touch(name)
        }
        let cwd = dir.path
        let found = try InputDiscovery(workingDirectory: cwd, excluded: ["in/out"]).inputs(arguments: ["in"])
        XCTAssertEqual(found.map(\.name), ["a/x.MOV", "a/y.jpg", "a/z.webm", "b.mp4"])
        XCTAssertEqual(found.map(\.source), ["\(cwd)/in/a/x.MOV", "\(cwd)/in/a/y.jpg", "\(cwd)/in/a/z.webm", "\(cwd)/in/b.mp4"])
    }

    func testFilesListsAndURLsTogetherOnceEach() throws {
        try touch("clips/c.mp4")
        try touch("clips/d.txt")
        try touch("list.txt", """
            # interviews
            clips/c.mp4

              https://example.org/v/talk.mp4?token=1
            missing/gone.mp4
            """)
        let cwd = dir.path
        let found = try InputDiscovery(workingDirectory: cwd)
            .inputs(arguments: ["./clips/c.mp4", "clips/d.txt", "\(cwd)/clips/c.mp4"], lists: ["list.txt"])
        // A file named on the command line is taken whatever its extension; a missing one is
        // kept so that it is recorded as failed; the same file under two spellings comes once.
        XCTAssertEqual(found.map(\.source), ["\(cwd)/clips/c.mp4", "\(cwd)/clips/d.txt", "\(cwd)/missing/gone.mp4",
                                             "https://example.org/v/talk.mp4?token=1"])
        XCTAssertEqual(found.map(\.name), ["clips/c.mp4", "clips/d.txt", "missing/gone.mp4", "example.org/v/talk.mp4"])
    }

    func testUnreadableListIsOneError() throws {
        XCTAssertThrowsError(try InputDiscovery(workingDirectory: dir.path).inputs(arguments: [], lists: ["nope.txt"])) { error in
            XCTAssertTrue(String(describing: error).hasPrefix("cannot read the list nope.txt"), "\(error)")
        }
    }

    func testNamesOfFilesKeepRelativePathsOnly() {
        XCTAssertEqual(InputDiscovery.name(forFile: "clips/2019/a.mp4"), "clips/2019/a.mp4")
        XCTAssertEqual(InputDiscovery.name(forFile: "./a.mp4"), "a.mp4")
        XCTAssertEqual(InputDiscovery.name(forFile: "../other/a.mp4"), "a.mp4")
        XCTAssertEqual(InputDiscovery.name(forFile: "/data/a.mp4"), "a.mp4")
        XCTAssertEqual(InputDiscovery.name(forURL: "rtsp://cam.local:554/"), "cam.local")
    }
}

final class BatchLayoutTests: XCTestCase {
    private func input(_ source: String, _ name: String) -> BatchInput { BatchInput(source: source, name: name) }

    func testOutputsMirrorTheNameWithASuffixPerKind() {
        let items = BatchLayout.items([input("/d/sub/a.mp4", "sub/a.mp4"), input("/d/p.JPEG", "p.JPEG"), input("/d/q.png", "q.png")],
                                      kinds: BatchOutputKinds(video: true, csv: true, jsonl: true))
        XCTAssertEqual(items[0].outputs, BatchOutputs(video: "sub/a.mp4.annotated.mp4", csv: "sub/a.mp4.csv", jsonl: "sub/a.mp4.jsonl"))
        XCTAssertEqual(items[1].outputs.video, "p.JPEG.annotated.jpg")
        XCTAssertEqual(items[2].outputs.video, "q.png.annotated.png")
        XCTAssertEqual(BatchLayout.items([input("/d/a.mp4", "a.mp4")], kinds: BatchOutputKinds(csv: true))[0].outputs,
                       BatchOutputs(csv: "a.mp4.csv"))
    }

    func testSameNameFromTwoFoldersGetsANumberNotTakenByAnotherInput() {
        let inputs = [input("/x/a.mp4", "a.mp4"), input("/y/a-2.mp4", "a-2.mp4"), input("/y/a.mp4", "a.mp4"), input("/z/a.mp4", "a.mp4")]
        let csvs = BatchLayout.items(inputs, kinds: BatchOutputKinds(csv: true)).map(\.outputs.csv)
        XCTAssertEqual(csvs, ["a.mp4.csv", "a-2.mp4.csv", "a-3.mp4.csv", "a-4.mp4.csv"])
        XCTAssertEqual(BatchLayout.items(inputs, kinds: BatchOutputKinds()).map(\.name), ["a.mp4", "a-2.mp4", "a-3.mp4", "a-4.mp4"])
        XCTAssertEqual(Set(csvs).count, csvs.count)
    }

    func testNoOutputTakesTheRecordOrSummaryName() {
        let inputs = [input("/d/summary", "summary"), input("/d/batch", "batch"), input("/d/batch-shard-0-of-2", "batch-shard-0-of-2")]
        let items = BatchLayout.items(inputs, kinds: BatchOutputKinds(csv: true, jsonl: true))
        XCTAssertEqual(items.map(\.outputs.csv), ["summary-2.csv", "batch-2.csv", "batch-shard-0-of-2-2.csv"])
        XCTAssertEqual(items.map(\.outputs.jsonl), ["summary-2.jsonl", "batch-2.jsonl", "batch-shard-0-of-2-2.jsonl"])
    }
}

final class BatchShardTests: XCTestCase {
    func testShardsCoverEveryInputExactlyOnce() throws {
        let inputs = Array(0..<13)
        for n in 1...5 {
            let parts = try (0..<n).map { try Shard(index: $0, count: n).select(inputs) }
            XCTAssertEqual(parts.flatMap { $0 }.sorted(), inputs, "\(n) shards")
            XCTAssertLessThanOrEqual(parts.map(\.count).max()! - parts.map(\.count).min()!, 1, "balanced for \(n)")
        }
        XCTAssertEqual(try Shard(parsing: "1/4").select(inputs), [1, 5, 9])
    }

    func testFlagIsParsedAndChecked() {
        XCTAssertEqual(try Shard(parsing: "2/3"), try Shard(index: 2, count: 3))
        for bad in ["3/3", "-1/3", "1", "a/b", "1/0", "1/2/3"] {
            XCTAssertThrowsError(try Shard(parsing: bad), bad)
        }
    }

    func testShardFromSlurmArrayVariables() throws {
        // --array=0-3: the ID and the COUNT.
        XCTAssertEqual(try Shard.resolve(flag: nil, shards: nil, environment: ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4"]),
                       try Shard(index: 2, count: 4))
        // --array=1-4: counted from MIN.
        XCTAssertEqual(try Shard.resolve(flag: nil, shards: nil, environment: ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "4"]),
                       try Shard(index: 0, count: 4))
        // --array=10-40:10 (10, 20, 30, 40).
        XCTAssertEqual(try Shard.resolve(flag: nil, shards: nil, environment: ["SLURM_ARRAY_TASK_ID": "30", "SLURM_ARRAY_TASK_MIN": "10",
                                                                               "SLURM_ARRAY_TASK_MAX": "40", "SLURM_ARRAY_TASK_STEP": "10"]),
                       try Shard(index: 2, count: 4))
        XCTAssertThrowsError(try Shard.resolve(flag: nil, shards: nil, environment: ["SLURM_ARRAY_TASK_ID": "1"]))
        XCTAssertThrowsError(try Shard.resolve(flag: nil, shards: nil, environment: ["SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "4"]))
        XCTAssertThrowsError(try Shard.resolve(flag: nil, shards: nil, environment: ["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4"]))
    }

    func testShardFromKubernetesIndexAndPrecedence() throws {
        XCTAssertEqual(try Shard.resolve(flag: nil, shards: 5, environment: ["JOB_COMPLETION_INDEX": "4"]), try Shard(index: 4, count: 5))
        XCTAssertThrowsError(try Shard.resolve(flag: nil, shards: nil, environment: ["JOB_COMPLETION_INDEX": "0"])) { error in
            XCTAssertEqual(error as? BatchError, .shardsNeeded(variable: "JOB_COMPLETION_INDEX"))
        }
        XCTAssertEqual(try Shard.resolve(flag: "0/2", shards: nil, environment: ["JOB_COMPLETION_INDEX": "1", "SLURM_ARRAY_TASK_ID": "3"]),
                       try Shard(index: 0, count: 2))
        XCTAssertNil(try Shard.resolve(flag: nil, shards: nil, environment: ["SLURM_ARRAY_TASK_ID": "", "PATH": "/bin"]))
        XCTAssertThrowsError(try Shard.resolve(flag: nil, shards: 3, environment: [:]))
    }
}

final class BatchResumeTests: XCTestCase {
    private let item = BatchItem(input: BatchInput(source: "/d/a.mp4", name: "a.mp4"),
                                 outputs: BatchOutputs(csv: "a.mp4.csv", jsonl: "a.mp4.jsonl"))
    private let stamp = FileStamp(size: 1000, mtime: 1_700_000_000.123456)

    private func record(_ status: BatchRecord.Status, stamp: FileStamp? = nil, outputs: BatchOutputs? = nil) -> BatchRecord {
        BatchRecord(input: "/d/a.mp4", name: "a.mp4", stamp: stamp ?? self.stamp,
                    outputs: outputs ?? item.outputs, status: status)
    }

    private func decide(_ latest: BatchRecord?, stamp: FileStamp? = nil, force: Bool = false,
                        present: Set<String> = ["a.mp4.csv", "a.mp4.jsonl"], item: BatchItem? = nil) -> ResumeDecision {
        ResumeDecision.decide(item: item ?? self.item, stamp: stamp ?? self.stamp, latest: latest, force: force,
                              exists: { present.contains($0) })
    }

    func testDoneInputIsSkipped() {
        XCTAssertEqual(decide(record(.ok)), .skip)
    }

    func testAnythingElseRunsAgain() {
        XCTAssertEqual(decide(nil), .run(.new))
        XCTAssertEqual(decide(record(.failed)), .run(.failed))
        XCTAssertEqual(decide(record(.stopped)), .run(.stopped))
        XCTAssertEqual(decide(record(.ok), force: true), .run(.forced))
        XCTAssertEqual(decide(record(.ok), stamp: FileStamp(size: 1001, mtime: stamp.mtime)), .run(.changed))
        XCTAssertEqual(decide(record(.ok), stamp: FileStamp(size: 1000, mtime: stamp.mtime + 1)), .run(.changed))
        XCTAssertEqual(decide(record(.ok), present: ["a.mp4.csv"]), .run(.outputsMissing))
        // Asked for a video now that the earlier run did not write.
        var more = item
        more.outputs.video = "a.mp4.annotated.mp4"
        XCTAssertEqual(decide(record(.ok), present: ["a.mp4.csv", "a.mp4.jsonl", "a.mp4.annotated.mp4"], item: more), .run(.outputsMissing))
    }

    func testFewerOutputsThanBeforeStillSkips() {
        var fewer = item
        fewer.outputs.jsonl = nil
        XCTAssertEqual(decide(record(.ok), item: fewer), .skip)
    }

    func testStampSurvivesTheRecordFile() throws {
        let dir = try EndToEnd.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("a.mp4").path
        try Data(count: 12345).write(to: URL(fileURLWithPath: file))
        let real = try XCTUnwrap(FileStamp(path: file))
        XCTAssertEqual(real.size, 12345)
        let store = RecordStore(folder: dir.path)
        try store.append(BatchRecord(input: file, name: "a.mp4", stamp: real, outputs: BatchOutputs(), status: .ok), to: "batch.jsonl")
        let back = try XCTUnwrap(store.readAll().records.first?.stamp)
        XCTAssertTrue(back.matches(real), "\(back) vs \(real)")
    }
}

final class BatchRecordTests: XCTestCase {
    func testRecordFilesAreFoundAndTornLinesSkipped() throws {
        let dir = try EndToEnd.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = RecordStore(folder: dir.path)
        let a = BatchRecord(input: "/a", name: "a", stamp: nil, outputs: BatchOutputs(csv: "a.csv"), status: .ok, frames: 3, finished: 10)
        let b = BatchRecord(input: "/b", name: "b", stamp: nil, outputs: BatchOutputs(), status: .failed, reason: "broken", finished: 11)
        try store.append(a, to: "batch-shard-0-of-2.jsonl")
        try store.append(b, to: "batch-shard-1-of-2.jsonl")
        let torn = try FileHandle(forWritingTo: dir.appendingPathComponent("batch-shard-1-of-2.jsonl"))
        torn.seekToEndOfFile()
        torn.write(Data("{\"input\":\"/c\",\"na".utf8))
        try torn.close()
        try Data("not a record\n".utf8).write(to: dir.appendingPathComponent("batch-shard-x-of-2.jsonl"))
        XCTAssertEqual(store.files(), ["batch-shard-0-of-2.jsonl", "batch-shard-1-of-2.jsonl"])
        let (records, skipped) = store.readAll()
        XCTAssertEqual(records, [a, b])
        XCTAssertEqual(skipped, 1)
    }

    func testLatestRecordWins() {
        let old = BatchRecord(input: "/a", name: "a", stamp: nil, outputs: BatchOutputs(), status: .failed, finished: 20)
        let new = BatchRecord(input: "/a", name: "a", stamp: nil, outputs: BatchOutputs(), status: .ok, finished: 30)
        XCTAssertEqual(RecordStore.latest([new, old])["/a"]?.status, .ok)
        XCTAssertEqual(RecordStore.latest([old, new])["/a"]?.status, .ok)
    }
}

final class BatchSummaryTests: XCTestCase {
    func testOneRowPerInputWithShares() throws {
        // 8 faces: 6 happy, 2 neutral.
        let a = BatchRecord(input: "/v/b.mp4", name: "b.mp4", stamp: nil, outputs: BatchOutputs(), status: .ok, frames: 10,
                            faces: 8, framesWithFaces: 7, duration: 0.4, emotionCounts: [0, 0, 0, 6, 0, 0, 2], finished: 5)
        let earlier = BatchRecord(input: "/v/a, b.mp4", name: "a, b.mp4", stamp: nil, outputs: BatchOutputs(), status: .ok, frames: 99, finished: 1)
        let failed = BatchRecord(input: "/v/a, b.mp4", name: "a, b.mp4", stamp: nil, outputs: BatchOutputs(), status: .failed,
                                 reason: "cannot open: \"bad\"", finished: 2)
        let lines = BatchSummary.csv([a, earlier, failed]).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines, [
            "input,name,status,frames,duration_s,faces,frames_with_faces,angry,disgust,fear,happy,sad,surprise,neutral,reason",
            "\"/v/a, b.mp4\",\"a, b.mp4\",failed,0,0.000,0,0,0.0000,0.0000,0.0000,0.0000,0.0000,0.0000,0.0000,\"cannot open: \"\"bad\"\"\"",
            "/v/b.mp4,b.mp4,ok,10,0.400,8,7,0.0000,0.0000,0.0000,0.7500,0.0000,0.0000,0.2500,",
        ])
    }

    func testSummarizeWithoutRecordsIsAnError() throws {
        let dir = try EndToEnd.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertThrowsError(try BatchSummary.write(folder: dir.path)) { error in
            XCTAssertEqual(error as? BatchError, .noRecords(folder: dir.path))
        }
    }
}
