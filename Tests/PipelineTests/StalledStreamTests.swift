import Foundation
import XCTest

/// A network stream that stalls: the run ends with an error after `--stream-timeout`, naming the
/// input, and keeps a playable video and a complete CSV of what it read. The server is a few
/// lines of Python on loopback that sends half a Matroska file and then goes silent.
final class StalledStreamTests: XCTestCase {
    private var dir: URL!
    private var server: Process?

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { throw XCTSkip("no /usr/bin/python3 for the test server") }
        dir = try EndToEnd.temporaryFolder()
    }

    override func tearDownWithError() throws {
        server?.terminate()
        server?.waitUntilExit()
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    private static let script = """
        import socket, sys, time
        data = open(sys.argv[1], 'rb').read()
        srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(('127.0.0.1', 0)); srv.listen(4)
        print(srv.getsockname()[1], flush=True)
        while True:
            c, _ = srv.accept()
            c.recv(65536)
            c.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Type: video/x-matroska\\r\\n\\r\\n" + data[:len(data) // 2])
            time.sleep(120)
        """

    func testStalledStreamFailsAfterTheTimeoutAndKeepsWhatWasRead() throws {
        let clip = dir.appendingPathComponent("clip.mkv").path
        try EndToEnd.makeSample(at: clip, frames: 60)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", Self.script, clip]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        server = p
        let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        let port = try XCTUnwrap(Int(line.trimmingCharacters(in: .whitespacesAndNewlines)), "server port: \(line)")
        let url = "http://127.0.0.1:\(port)/clip.mkv"
        let video = dir.appendingPathComponent("out.mp4").path, csv = dir.appendingPathComponent("out.csv").path
        let start = Date()
        let r = try EndToEnd.run(["annotate", url, "-o", video, "--csv", csv, "-q", "--stream-timeout", "1"])
        XCTAssertLessThan(Date().timeIntervalSince(start), 30, "the stall ends the run, no hang")
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains(url) && r.stderr.contains("stream stopped"), r.stderr)
        let (_, frames) = try EndToEnd.decodeAll(video)
        XCTAssertGreaterThan(frames, 0, "the frames read before the stall are in a playable video")
        XCTAssertLessThan(frames, 60)
        let rows = try EndToEnd.readCSV(csv)
        XCTAssertEqual(rows.count - 1, frames, "one face per frame in the CSV, as in the video")
    }
}
