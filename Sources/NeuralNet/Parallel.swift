import COpenBLAS
import Dispatch
import CKernels
import Foundation

/// Who owns the threads: the runtime sets OpenBLAS to one thread and spreads independent work
/// (batch items, pyramid scales) over the cores with Dispatch. Two thread pools fighting over two
/// cores was measurably slower than either alone.
public enum Threads {
    /// Cores Dispatch spreads work over: 1 inside `serially`.
    public static var cores: Int { isSerialHere ? 1 : hardwareCores }

    static let hardwareCores = max(1, ProcessInfo.processInfo.activeProcessorCount)

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

    /// Sets OpenBLAS's own thread count (1 by default, see above). Call before heavy work.
    public static func setBLASThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }

    /// Runs once, on the first forward pass. Besides OpenBLAS's threads it keeps glibc from
    /// handing multi-megabyte activation buffers back to the kernel after every layer: with the
    /// default (dynamic) thresholds each layer's output was a fresh mmap, and page faults plus
    /// page zeroing took a third of detection time.
    static let configureBLAS: Void = {
        openblas_set_num_threads(1)
        nn_configure_allocator()
    }()

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
struct SendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// A mutable pointer handed to parallel workers that write disjoint ranges (the caller's
/// promise; used with `Threads.forEach` / `forEachChunk`).
public struct SharedPointer<T>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<T>
    public init(base: UnsafeMutablePointer<T>) { self.base = base }
}
