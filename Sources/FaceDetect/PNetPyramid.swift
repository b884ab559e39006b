import Capture
import Foundation
import NeuralNet
import Parallel

/// The image pyramid P-Net runs over: one level per scale (`int(h * s + 1)` by `int(w * s + 1)`,
/// as `detect_face` sizes them), each cut into strips of P-Net output rows so that big levels run
/// as several tiles on the cores at once (`MTCNN.runPNet` runs a strip in chunks).
///
/// The levels' images are resampled from the frame before P-Net runs, in passes: a pass
/// resamples the input rows of its tiles (every level, for frames up to several megapixels) in
/// one sweep down the frame (`AreaResampling.pyramid`, in a band of frame rows per core), then
/// runs those tiles. A pass holds at most `passFloats` floats, so a huge frame or a tiny minimum
/// face size takes several passes instead of gigabytes.
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

    /// The input rows of one level a pass resamples, `offset` floats into the pass's buffer.
    struct Piece: Sendable {
        let level: Int
        var rows: Range<Int>
        let offset: Int
    }

    /// Tiles (indices, biggest first so the last ones to finish are small) and the pieces
    /// their input rows lie in.
    struct Pass: Sendable {
        var pieces: [Piece] = []
        var tiles: [Int] = []
        var floats = 0
    }

    /// Rows of one level in a pass's buffer, as P-Net reads them.
    struct LevelImage {
        let base: UnsafePointer<Float>
        /// The level row at `base`, and the rows between one channel's plane and the next.
        let firstRow: Int, planeRows: Int
        let width: Int

        /// Channel 0 of level row `row` (channel c is `c * planeRows * width` floats further).
        func rows(from row: Int) -> UnsafePointer<Float> { base + (row - firstRow) * width }
    }

    let frameWidth: Int, frameHeight: Int
    let levels: [Level]
    let tiles: [Tile]
    let passes: [Pass]

    init(width: Int, height: Int, scales: [Double], bandCells: Int, passFloats: Int) {
        var levels: [Level] = []
        var tiles: [Tile] = []
        for (index, scale) in scales.enumerated() {
            let h = Int(Double(height) * scale + 1), w = Int(Double(width) * scale + 1)
            let level = Level(index: index, scale: scale, width: w, height: h,
                              mapWidth: PNetGeometry.outputSize(w), mapHeight: PNetGeometry.outputSize(h))
            levels.append(level)
            guard level.mapHeight > 0, level.mapWidth > 0 else { continue }
            let band = max(1, bandCells / level.mapWidth)
            for start in stride(from: 0, to: level.mapHeight, by: band) {
                tiles.append(Tile(level: index, rows: start..<min(level.mapHeight, start + band)))
            }
        }
        // Tiles in level and row order, so a level's tiles in one pass read one run of rows.
        var passes: [Pass] = []
        var pass = Pass()
        for (t, tile) in tiles.enumerated() {
            let level = levels[tile.level], rows = Self.inputRows(of: tile, in: level)
            var extended = pass
            if let last = extended.pieces.last, last.level == tile.level {
                let grown = max(last.rows.upperBound, rows.upperBound) - last.rows.upperBound
                extended.pieces[extended.pieces.count - 1].rows = last.rows.lowerBound..<(last.rows.upperBound + grown)
                extended.floats += 3 * grown * level.width
            } else {
                extended.pieces.append(Piece(level: tile.level, rows: rows, offset: extended.floats))
                extended.floats += 3 * rows.count * level.width
            }
            extended.tiles.append(t)
            if extended.floats > passFloats && !pass.tiles.isEmpty {
                passes.append(pass)
                pass = Pass(pieces: [Piece(level: tile.level, rows: rows, offset: 0)], tiles: [t], floats: 3 * rows.count * level.width)
            } else {
                pass = extended
            }
        }
        if !pass.tiles.isEmpty { passes.append(pass) }
        for i in passes.indices {
            passes[i].tiles.sort { tiles[$0].rows.count * levels[tiles[$0].level].mapWidth > tiles[$1].rows.count * levels[tiles[$1].level].mapWidth }
        }
        frameWidth = width
        frameHeight = height
        self.levels = levels
        self.tiles = tiles
        self.passes = passes
    }

    /// The level rows P-Net reads for map rows `rows`: a map row r reads input rows 2r to
    /// 2r + 11; the level's last rows run to its bottom, so the ceil-mode pool sees the same
    /// partial window.
    static func inputRows(of tile: Tile, in level: Level) -> Range<Int> {
        let hi = tile.rows.upperBound == level.mapHeight ? level.height : min(level.height, 2 * tile.rows.upperBound + 10)
        return (2 * tile.rows.lowerBound)..<hi
    }

    /// Resamples each pass's rows into `buffer`, then runs `body` on the pass's tiles, spread
    /// over the cores, and returns each level's candidates in map order (row-major, as
    /// `mask.nonzero()` gives them). The first error thrown is rethrown.
    func run(_ frame: Frame, buffer: ScratchBuffer, observer: (any CascadeObserver)?,
             _ body: (Level, Range<Int>, LevelImage) throws -> [Candidate]) throws -> [[Candidate]] {
        var results = [[Candidate]](repeating: [], count: tiles.count)
        var failure: Error?
        let lock = NSLock()
        for pass in passes {
            let base = buffer.reserve(pass.floats)
            resample(frame, pass, into: base, observer: observer)
            let images = pass.pieces.map {
                LevelImage(base: base + $0.offset, firstRow: $0.rows.lowerBound, planeRows: $0.rows.count, width: levels[$0.level].width)
            }
            let pieceOfLevel = Dictionary(uniqueKeysWithValues: pass.pieces.enumerated().map { ($1.level, $0) })
            results.withUnsafeMutableBufferPointer { slots in
                guard let slotBase = slots.baseAddress else { return }
                let out = SharedPointer(base: slotBase)
                Threads.forEach(count: pass.tiles.count) { k in
                    let i = pass.tiles[k], tile = tiles[i]
                    guard let piece = pieceOfLevel[tile.level] else { return }
                    do {
                        out.base[i] = try body(levels[tile.level], tile.rows, images[piece])
                    } catch {
                        lock.lock(); if failure == nil { failure = error }; lock.unlock()
                    }
                }
            }
            if let failure { throw failure }
        }
        var perLevel = [[Candidate]](repeating: [], count: levels.count)
        for i in tiles.indices {
            perLevel[tiles[i].level] += results[i]
        }
        return perLevel
    }

    /// One pass's pieces, in a band of frame rows per core: band b resamples the rows whose
    /// windows start in its frame rows (`AreaResampling.pyramid` continues down the frame to
    /// where they end).
    private func resample(_ frame: Frame, _ pass: Pass, into base: UnsafeMutablePointer<Float>, observer: (any CascadeObserver)?) {
        let bands = max(1, min(Threads.cores, frameHeight / 64))
        let out = SharedPointer(base: base)
        Threads.forEach(count: bands) { b in
            let k0 = frameHeight * b / bands, k1 = frameHeight * (b + 1) / bands
            let rows: [AreaResampling.LevelRows] = pass.pieces.map { piece in
                let level = levels[piece.level], n = level.height
                // Output rows whose window starts at or after frame row k: i >= ceil(k * n / h).
                let lo = max(piece.rows.lowerBound, (k0 * n + frameHeight - 1) / frameHeight)
                let hi = min(piece.rows.upperBound, (k1 * n + frameHeight - 1) / frameHeight)
                return AreaResampling.LevelRows(outH: n, outW: level.width, rows: lo..<max(lo, hi), planeRows: piece.rows.count,
                                                dst: out.base + piece.offset + (lo - piece.rows.lowerBound) * level.width)
            }
            observer.measure(.pyramid) { AreaResampling.pyramid(frame, rows) }
        }
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
