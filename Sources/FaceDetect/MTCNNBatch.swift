import Capture
import CoreTypes
import Dispatch
import Foundation
import NeuralNet
import Parallel

extension MTCNN {
    /// Detects faces in several frames at once, one frame per core, and returns each frame's
    /// faces in input order (identical to calling `detect(in:)` on each).
    ///
    /// Within one frame the detector spreads pyramid bands and crop groups over the cores, but
    /// its stages end in serial steps (NMS, the handful of O-Net crops), so a single frame keeps
    /// two cores busy only part of the time. With whole frames in flight every core always has
    /// a frame to work on. Each frame runs inside `Threads.serially`, so the parallel loops
    /// inside it run inline: a nested `concurrentPerform` is not inlined by libdispatch, and
    /// letting both frames' crop groups and pyramid bands hop between the cores cost a quarter
    /// of the throughput on the 640x360 crowd clip (59 against 74-81 fps).
    public func detect(in frames: [Frame]) throws -> [[Face]] {
        if frames.count <= 1 || Threads.cores == 1 { return try frames.map { try detect(in: $0) } }
        var results = [[Face]](repeating: [], count: frames.count)
        let next = FrameCounter()
        var failure: (index: Int, error: Error)?
        let lock = NSLock()
        results.withUnsafeMutableBufferPointer { res in
            guard let base = res.baseAddress else { return }
            let out = SharedPointer(base: base)
            Threads.forEach(count: min(Threads.cores, frames.count)) { _ in
                while let i = next.take(below: frames.count) {
                    do {
                        out.base[i] = try Threads.serially { try detect(in: frames[i]) }
                    } catch {
                        lock.lock()
                        if failure.map({ i < $0.index }) ?? true { failure = (i, error) }
                        lock.unlock()
                    }
                }
            }
        }
        if let failure { throw failure.error }
        return results
    }
}

/// Hands out frame indices to the worker threads, in order.
private final class FrameCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func take(below limit: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}
