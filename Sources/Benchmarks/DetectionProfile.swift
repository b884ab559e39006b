import FaceDetect
import Foundation

/// Where detection time goes, for `fer-live bench detect --profile`: pass one to
/// `MTCNN.detect(in:observer:)` and it accumulates over frames. Steps record the CPU time of the
/// thread that ran them (P-Net tiles run in parallel, each on one thread), which stays
/// meaningful on a loaded machine; stages record wall time on the calling thread. Do not share
/// one profile between detectors running at the same time.
public final class DetectionProfile: CascadeObserver, @unchecked Sendable {
    private let lock = NSLock()
    public private(set) var frames = 0
    /// Thread CPU seconds per step.
    public private(set) var cpu = [Double](repeating: 0, count: CascadeStep.allCases.count)
    /// Wall seconds per stage on the calling thread.
    public private(set) var wall = [Double](repeating: 0, count: CascadeStage.allCases.count)
    /// P-Net thread CPU seconds and output cells per pyramid level (index = level).
    public private(set) var pnetPerLevel: [Double] = []
    public private(set) var cellsPerLevel: [Int] = []
    public private(set) var levelSizes: [(width: Int, height: Int)] = []
    /// Candidates summed over frames, per counting point.
    public private(set) var counts = [Int](repeating: 0, count: CascadeCount.allCases.count)

    public init() {}

    public func measure<T>(_ step: CascadeStep, level: Int?, _ body: () throws -> T) rethrows -> T {
        let start = Clock.threadCPU()
        defer {
            let seconds = Clock.threadCPU() - start
            lock.lock()
            cpu[step.rawValue] += seconds
            if step == .pnet, let level {
                grow(to: level)
                pnetPerLevel[level] += seconds
            }
            lock.unlock()
        }
        return try body()
    }

    public func measure<T>(_ stage: CascadeStage, _ body: () throws -> T) rethrows -> T {
        let start = Clock.wall()
        defer {
            let seconds = Clock.wall() - start
            lock.lock(); wall[stage.rawValue] += seconds; lock.unlock()
        }
        return try body()
    }

    public func count(_ point: CascadeCount, _ n: Int, level: Int?) {
        lock.lock(); defer { lock.unlock() }
        counts[point.rawValue] += n
        if point == .pnetMapCells, let level {
            grow(to: level)
            cellsPerLevel[level] += n
        }
    }

    public func frameFinished(levels: [(width: Int, height: Int)]) {
        lock.lock(); frames += 1; if levelSizes.isEmpty { levelSizes = levels }; lock.unlock()
    }

    /// Call with the lock held.
    private func grow(to level: Int) {
        guard pnetPerLevel.count <= level else { return }
        pnetPerLevel += [Double](repeating: 0, count: level + 1 - pnetPerLevel.count)
        cellsPerLevel += [Int](repeating: 0, count: level + 1 - cellsPerLevel.count)
    }

    /// Clears everything (e.g. after a warm-up pass).
    public func reset() {
        lock.lock()
        frames = 0
        cpu = cpu.map { _ in 0 }; wall = wall.map { _ in 0 }
        pnetPerLevel = []; cellsPerLevel = []; counts = counts.map { _ in 0 }
        lock.unlock()
    }

    /// A plain-text table, per frame.
    public func report() -> String {
        func pad(_ s: String, _ n: Int) -> NSString { (s.count >= n ? s : s + String(repeating: " ", count: n - s.count)) as NSString }
        let n = Double(max(1, frames))
        var lines = [String(format: "per frame over %d frames (thread CPU ms; stage wall ms on the calling thread):", frames)]
        let total = cpu.reduce(0, +)
        for step in CascadeStep.allCases {
            lines.append(String(format: "  %@ %8.3f ms  %5.1f%%", pad(step.label, 26), cpu[step.rawValue] / n * 1000,
                                total > 0 ? 100 * cpu[step.rawValue] / total : 0))
            if step == .pnet {
                for (i, t) in pnetPerLevel.enumerated() {
                    let size = i < levelSizes.count ? "\(levelSizes[i].width)x\(levelSizes[i].height)" : "?"
                    lines.append(String(format: "    level %2d %@ %8.3f ms  %8.0f cells", i, pad(size, 14),
                                        t / n * 1000, Double(cellsPerLevel[i]) / n))
                }
            }
        }
        lines.append(String(format: "  %@ %8.3f ms", pad("total", 26), total / n * 1000))
        lines.append(String(format: "  stage wall: P-Net %.3f ms, R-Net %.3f ms, O-Net %.3f ms",
                            wall[0] / n * 1000, wall[1] / n * 1000, wall[2] / n * 1000))
        let candidates = CascadeCount.allCases.filter { $0 != .pnetMapCells }
        lines.append("candidates per frame: " + candidates.map {
            String(format: "%@ %.1f", $0.label as NSString, Double(counts[$0.rawValue]) / n)
        }.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }
}
