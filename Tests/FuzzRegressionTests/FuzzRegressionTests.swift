import Foundation
import FuzzHarnesses
import TestSupport
import XCTest

/// Every saved fuzz input (the seed corpus in Fuzz/corpus and what `make fuzz` found, kept in
/// Fuzz/regressions) goes through its harness again: none may crash, and the valid seeds must
/// still be accepted, so that a harness quietly rejecting everything would fail here.
final class FuzzRegressionTests: XCTestCase {
    private func inputs(_ kind: String, _ folder: String) throws -> [(name: String, bytes: Data)] {
        let dir = TestPaths.repoRoot.appendingPathComponent("Fuzz/\(folder)/\(kind)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return try names.filter { !$0.hasPrefix(".") }.sorted().map {
            ($0, try Data(contentsOf: dir.appendingPathComponent($0)))
        }
    }

    func testSafeTensorsInputs() throws {
        let seeds = try inputs("safetensors", "corpus")
        XCTAssertGreaterThanOrEqual(seeds.count, 3)
        for seed in seeds { XCTAssertTrue(FuzzHarnesses.safeTensors(seed.bytes), "seed \(seed.name) rejected") }
        for found in try inputs("safetensors", "regressions") { FuzzHarnesses.safeTensors(found.bytes) }
        // Cut anywhere, a valid file must be refused, never read past its end.
        let whole = try XCTUnwrap(seeds.first { $0.name == "two-tensors.safetensors" }).bytes
        for cut in 0..<whole.count { XCTAssertFalse(FuzzHarnesses.safeTensors(whole.prefix(cut)), "accepted \(cut) of \(whole.count) bytes") }
    }

    func testModelJSONInputs() throws {
        let seeds = try inputs("model-json", "corpus")
        XCTAssertFalse(seeds.isEmpty)
        for seed in seeds { XCTAssertTrue(FuzzHarnesses.modelJSON(seed.bytes), "seed \(seed.name) rejected") }
        for found in try inputs("model-json", "regressions") { FuzzHarnesses.modelJSON(found.bytes) }
        XCTAssertFalse(FuzzHarnesses.modelJSON(Data("{}".utf8)))
    }

    func testFERCSVInputs() throws {
        let seeds = try inputs("fer-csv", "corpus")
        XCTAssertGreaterThanOrEqual(seeds.count, 3)
        for seed in seeds where seed.name != "malformed.csv" {
            XCTAssertTrue(FuzzHarnesses.ferCSV(seed.bytes), "seed \(seed.name) rejected")
        }
        for found in try inputs("fer-csv", "regressions") { FuzzHarnesses.ferCSV(found.bytes) }
        XCTAssertFalse(FuzzHarnesses.ferCSV(Data("emotion,pixels\n3,1 2 3\n".utf8)), "a 3-pixel face accepted")
    }
}
