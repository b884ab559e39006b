import Capture
import CoreTypes
import Foundation
import XCTest
@testable import FaceDetect

/// Whole-cascade results against facenet-pytorch's MTCNN(keep_all=True) (reference.json).
final class DetectionTests: XCTestCase {
    struct Reference: Decodable {
        struct Input: Decodable { let kind: String; let file: String?; let path: String?; let frame: Int?; let width: Int; let height: Int }
        struct RefFace: Decodable { let box: [Float]; let score: Float; let landmarks: [[Float]] }
        struct Case: Decodable { let name: String; let input: Input; let faces: [RefFace] }
        let cases: [Case]
    }

    static let reference: Reference? = {
        guard let data = try? Data(contentsOf: Fixtures.mtcnnDir.appendingPathComponent("reference.json")) else { return nil }
        return try? JSONDecoder().decode(Reference.self, from: data)
    }()

    func cases(_ kind: String) throws -> [Reference.Case] {
        guard let r = Self.reference else { XCTFail("reference.json unreadable"); return [] }
        return r.cases.filter { $0.input.kind == kind }
    }

    /// Every reference face with score >= 0.9 has one of ours with IoU >= 0.9 and landmarks within
    /// 3 px (or 3% of the box side); we report no face >= 0.9 the reference lacks.
    func compare(_ ours: [Face], _ ref: [Reference.RefFace], _ name: String) {
        func box(_ f: Reference.RefFace) -> Box { Box(x: f.box[0], y: f.box[1], width: f.box[2] - f.box[0], height: f.box[3] - f.box[1]) }
        for r in ref where r.score >= 0.9 {
            let rb = box(r)
            guard let best = ours.max(by: { $0.box.iou(rb) < $1.box.iou(rb) }), best.box.iou(rb) >= 0.9 else {
                XCTFail("\(name): reference face \(r.box) (score \(r.score)) not found; ours: \(ours.map { ($0.box, $0.score) })")
                continue
            }
            XCTAssertEqual(best.score, r.score, accuracy: 0.02, "\(name): score")
            let tol = max(3, 0.03 * max(rb.width, rb.height))
            for (p, q) in zip(best.landmarks, r.landmarks) {
                XCTAssertLessThanOrEqual(hypot(p.x - q[0], p.y - q[1]), tol, "\(name): landmark \(p) vs \(q)")
            }
        }
        for f in ours where f.score >= 0.9 {
            XCTAssertTrue(ref.contains { box($0).iou(f.box) >= 0.5 }, "\(name): extra face \(f.box) score \(f.score)")
        }
        // Every face's shape: five landmarks, a positive box, scores sorted.
        for f in ours { XCTAssertEqual(f.landmarks.count, 5); XCTAssertGreaterThan(f.box.width, 0) }
        XCTAssertEqual(ours.map(\.score), ours.map(\.score).sorted(by: >), "\(name): highest score first")
    }

    func testRawFixtures() throws {
        let detector = try Fixtures.mtcnn()
        let cs = try cases("raw")
        XCTAssertEqual(Set(cs.map(\.name)), ["astronaut", "group", "noface"])
        for c in cs {
            let frame = try Fixtures.rawFrame(c.input.file ?? "", width: c.input.width, height: c.input.height)
            let faces = try detector.detect(in: frame)
            compare(faces, c.faces, c.name)
            if c.name == "noface" { XCTAssertTrue(faces.isEmpty) }
            if c.name == "group" { XCTAssertGreaterThanOrEqual(faces.count, 4) }
        }
    }

    /// A JPEG photo opened the way the commands open inputs (`Sources.open`: libjpeg-turbo) gives
    /// the boxes facenet-pytorch gives on the photo loaded by Pillow, to float rounding: every
    /// reference face at IoU >= 0.99 (the issue asks 0.95; FFmpeg's decoding of this photo would
    /// move the boxes by its 0.5-1 levels of colour difference).
    func testPhotoGivesTheReferenceBoxes() throws {
        let detector = try Fixtures.mtcnn()
        let cs = try cases("photo")
        XCTAssertEqual(cs.map(\.name), ["group.jpg"])
        for c in cs {
            let source = try Sources.open(Fixtures.mtcnnDir.appendingPathComponent(c.input.file ?? "").path)
            defer { source.close() }
            let frame = try XCTUnwrap(try source.nextFrame())
            XCTAssertEqual(frame.width, c.input.width)
            let faces = try detector.detect(in: frame)
            XCTAssertEqual(faces.count, c.faces.count, c.name)
            for r in c.faces {
                let rb = Box(x: r.box[0], y: r.box[1], width: r.box[2] - r.box[0], height: r.box[3] - r.box[1])
                let best = faces.map { $0.box.iou(rb) }.max() ?? 0
                XCTAssertGreaterThanOrEqual(best, 0.99, "\(c.name): reference face \(r.box)")
            }
            compare(faces, c.faces, c.name)
        }
    }

    func testSharedMedia() throws {
        guard let shared = Fixtures.shared else { throw XCTSkip("shared data not found (set FER_SHARED)") }
        let detector = try Fixtures.mtcnn()
        let cs = try cases("shared")
        var byPath: [String: [Reference.Case]] = [:]
        for c in cs { byPath[c.input.path ?? "", default: []].append(c) }
        XCTAssertFalse(byPath.isEmpty)
        for (path, list) in byPath {
            let full = shared + "/" + path
            guard FileManager.default.fileExists(atPath: full) else { throw XCTSkip("\(full) missing") }
            let isVideo = path.hasSuffix(".mp4")
            let frames = try Fixtures.ffmpegFrames(full, frames: isVideo ? list.compactMap(\.input.frame) : nil,
                                                   width: list[0].input.width, height: list[0].input.height)
            XCTAssertEqual(frames.count, list.count, path)
            for (frame, c) in zip(frames, list) { compare(try detector.detect(in: frame), c.faces, c.name) }
        }
    }
}

/// Frames that must not crash, hang or blow up memory.
final class RobustnessTests: XCTestCase {
    func testDegenerateFrames() throws {
        let d = try Fixtures.mtcnn()
        XCTAssertEqual(try d.detect(in: Frame(width: 0, height: 0)), [])
        XCTAssertEqual(try d.detect(in: Frame(width: 1, height: 1)), [])
        XCTAssertEqual(try d.detect(in: Frame(width: 5000, height: 3)), [])
        XCTAssertEqual(try d.detect(in: Frame(width: 20, height: 20)), [])
        XCTAssertEqual(try d.detect(in: Frame(width: 33, height: 21)), [])
        let short = Frame(index: 4, time: 0, width: 100, height: 100, pixels: [UInt8](repeating: 0, count: 100))
        XCTAssertThrowsError(try d.detect(in: short)) { e in XCTAssertTrue("\(e)".hasPrefix("frame 4:"), "\(e)") }
    }

    func testBadOptionsAreRejected() {
        for o in [MTCNN.Options(minFaceSize: 0), MTCNN.Options(scaleFactor: 1), MTCNN.Options(thresholds: [0.5])] {
            XCTAssertThrowsError(try MTCNN(modelDirectory: Fixtures.modelDir, options: o))
        }
    }

    func testPaddedStrideGivesSameResult() throws {
        let d = try Fixtures.mtcnn()
        let f = try Fixtures.rawFrame("astronaut.rgb", width: 512, height: 512)
        var padded = [UInt8](repeating: 7, count: (512 * 3 + 32) * 512)
        for y in 0..<512 { padded.replaceSubrange((y * (512 * 3 + 32))..<(y * (512 * 3 + 32) + 512 * 3), with: f.pixels[(y * 1536)..<((y + 1) * 1536)]) }
        let g = Frame(index: 0, time: 0, width: 512, height: 512, stride: 512 * 3 + 32, pixels: padded)
        XCTAssertEqual(try d.detect(in: g), try d.detect(in: f))
    }

    /// The cascade without its finest pyramid levels (what the keyframe mode searches busy frames
    /// with): none skipped is a full detection; two skipped still find the astronaut's large face
    /// where the full cascade does, and none of the small faces of a tiled crowd; all skipped
    /// find nothing.
    func testSkippingTheFinestLevels() throws {
        let d = try Fixtures.mtcnn()
        let f = try Fixtures.rawFrame("astronaut.rgb", width: 512, height: 512)
        XCTAssertEqual(try d.detect(in: f, skippingFinestLevels: 0), try d.detect(in: f))
        let full = try d.detect(in: f).filter { $0.score >= 0.9 }
        let coarse = try d.detect(in: f, skippingFinestLevels: 2).filter { $0.score >= 0.9 }
        XCTAssertFalse(full.isEmpty)
        XCTAssertEqual(coarse.count, full.count)
        for face in full {
            XCTAssertGreaterThan(coarse.map { $0.box.iou(face.box) }.max() ?? 0, 0.9, "the large face, boxed as the full cascade boxes it")
        }
        XCTAssertEqual(try d.detect(in: f, skippingFinestLevels: d.scales(width: 512, height: 512).count), [])
        // 26 px tiles of the head region: faces smaller than the tiles, around the ~24 px where
        // the coarse search starts at --min-face 12 (P-Net's window still answers to some
        // smaller ones). The coarse search must find fewer, and nothing the full cascade does not.
        let cols = 20, rows = 12
        let crowd = Self.tiledHeads(of: f, tile: 26, cols: cols, rows: rows)
        let small = try MTCNN(modelDirectory: Fixtures.modelDir, options: .init(minFaceSize: 12))
        let fullCrowd = try small.detect(in: crowd)
        let coarseCrowd = try small.detect(in: crowd, skippingFinestLevels: 2)
        XCTAssertGreaterThan(fullCrowd.count, rows * cols / 2, "the full cascade finds the small faces")
        XCTAssertLessThan(coarseCrowd.count, fullCrowd.count * 3 / 4, "the coarse search misses many of them")
        let extra = coarseCrowd.filter { c in !fullCrowd.contains { $0.box.iou(c.box) >= 0.5 } }
        XCTAssertEqual(extra.count, 0, "every face the coarse search finds, the full cascade finds")
    }

    /// A `cols` x `rows` grid of `tile`-pixel nearest-neighbour copies of the astronaut's head
    /// region (130..330, 20..220 of the 512x512 picture).
    private static func tiledHeads(of astro: Frame, tile: Int, cols: Int, rows: Int) -> Frame {
        let w = tile * cols, h = tile * rows
        var px = [UInt8](repeating: 0, count: w * h * 3)
        for ty in 0..<rows { for tx in 0..<cols { for y in 0..<tile { for x in 0..<tile {
            let sx = 130 + x * 200 / tile, sy = 20 + y * 200 / tile
            for c in 0..<3 { px[((ty * tile + y) * w + tx * tile + x) * 3 + c] = astro.pixels[(sy * 512 + sx) * 3 + c] }
        }}}}
        return Frame(index: 0, time: 0, width: w, height: h, pixels: px)
    }

    /// Hundreds of faces: thousands of P-Net candidates, capped per stage.
    func testCrowdedFrame() throws {
        let d = try Fixtures.mtcnn()
        let astro = try Fixtures.rawFrame("astronaut.rgb", width: 512, height: 512)
        let cols = 26, rows = 15
        let faces = try d.detect(in: Self.tiledHeads(of: astro, tile: 48, cols: cols, rows: rows))
        XCTAssertGreaterThan(faces.count, rows * cols / 2, "most tiled faces found")
        XCTAssertLessThanOrEqual(faces.count, d.options.maxCandidatesPerStage)
    }

    func testEightKFrame() throws {
        let d = try Fixtures.mtcnn()
        let w = 7680, h = 4320
        var px = [UInt8](repeating: 0, count: w * h * 3)
        for i in stride(from: 0, to: px.count, by: 3) { px[i] = UInt8((i / 3) % w * 255 / w) }
        let faces = try d.detect(in: Frame(index: 0, time: 0, width: w, height: h, pixels: px))
        XCTAssertTrue(faces.allSatisfy { $0.score < 0.9 }, "a gradient has no confident face")
    }
}

final class OutputFormatTests: XCTestCase {
    func testJSONLine() throws {
        let face = Face(box: Box(x: 10.256, y: 20, width: 30.5, height: 40), score: 0.987654,
                        landmarks: (0..<5).map { Point(x: Float($0), y: Float($0) + 0.5) })
        let line = DetectionJSON.line(frame: 3, time: 0.1, faces: [face])
        XCTAssertFalse(line.contains("\n"))
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(obj["frame"] as? Int, 3)
        XCTAssertEqual((obj["time_s"] as? Double) ?? -1, 0.1, accuracy: 1e-9)
        let faces = try XCTUnwrap(obj["faces"] as? [[String: Any]])
        XCTAssertEqual(faces.count, 1)
        XCTAssertEqual((faces[0]["box"] as? [Double]) ?? [], [10.3, 20, 30.5, 40])
        XCTAssertEqual((faces[0]["score"] as? Double) ?? 0, 0.9877, accuracy: 1e-9)
        XCTAssertEqual(((faces[0]["landmarks"] as? [[Double]]) ?? []).count, 5)
        XCTAssertEqual(DetectionJSON.line(frame: 0, time: 0, faces: []), #"{"frame":0,"time_s":0.0000,"faces":[]}"#)
    }
}

extension DetectionTests {
    /// P-Net over strips run chunk by chunk, each chunk carrying its last 4 pooled rows to the
    /// next (`PNet.forwardChunk`), against each level as one band (`forwardInPlace`): the same
    /// stage-1 candidates in the same order, boxes (after regression) and scores within float
    /// rounding (the Winograd tiles start at other rows). Chunk and strip sizes that leave
    /// remainders, several strips per level, the defaults, and pyramids resampled in several
    /// passes; then the whole cascade against the reference stays as tested above.
    func testPNetChunksGiveTheBandsCandidates() throws {
        let c = try XCTUnwrap(try cases("raw").first { $0.name == "group" })
        let frame = try Fixtures.rawFrame(c.input.file ?? "", width: c.input.width, height: c.input.height)
        var whole = MTCNN.Options()
        whole.pnetBandCells = 1 << 30
        whole.pnetChunkCells = 1 << 30
        let reference = try MTCNN(modelDirectory: Fixtures.modelDir, options: whole)
        let scales = reference.scales(width: frame.width, height: frame.height)
        let want = try reference.stage1(frame, scales: scales)
        XCTAssertGreaterThan(want.count, 20, "a frame with enough candidates to compare")
        // The last two resample the pyramid in several passes (a tile or a few at a time).
        for (band, chunk, pass) in [(2_000, 300, 1 << 25), (5_000, 700, 1 << 25), (65_536, 4_096, 1 << 25), (1 << 30, 1_000, 1 << 25),
                                    (2_000, 300, 1), (5_000, 700, 200_000)] {
            var o = MTCNN.Options()
            o.pnetBandCells = band
            o.pnetChunkCells = chunk
            o.pyramidPassFloats = pass
            let got = try MTCNN(modelDirectory: Fixtures.modelDir, options: o).stage1(frame, scales: scales)
            XCTAssertEqual(got.count, want.count, "strips of \(band) cells, chunks of \(chunk)")
            for (g, w) in zip(got, want) {
                for (p, q) in zip([g.x1, g.y1, g.x2, g.y2], [w.x1, w.y1, w.x2, w.y2]) {
                    XCTAssertEqual(p, q, accuracy: 1e-3, "strips \(band), chunks \(chunk): box \([w.x1, w.y1, w.x2, w.y2])")
                }
                XCTAssertEqual(g.score, w.score, accuracy: 1e-5, "strips \(band), chunks \(chunk)")
            }
        }
    }
}
