import CoreTypes
import Foundation
import XCTest
@testable import Classifier

final class CSVTests: XCTestCase {
    private func pixels(_ seed: Int) -> String {
        (0..<2304).map { String(($0 * 7 + seed * 31) % 256) }.joined(separator: " ")
    }

    /// Header on line 1; good rows on lines 2, 3, 7 (Validation), 8 (PrivateTest), 10; malformed on 4-6 and 9.
    private var sample: String {
        [
            "emotion,pixels,Usage",
            "3,\(pixels(1)),Training",
            "0,\(pixels(2)),PublicTest",
            "4,\(pixels(3)) 17,PublicTest",            // 2,305 values
            "9,\(pixels(4)),PublicTest",               // unknown label
            "2,\(pixels(5).replacingOccurrences(of: " 14 ", with: " x4 ")),PublicTest",   // non-numeric
            "5,\(pixels(6)),Validation",               // a Usage of the file's own
            "6,\(pixels(7)),PrivateTest",
            "1,\(pixels(8).replacingOccurrences(of: " 14 ", with: " 256 ")),Training",   // out of range
            "6,\(pixels(9)),PublicTest",
            "",
        ].joined(separator: "\n")
    }

    private func write(_ text: String, gzip: Bool = false) throws -> String {
        let dir = try Fixtures.tempDir(self)
        let plain = dir.appendingPathComponent("fer.csv")
        try text.write(to: plain, atomically: true, encoding: .utf8)
        guard gzip else { return plain.path }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/gzip")
        p.arguments = ["-f", plain.path]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        return plain.path + ".gz"
    }

    func testPlainAndGzipReadTheSameRowsAndReportMalformedLines() throws {
        for gz in [false, true] {
            let path = try write(sample, gzip: gz)
            var warnings: [String] = []
            let (rows, summary) = try FER2013CSV(path: path).readAll { warnings.append($0) }
            XCTAssertEqual(rows.map(\.line), [2, 3, 7, 8, 10], "gzip \(gz)")
            XCTAssertEqual(rows.map(\.emotion), [.happy, .angry, .surprise, .neutral, .neutral])
            XCTAssertEqual(rows.map(\.usage), ["Training", "PublicTest", "Validation", "PrivateTest", "PublicTest"])
            XCTAssertEqual(rows[0].pixels.count, 2304)
            XCTAssertEqual(rows[0].pixels[0], 31)
            XCTAssertEqual(rows[0].pixels[1], 38)
            XCTAssertEqual(rows[1].pixels[2303], UInt8((2303 * 7 + 62) % 256))
            XCTAssertEqual(summary.malformed, 4)
            XCTAssertEqual(summary.rows, 9)
            XCTAssertEqual(warnings.count, 4)
            for (w, line) in zip(warnings, [4, 5, 6, 9]) {
                XCTAssertTrue(w.hasPrefix("\(path):\(line): "), w)
            }
            XCTAssertTrue(warnings[0].contains("2305"), warnings[0])
            XCTAssertTrue(warnings[1].contains("'9'"), warnings[1])
            XCTAssertTrue(warnings[2].contains("non-numeric"), warnings[2])
            XCTAssertTrue(warnings[3].contains("0-255"), warnings[3])
        }
    }

    func testUsageFilter() throws {
        let path = try write(sample)
        let pub = try FER2013CSV(path: path, options: .init(usage: ["PublicTest"])).readAll()
        XCTAssertEqual(pub.rows.map(\.line), [3, 10])
        XCTAssertEqual(pub.summary.filtered, 4)   // lines 2, 7, 8 and 9 (9 is bad in its pixels, which filtered rows skip)
        let priv = try FER2013CSV(path: path, options: .init(usage: ["PrivateTest"])).readAll()
        XCTAssertEqual(priv.rows.map(\.line), [8])
        let own = try FER2013CSV(path: path, options: .init(usage: ["Validation"])).readAll()
        XCTAssertEqual(own.rows.map(\.line), [7], "any Usage value in the file can be chosen")
        XCTAssertEqual(own.summary.usagesSeen["PublicTest"], 4, "lines 3, 4, 6, 10: a known label, pixels not checked")
        XCTAssertTrue(try FER2013CSV(path: path, options: .init(usage: ["Test"])).readAll().rows.isEmpty)
        XCTAssertTrue(try FER2013CSV(path: path).hasUsageColumn())
    }

    func testStrictStopsAtFirstMalformedLine() throws {
        for gz in [false, true] {
            let path = try write(sample, gzip: gz)
            XCTAssertThrowsError(try FER2013CSV(path: path, options: .init(strict: true)).readAll()) { e in
                XCTAssertEqual(e as? ClassifierError, .badRow(path: path, line: 4, reason: "expected 2304 pixel values, got 2305"))
                XCTAssertTrue("\(e)".hasPrefix("\(path):4: "), "\(e)")
            }
        }
    }

    func testWarningLimitThenCount() throws {
        var text = "emotion,pixels,Usage\n"
        for _ in 0..<15 { text += "1,1 2 3,Training\n" }
        text += "2,\(pixels(1)),Training\n"
        let path = try write(text)
        var warnings: [String] = []
        let r = try FER2013CSV(path: path, options: .init(maxWarnings: 3)).readAll { warnings.append($0) }
        XCTAssertEqual(r.rows.map(\.line), [17])
        XCTAssertEqual(warnings.count, 4)
        XCTAssertTrue(warnings[3].contains("12 more"), warnings[3])
    }

    func testHeaderVariantsCRLFAndNoUsage() throws {
        let path = try write("pixels,emotion\r\n\"\(pixels(1))\",5\r\n")
        let r = try FER2013CSV(path: path).readAll()
        XCTAssertEqual(r.rows.count, 1)
        XCTAssertEqual(r.rows[0].emotion, .surprise)
        XCTAssertEqual(r.rows[0].usage, "", "no Usage column: no split name")
        XCTAssertFalse(try FER2013CSV(path: path).hasUsageColumn())
        XCTAssertEqual(r.rows[0].pixels[0], 31)
    }

    func testUnusableFiles() throws {
        XCTAssertThrowsError(try FER2013CSV(path: "/nonexistent/fer.csv").readAll()) { e in
            XCTAssertTrue("\(e)".contains("/nonexistent/fer.csv"), "\(e)")
        }
        XCTAssertThrowsError(try FER2013CSV(path: try write("")).readAll()) { e in XCTAssertTrue("\(e)".contains("empty"), "\(e)") }
        XCTAssertThrowsError(try FER2013CSV(path: try write("a,b,c\n1,2,3\n")).readAll()) { e in
            XCTAssertTrue("\(e)".contains("header"), "\(e)")
        }
        // Binary data (the start of an MP4) is named as such, without echoing its bytes.
        let binary = try Fixtures.tempDir(self).appendingPathComponent("clip.mp4")
        try Data([0, 0, 0, 0x20, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6F, 0x6D, 0xFF, 0xFE, 0x0A, 0x01, 0x02]).write(to: binary)
        XCTAssertThrowsError(try FER2013CSV(path: binary.path).readAll()) { e in
            XCTAssertTrue("\(e)".contains("not a text CSV file"), "\(e)")
            XCTAssertTrue("\(e)".contains(binary.path), "\(e)")
            XCTAssertFalse("\(e)".contains("ftyp"), "\(e)")
        }
        // A gzip stream cut in half: rows may come out, then the read fails naming the file.
        let gz = try write(sample, gzip: true)
        let data = try Data(contentsOf: URL(fileURLWithPath: gz))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: gz))
        XCTAssertThrowsError(try FER2013CSV(path: gz).readAll()) { e in
            XCTAssertTrue("\(e)".contains(gz), "\(e)")
            XCTAssertTrue("\(e)".contains("gzip"), "\(e)")
        }
    }

    /// The shared data: counts of the PublicTest split as the data README gives them.
    func testSharedPublicTestCounts() throws {
        guard let shared = Fixtures.shared else { throw XCTSkip("shared data not found (set FER_SHARED)") }
        let path = shared + "/data/fer2013/fer2013-train-publictest.csv.gz"
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("\(path) not there") }
        var counts = [Int](repeating: 0, count: 7)
        let s = try FER2013CSV(path: path, options: .init(usage: ["PublicTest"], strict: true)).forEachRow { counts[$0.emotion.rawValue] += 1 }
        XCTAssertEqual(counts, [467, 56, 496, 895, 653, 415, 607])
        XCTAssertEqual(s.filtered, 28_709)
    }
}

final class ConfusionMatrixTests: XCTestCase {
    func testMetricsOnKnownCounts() {
        var m = ConfusionMatrix()
        // angry: 3 right, 1 called sad; sad: 2 right, 2 called angry; happy: 1 right; nothing else.
        for _ in 0..<3 { m.add(truth: .angry, prediction: .angry) }
        m.add(truth: .angry, prediction: .sad)
        for _ in 0..<2 { m.add(truth: .sad, prediction: .sad) }
        for _ in 0..<2 { m.add(truth: .sad, prediction: .angry) }
        m.add(truth: .happy, prediction: .happy)
        XCTAssertEqual(m.total, 9)
        XCTAssertEqual(m.correct, 6)
        XCTAssertEqual(m.accuracy, 6.0 / 9.0, accuracy: 1e-12)
        XCTAssertEqual(m.precision(.angry)!, 3.0 / 5.0, accuracy: 1e-12)
        XCTAssertEqual(m.recall(.angry)!, 3.0 / 4.0, accuracy: 1e-12)
        XCTAssertEqual(m.precision(.sad)!, 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(m.recall(.sad)!, 0.5, accuracy: 1e-12)
        XCTAssertEqual(m.f1(.angry)!, 2 * 0.6 * 0.75 / 1.35, accuracy: 1e-12)
        XCTAssertNil(m.precision(.fear))
        XCTAssertNil(m.recall(.fear))
        XCTAssertEqual(m.meanRecall, (0.75 + 0.5 + 1.0) / 3, accuracy: 1e-12)
        XCTAssertEqual(m.counts[Emotion.sad.rawValue][Emotion.angry.rawValue], 2)
        var twice = m
        twice.merge(m)
        XCTAssertEqual(twice.total, 18)
        XCTAssertEqual(twice.accuracy, m.accuracy, accuracy: 1e-12)
        XCTAssertTrue(m.table().contains("75.0%"))
    }

    /// Evaluation over a CSV of the fixture inputs, labelled with PyTorch's top predictions
    /// (tools/make_classifier_fixtures.py), except two rows given another label: 10 of 12 right.
    func testEvaluationOnFixtureCSV() throws {
        let inputs = try Fixtures.inputs()
        let expected = try Fixtures.expected("tiny")
        var text = "emotion,pixels,Usage\n"
        for (i, (input, c)) in zip(inputs, expected.cases).enumerated() {
            let best = c.probabilities.indices.max { c.probabilities[$0] < c.probabilities[$1] }!
            var label = Emotion(name: expected.labels[best])!
            if i < 2 { label = label == .disgust ? .surprise : .disgust }   // the model cannot say disgust
            text += "\(label.rawValue),\(input.pixels.map(String.init).joined(separator: " ")),PublicTest\n"
        }
        let dir = try Fixtures.tempDir(self)
        let path = dir.appendingPathComponent("e.csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        var ev = ClassifierEvaluation(classifier: try EmotionClassifier(model: Fixtures.tiny()), batch: 5)
        _ = try ev.run(FER2013CSV(path: path))
        XCTAssertEqual(ev.matrix.total, 12)
        XCTAssertEqual(ev.matrix.correct, 10)
        XCTAssertEqual(ev.batchTimes.map(\.faces), [5, 5, 2])
        let json = try JSONSerialization.jsonObject(with: Data(ev.json(dataPath: path, usage: "PublicTest", summary: .init()).utf8)) as! [String: Any]
        XCTAssertEqual(json["n"] as? Int, 12)
        XCTAssertEqual((json["accuracy"] as? Double) ?? 0, 0.8333, accuracy: 1e-9)
        XCTAssertGreaterThan((json["faces_per_second"] as? Double) ?? 0, 0)
    }
}
