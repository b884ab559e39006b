import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension MTCNN {
    /// Where detection time goes, for `fer-live bench detect --profile`: pass one to
    /// `detect(in:timings:)` and it accumulates over frames. Sections record CPU time, which
    /// stays meaningful on a loaded machine: P-Net tiles (run in parallel) the CPU time of the
    /// thread that ran them (`CLOCK_THREAD_CPUTIME_ID`), the crop stages (which fan out
    /// themselves) the process's CPU time around them. Stage totals also record wall time on the
    /// calling thread. Do not share one collector between detectors running at the same time.
    public final class Timings: @unchecked Sendable {
        public enum Section: Int, CaseIterable, Sendable {
            case integral, pyramid, pnet, pnetBoxes, pnetNMS, rnetCrops, rnetNet, rnetPost, onetCrops, onetNet, onetPost

            public var label: String {
                switch self {
                case .integral: "summed-area table"
                case .pyramid: "pyramid resampling"
                case .pnet: "P-Net (all scales)"
                case .pnetBoxes: "P-Net threshold + boxes"
                case .pnetNMS: "P-Net NMS + regression"
                case .rnetCrops: "R-Net crops"
                case .rnetNet: "R-Net net"
                case .rnetPost: "R-Net NMS + regression"
                case .onetCrops: "O-Net crops"
                case .onetNet: "O-Net net"
                case .onetPost: "O-Net NMS + landmarks"
                }
            }
        }

        public enum Stage: Int, CaseIterable, Sendable { case stage1, stage2, stage3 }

        private let lock = NSLock()
        public private(set) var frames = 0
        /// Thread CPU seconds per section.
        public private(set) var cpu = [Double](repeating: 0, count: Section.allCases.count)
        /// Wall seconds per stage on the calling thread (stage 1 includes the summed-area table).
        public private(set) var wall = [Double](repeating: 0, count: Stage.allCases.count)
        /// P-Net thread CPU seconds and output cells per pyramid level (index = level).
        public private(set) var pnetPerScale: [Double] = []
        public private(set) var cellsPerScale: [Int] = []
        public private(set) var levelSizes: [(w: Int, h: Int)] = []
        /// Candidates summed over frames: P-Net cells over threshold, after per-scale NMS, after
        /// cross-scale NMS (R-Net input), R-Net passed the threshold, after R-Net NMS (O-Net
        /// input), O-Net passed, faces.
        public private(set) var counts = [Int](repeating: 0, count: 7)
        public static let countLabels = ["P-Net cells >= t", "after per-scale NMS", "R-Net input", "R-Net > t",
                                         "O-Net input", "O-Net > t", "faces"]

        public init() {}

        /// Thread CPU time now, in seconds.
        public static func threadCPU() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }

        /// Process CPU time now (all threads), in seconds.
        public static func processCPU() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }

        static func wallNow() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

        func add(_ s: Section, _ seconds: Double) {
            lock.lock(); cpu[s.rawValue] += seconds; lock.unlock()
        }

        func addWall(_ s: Stage, _ seconds: Double) {
            lock.lock(); wall[s.rawValue] += seconds; lock.unlock()
        }

        func addScale(_ level: Int, seconds: Double, cells: Int) {
            lock.lock()
            if pnetPerScale.count <= level {
                pnetPerScale += [Double](repeating: 0, count: level + 1 - pnetPerScale.count)
                cellsPerScale += [Int](repeating: 0, count: level + 1 - cellsPerScale.count)
            }
            pnetPerScale[level] += seconds
            cellsPerScale[level] += cells
            lock.unlock()
        }

        func count(_ i: Int, _ n: Int) {
            lock.lock(); counts[i] += n; lock.unlock()
        }

        func frameDone(levels: [(w: Int, h: Int)]) {
            lock.lock(); frames += 1; if levelSizes.isEmpty { levelSizes = levels }; lock.unlock()
        }

        /// Clears everything (e.g. after a warm-up pass).
        public func reset() {
            lock.lock()
            frames = 0
            cpu = cpu.map { _ in 0 }; wall = wall.map { _ in 0 }
            pnetPerScale = []; cellsPerScale = []; counts = counts.map { _ in 0 }
            lock.unlock()
        }

        /// A plain-text table, per frame.
        public func report() -> String {
            func pad(_ s: String, _ n: Int) -> NSString { (s.count >= n ? s : s + String(repeating: " ", count: n - s.count)) as NSString }
            let n = Double(max(1, frames))
            var lines = [String(format: "per frame over %d frames (thread CPU ms; stage wall ms on the calling thread):", frames)]
            let total = cpu.reduce(0, +)
            for s in Section.allCases {
                lines.append(String(format: "  %@ %8.3f ms  %5.1f%%", pad(s.label, 26), cpu[s.rawValue] / n * 1000,
                                    total > 0 ? 100 * cpu[s.rawValue] / total : 0))
                if s == .pnet {
                    for (i, t) in pnetPerScale.enumerated() {
                        let size = i < levelSizes.count ? "\(levelSizes[i].w)x\(levelSizes[i].h)" : "?"
                        lines.append(String(format: "    level %2d %@ %8.3f ms  %8.0f cells", i, pad(size, 14),
                                            t / n * 1000, Double(cellsPerScale[i]) / n))
                    }
                }
            }
            lines.append(String(format: "  %@ %8.3f ms", pad("total", 26), total / n * 1000))
            lines.append(String(format: "  stage wall: P-Net %.3f ms, R-Net %.3f ms, O-Net %.3f ms",
                                wall[0] / n * 1000, wall[1] / n * 1000, wall[2] / n * 1000))
            lines.append("candidates per frame: " + zip(Self.countLabels, counts).map {
                String(format: "%@ %.1f", $0.0 as NSString, Double($0.1) / n)
            }.joined(separator: ", "))
            return lines.joined(separator: "\n")
        }
    }
}

/// Times a section run by one thread into an optional collector; without one it only runs the body.
@inline(__always)
func timed<T>(_ t: MTCNN.Timings?, _ s: MTCNN.Timings.Section, _ body: () throws -> T) rethrows -> T {
    guard let t else { return try body() }
    let c0 = MTCNN.Timings.threadCPU()
    defer { t.add(s, MTCNN.Timings.threadCPU() - c0) }
    return try body()
}

/// Times a section that may fan out over worker threads itself (R-Net / O-Net batches): the
/// process's CPU time, valid because detection runs nothing else alongside such a section.
@inline(__always)
func timedFanOut<T>(_ t: MTCNN.Timings?, _ s: MTCNN.Timings.Section, _ body: () throws -> T) rethrows -> T {
    guard let t else { return try body() }
    let c0 = MTCNN.Timings.processCPU()
    defer { t.add(s, MTCNN.Timings.processCPU() - c0) }
    return try body()
}
