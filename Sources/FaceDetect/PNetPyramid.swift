import Foundation
import NeuralNet
import Parallel

/// The image pyramid P-Net runs over: one level per scale (`int(h * s + 1)` by `int(w * s + 1)`,
/// as `detect_face` sizes them), each cut into strips of P-Net output rows so that big levels run
/// as several tiles on the cores at once (`MTCNN.runPNet` runs a strip in chunks).
struct PNetPyramid {
    struct Level: Sendable {
        let index: Int
        let scale: Double
        let width: Int, height: Int
        /// The P-Net output map's size.
        let mapWidth: Int, mapHeight: Int
    }

    struct Tile: Sendable {
        let level: Int
        let rows: Range<Int>
    }

    let levels: [Level]
    /// Every strip of every level, biggest first, so the last ones to finish are small.
    let tiles: [Tile]

    init(image: IntegralImage, scales: [Double], bandCells: Int) {
        var levels: [Level] = []
        var tiles: [Tile] = []
        for (index, scale) in scales.enumerated() {
            let height = Int(Double(image.height) * scale + 1), width = Int(Double(image.width) * scale + 1)
            let level = Level(index: index, scale: scale, width: width, height: height,
                              mapWidth: PNetGeometry.outputSize(width), mapHeight: PNetGeometry.outputSize(height))
            levels.append(level)
            guard level.mapHeight > 0, level.mapWidth > 0 else { continue }
            let band = max(1, bandCells / level.mapWidth)
            for start in stride(from: 0, to: level.mapHeight, by: band) {
                tiles.append(Tile(level: index, rows: start..<min(level.mapHeight, start + band)))
            }
        }
        tiles.sort { $0.rows.count * levels[$0.level].mapWidth > $1.rows.count * levels[$1.level].mapWidth }
        self.levels = levels
        self.tiles = tiles
    }

    /// Runs `body` on every tile, spread over the cores, and returns each level's candidates in
    /// map order (row-major, as `mask.nonzero()` gives them). The first error thrown is rethrown.
    func run(_ body: (Level, Range<Int>) throws -> [Candidate]) throws -> [[Candidate]] {
        var results = [[Candidate]](repeating: [], count: tiles.count)
        var failure: Error?
        let lock = NSLock()
        results.withUnsafeMutableBufferPointer { slots in
            guard let base = slots.baseAddress else { return }
            let out = SharedPointer(base: base)
            Threads.forEach(count: tiles.count) { i in
                let tile = tiles[i]
                do {
                    out.base[i] = try body(levels[tile.level], tile.rows)
                } catch {
                    lock.lock(); if failure == nil { failure = error }; lock.unlock()
                }
            }
        }
        if let failure { throw failure }
        var perLevel = [[Candidate]](repeating: [], count: levels.count)
        for i in tiles.indices.sorted(by: { tiles[$0].rows.lowerBound < tiles[$1].rows.lowerBound }) {
            perLevel[tiles[i].level] += results[i]
        }
        return perLevel
    }
}

/// Sizes through P-Net: 3x3 conv, 2x2/2 ceil-mode pool, two 3x3 convs.
enum PNetGeometry {
    static func outputSize(_ n: Int) -> Int {
        let c1 = n - 2
        guard c1 >= 1 else { return 0 }
        let p = MaxPool2D(kernel: 2, stride: 2, ceilMode: true).outputSize(c1)
        return max(0, p - 4)
    }
}
