import Dispatch
import Foundation

/// Who owns the threads: independent work (batch items, pyramid tiles, crop groups, frames in
/// flight) is spread over the cores with Dispatch, and OpenBLAS runs on one thread
/// (`NeuralNet`'s `BLASSetup`): two thread pools fighting over two cores was measurably slower
/// than either alone.
public enum Threads {
    /// Cores Dispatch spreads work over: 1 inside `serially`.
    public static var cores: Int { isSerialHere ? 1 : hardwareCores }

    public static let hardwareCores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    private static let serialKey = "fer-live.threads.serial"

    private static var isSerialHere: Bool { Thread.current.threadDictionary[serialKey] != nil }

    /// Runs `body` with every parallel loop it reaches running inline on this thread. For
    /// callers that already keep the cores busy with threads of their own (the pipeline's
    /// stages), where splitting each small step over the cores costs more in wake-ups and
    /// cache traffic than it gains.
    public static func serially<T>(_ body: () throws -> T) rethrows -> T {
        let dict = Thread.current.threadDictionary
        if dict[serialKey] != nil { return try body() }
        dict[serialKey] = true
        defer { dict.removeObject(forKey: serialKey) }
        return try body()
    }

    /// Splits `0..<count` into at most `cores` contiguous chunks of at least `minChunk` items
    /// and runs `body` on each, in parallel. Returns when all are done.
    public static func forEachChunk(count: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = max(1, min(cores, count / max(1, minChunk)))
        if chunks == 1 { body(0..<count); return }
        withoutActuallyEscaping(body) { body in
            let box = SendableBox(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { i in
                let lo = count * i / chunks, hi = count * (i + 1) / chunks
                box.value(lo..<hi)
            }
        }
    }

    /// Runs `body(i)` for every i in `0..<count`, spread over the cores (dynamic scheduling).
    public static func forEach(count: Int, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        if count == 1 || cores == 1 { for i in 0..<count { body(i) }; return }
        withoutActuallyEscaping(body) { body in
            let box = SendableBox(body)
            DispatchQueue.concurrentPerform(iterations: count) { i in box.value(i) }
        }
    }
}

/// Carries a value into a concurrent closure. Used only where each iteration touches disjoint
/// memory, which the callers guarantee.
public struct SendableBox<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}

/// A mutable pointer handed to parallel workers that write disjoint ranges (the caller's
/// promise; used with `Threads.forEach` / `forEachChunk`).
public struct SharedPointer<T>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<T>
    public init(base: UnsafeMutablePointer<T>) { self.base = base }
}
