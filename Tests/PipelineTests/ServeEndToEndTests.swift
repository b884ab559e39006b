import Capture
import Foundation
import XCTest

/// `--serve` against the built binary: a live replay with the page's endpoints read over
/// loopback, stalled clients that never read, the client limit, the Host check; and the page
/// in headless Chromium when it is installed.
final class ServeEndToEndTests: XCTestCase {
    /// A running `fer-live … --serve 127.0.0.1:0`, its standard error collected as it comes.
    final class Served {
        let process: Process
        let port: UInt16
        let started: Date
        private let errText = LockedText()

        init(_ arguments: [String]) throws {
            let (process, out, err) = try EndToEnd.start(arguments)
            self.process = process
            started = Date()
            // Drain both pipes so the run can never block on them.
            DispatchQueue.global().async { _ = out.fileHandleForReading.readDataToEndOfFile() }
            let text = errText
            DispatchQueue.global().async {
                while true {
                    let data = err.fileHandleForReading.availableData
                    if data.isEmpty { break }
                    text.append(String(decoding: data, as: UTF8.self))
                }
            }
            let deadline = Date().addingTimeInterval(60)
            var found: UInt16?
            while found == nil && Date() < deadline && process.isRunning {
                if let match = text.value.range(of: #"serving http://127\.0\.0\.1:([0-9]+)/"#, options: .regularExpression) {
                    found = UInt16(text.value[match].split(separator: ":").last?.dropLast() ?? "")
                }
                if found == nil { Thread.sleep(forTimeInterval: 0.02) }
            }
            guard let found else {
                process.terminate()
                throw ServeTestClient.Failure(description: "no 'serving http://127.0.0.1:PORT/' line; stderr: \(text.value)")
            }
            port = found
        }

        var stderr: String { errText.value }
        var host: String { "127.0.0.1:\(port)" }

        /// A plain GET, whole body.
        func get(_ path: String, host: String? = nil) throws -> (status: Int, body: String, headers: [String: String]) {
            let client = try ServeTestClient(port: port)
            try client.get(path, host: host ?? self.host)
            try client.readHead()
            let body = try client.readBody(within: 10)
            return (client.status, String(decoding: body, as: UTF8.self), client.headers)
        }

        func waitForExit(within seconds: Double) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            return !process.isRunning
        }

        deinit { if process.isRunning { process.terminate() } }
    }

    final class LockedText: @unchecked Sendable {
        private let lock = NSLock()
        private var text = ""
        func append(_ more: String) { lock.lock(); text += more; lock.unlock() }
        var value: String { lock.lock(); defer { lock.unlock() }; return text }
    }

    private func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    func testLiveReplayServesStatusEventsAndVideoWhileStalledClientsDoNotSlowIt() throws {
        let folder = try EndToEnd.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let sample = folder.appendingPathComponent("sample.mp4").path
        let seconds = 6.0
        try EndToEnd.makeSample(at: sample, frames: Int(seconds * 25))
        let run = try Served(["live", "--input", sample, "--realtime", "--serve", "127.0.0.1:0"])

        // Clients that ask for the streams and then never read a byte.
        let stalledVideo = try ServeTestClient(port: run.port, receiveBuffer: 4096)
        try stalledVideo.get("/video.mjpg", host: run.host)
        let stalledEvents = try ServeTestClient(port: run.port, receiveBuffer: 4096)
        try stalledEvents.get("/events", host: run.host)

        let status = try run.get("/api/status")
        XCTAssertEqual(status.status, 200)
        XCTAssertEqual(status.headers["content-type"], "application/json")
        let figures = try json(status.body)
        XCTAssertEqual(figures["state"] as? String, "running")
        let source = try XCTUnwrap(figures["source"] as? [String: Any])
        XCTAssertEqual(source["width"] as? Int, 360)
        XCTAssertEqual(source["height"] as? Int, 300)
        XCTAssertEqual(source["kind"] as? String, "live")
        XCTAssertEqual((figures["emotions"] as? [String: Any])?.count, 7)

        // At least 20 events, each a frame in the JSON-lines schema.
        let events = try ServeTestClient(port: run.port)
        try events.get("/events", host: run.host)
        try events.readHead()
        XCTAssertEqual(events.status, 200)
        XCTAssertEqual(events.headers["content-type"], "text/event-stream")
        let text = String(decoding: try events.readBody(within: 15) { body in
            String(decoding: body, as: UTF8.self).components(separatedBy: "\n\n").filter { $0.hasPrefix("data: ") }.count > 20
        }, as: UTF8.self)
        let frames = try text.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: ") }.prefix(20)
            .map { try json(String($0.dropFirst(6))) }
        XCTAssertEqual(frames.count, 20)
        let indices = frames.compactMap { $0["frame"] as? Int }
        XCTAssertEqual(indices.count, 20)
        XCTAssertEqual(indices, indices.sorted(), "events out of order")
        let withFaces = frames.compactMap { $0["faces"] as? [[String: Any]] }.filter { !$0.isEmpty }
        XCTAssertGreaterThanOrEqual(withFaces.count, 15, "the sample's face is in every frame")
        let face = try XCTUnwrap(withFaces.first?.first)
        XCTAssertNotNil(face["face_id"] as? Int)
        XCTAssertEqual((face["probabilities"] as? [String: Double])?.count, 7)
        XCTAssertEqual((face["box"] as? [Double])?.count, 4)

        // At least 5 JPEG frames, decodable, at the source's size.
        let video = try ServeTestClient(port: run.port)
        try video.get("/video.mjpg", host: run.host)
        try video.readHead()
        XCTAssertEqual(video.status, 200)
        let type = try XCTUnwrap(video.headers["content-type"])
        XCTAssertTrue(type.hasPrefix("multipart/x-mixed-replace"), type)
        let boundary = try XCTUnwrap(type.components(separatedBy: "boundary=").last)
        var parts: [MultipartPart] = []
        var delays: [Double] = []
        let videoDeadline = Date().addingTimeInterval(15)
        while parts.count < 5 && Date() < videoDeadline {
            try video.readBody(within: 0.5) { parseParts($0, boundary: boundary).parts.count > 0 }
            let (more, used) = parseParts(video.body, boundary: boundary)
            let now = Date().timeIntervalSince1970
            for part in more { if let at = part.headers["x-captured-at"].flatMap(Double.init) { delays.append(now - at) } }
            parts += more
            video.consumeBody(used)
        }
        XCTAssertGreaterThanOrEqual(parts.count, 5)
        for (i, part) in parts.prefix(5).enumerated() {
            XCTAssertEqual(part.headers["content-type"], "image/jpeg")
            XCTAssertEqual(Array(part.content.prefix(2)), [0xFF, 0xD8], "part \(i) is not a JPEG")
            XCTAssertEqual(Array(part.content.suffix(2)), [0xFF, 0xD9], "part \(i) is cut short")
            let path = folder.appendingPathComponent("part\(i).jpg").path
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(part.content)))
            let (info, count) = try EndToEnd.decodeAll(path)
            XCTAssertEqual(count, 1)
            XCTAssertEqual(info.width, 360)
            XCTAssertEqual(info.height, 300)
        }
        let frameNumbers = parts.compactMap { $0.headers["x-frame"].flatMap(Int.init) }
        XCTAssertEqual(frameNumbers, frameNumbers.sorted())
        let sortedDelays = delays.sorted()
        if !sortedDelays.isEmpty {
            print("serve: capture to client delay median \(Int(sortedDelays[sortedDelays.count / 2] * 1000)) ms over \(delays.count) frames")
            XCTAssertLessThan(sortedDelays[sortedDelays.count / 2], 1.0, "frames reach the client late")
        }

        // 16 event clients at most: the stalled one, the reader and 14 more; then 503.
        var extra: [ServeTestClient] = []
        for _ in 0..<14 {
            let client = try ServeTestClient(port: run.port)
            try client.get("/events", host: run.host)
            try client.readHead()
            XCTAssertEqual(client.status, 200)
            extra.append(client)
        }
        let refused = try run.get("/events")
        XCTAssertEqual(refused.status, 503)
        extra.removeAll()

        // DNS rebinding: a foreign Host is refused; the page's own names are served.
        XCTAssertEqual(try run.get("/", host: "evil.example:\(run.port)").status, 403)
        XCTAssertEqual(try run.get("/api/status", host: "evil.example").status, 403)
        let page = try run.get("/", host: "localhost:\(run.port)")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.body.contains("src=\"/video.mjpg\""))
        XCTAssertFalse(page.body.contains("http://") || page.body.contains("https://"), "the page fetches from elsewhere")
        XCTAssertEqual(try run.get("/etc/passwd").status, 404)
        XCTAssertEqual(try run.get("/index.html/../../x").status, 404)

        // The stalled video client has missed frames, and they are counted.
        let later = try json(try run.get("/api/status").body)
        XCTAssertGreaterThan((later["viewers"] as? [String: Any])?["dropped_frames"] as? Int ?? 0, 0)

        // The run keeps the video's pace and ends on time although two clients never read.
        guard run.waitForExit(within: seconds + 20) else { return XCTFail("the run did not end: \(run.stderr)") }
        withExtendedLifetime((stalledVideo, stalledEvents)) {}
        XCTAssertEqual(run.process.terminationStatus, 0, run.stderr)
        let wall = Date().timeIntervalSince(run.started)
        XCTAssertLessThan(wall, seconds + 15, "the run took \(wall) s for \(seconds) s of video")
        let summary = try XCTUnwrap(run.stderr.range(of: #"live: [0-9]+ frames"#, options: .regularExpression).map { run.stderr[$0] })
        let done = Int(summary.split(separator: " ")[1]) ?? 0
        XCTAssertGreaterThan(done, Int(seconds * 25 / 2), run.stderr)
    }

    func testOptionsAreCheckedBeforeAnyWork() throws {
        let bad = try EndToEnd.run(["live", "--input", "x.mp4", "--serve", "example.com:80"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--serve example.com:80"), bad.stderr)
        let keep = try EndToEnd.run(["log", "x.mp4", "--serve-keep"])
        XCTAssertNotEqual(keep.status, 0)
        XCTAssertTrue(keep.stderr.contains("--serve-keep needs --serve"), keep.stderr)
    }

    /// The page in a real browser: headless Chromium loads it during a live replay kept up
    /// with --serve-keep; the DOM after the run must show the video, a face card with its bars
    /// and a filled timeline. A screenshot lands in FER_SERVE_SCREENSHOT when that is set.
    func testPageInHeadlessChromium() throws {
        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("chromium is not installed (apt-get install chromium): the page's browser test is skipped")
        }
        let folder = try EndToEnd.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let sample = folder.appendingPathComponent("sample.mp4").path
        try EndToEnd.makeSample(at: sample, frames: 100)
        let run = try Served(["live", "--input", sample, "--realtime", "--serve", "127.0.0.1:0", "--serve-keep"])
        let url = "http://\(run.host)/"
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--mute-audio",
                      "--user-data-dir=\(folder.appendingPathComponent("profile").path)", "--window-size=1280,900"]
        // With a virtual-time budget Chromium waits until the network is quiet: after the run,
        // when the streams have ended, so the DOM holds the whole run.
        let page = try runChromium(chromium, common + ["--virtual-time-budget=20000", "--dump-dom", url], timeout: 60)
        // The document as the script left it, without the script (whose templates hold the same names).
        let dom = String(page[..<(page.range(of: "<script>")?.lowerBound ?? page.endIndex)])
        XCTAssertTrue(run.stderr.contains("the page stays up"), run.stderr)
        func attribute(_ name: String) -> Int? {
            dom.range(of: "\(name)=\"[0-9]+\"", options: .regularExpression)
                .flatMap { Int(dom[$0].split(separator: "\"")[1]) }
        }
        XCTAssertEqual(attribute("data-video-width"), 360, "the video did not show")
        XCTAssertEqual(attribute("data-video-height"), 300)
        XCTAssertTrue(dom.contains("data-state=\"ended\""), "the page does not say the run ended")
        let cards = dom.components(separatedBy: "class=\"face-card\"").count - 1
        XCTAssertGreaterThanOrEqual(cards, 1, "no face card")
        let bars = dom.components(separatedBy: "class=\"fill\" style=\"width:").count - 1
        XCTAssertEqual(bars, 7 * cards, "each card has the seven bars")
        XCTAssertGreaterThan(attribute("data-samples") ?? 0, 20, "the timeline is empty")
        XCTAssertGreaterThanOrEqual(attribute("data-faces") ?? 0, 1)

        let shot = folder.appendingPathComponent("serve.png").path
        _ = try runChromium(chromium, common + ["--virtual-time-budget=3000", "--screenshot=\(shot)", url], timeout: 60)
        let png = try XCTUnwrap(FileManager.default.contents(atPath: shot), "no screenshot")
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        if let keep = ProcessInfo.processInfo.environment["FER_SERVE_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(atPath: shot, toPath: keep)
        }
        kill(run.process.processIdentifier, SIGINT)
        guard run.waitForExit(within: 10) else { return XCTFail("--serve-keep did not end on Ctrl-C") }
        XCTAssertEqual(run.process.terminationStatus, 0, run.stderr)
    }

    private func runChromium(_ path: String, _ arguments: [String], timeout: Double) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        nonisolated(unsafe) var data = Data()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { data = out.fileHandleForReading.readDataToEndOfFile(); done.signal() }
        if done.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            XCTFail("chromium did not finish within \(timeout) s")
        }
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
