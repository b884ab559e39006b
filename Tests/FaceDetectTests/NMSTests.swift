import XCTest
@testable import FaceDetect

/// Both NMS variants against a plain greedy suppression written from their definitions
/// (torchvision.ops.nms: IoU without +1, ties by lower index; nms_numpy 'Min': overlap over the
/// smaller +1 area, ties by higher index), on random boxes with many overlaps and tied scores.
final class NMSTests: XCTestCase {
    private func randomBoxes(_ n: Int, seed: UInt64) -> [Candidate] {
        var state = seed
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24)
        }
        return (0..<n).map { _ in
            let x = next() * 200, y = next() * 200, s = 5 + next() * 60
            // Scores on a coarse grid, so ties happen.
            return Candidate(x1: x, y1: y, x2: x + s, y2: y + s * (0.8 + 0.4 * next()), score: Float(Int(next() * 20)) / 20)
        }
    }

    private func reference(_ c: [Candidate], rank: (Int, Int) -> Bool, suppress: (Candidate, Candidate) -> Bool) -> [Int] {
        var remaining = c.indices.sorted(by: rank)
        var keep: [Int] = []
        while let best = remaining.first {
            keep.append(best)
            remaining = remaining.dropFirst().filter { !suppress(c[best], c[$0]) }
        }
        return keep
    }

    func testIoUNMSMatchesTheDefinition() {
        for seed in 1...5 {
            let c = randomBoxes(400, seed: UInt64(seed))
            for t in [0.3, 0.5, 0.7] {
                let expected = reference(c, rank: { c[$0].score > c[$1].score || (c[$0].score == c[$1].score && $0 < $1) }) { a, b in
                    let w = max(0, min(a.x2, b.x2) - max(a.x1, b.x1)), h = max(0, min(a.y2, b.y2) - max(a.y1, b.y1))
                    let inter = w * h
                    return Double(inter / ((a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter)) > t
                }
                XCTAssertEqual(BoxMath.nms(c, threshold: t), expected, "seed \(seed), threshold \(t)")
                XCTAssertLessThan(expected.count, c.count, "the boxes must overlap enough to suppress some")
            }
        }
    }

    func testMinNMSMatchesTheDefinition() {
        for seed in 1...5 {
            let c = randomBoxes(400, seed: UInt64(100 + seed))
            let expected = reference(c, rank: { c[$0].score > c[$1].score || (c[$0].score == c[$1].score && $0 > $1) }) { a, b in
                let w = max(0, min(a.x2, b.x2) - max(a.x1, b.x1) + 1), h = max(0, min(a.y2, b.y2) - max(a.y1, b.y1) + 1)
                let o = (w * h) / min((a.x2 - a.x1 + 1) * (a.y2 - a.y1 + 1), (b.x2 - b.x1 + 1) * (b.y2 - b.y1 + 1))
                return !(o <= 0.7)
            }
            XCTAssertEqual(BoxMath.nmsMin(c, threshold: 0.7), expected, "seed \(seed)")
        }
    }

    func testEmptyAndSingle() {
        XCTAssertEqual(BoxMath.nms([], threshold: 0.5), [])
        XCTAssertEqual(BoxMath.nmsMin([Candidate(x1: 0, y1: 0, x2: 1, y2: 1, score: 1)], threshold: 0.7), [0])
    }
}
