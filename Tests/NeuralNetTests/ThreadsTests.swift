import Foundation
import Parallel
import XCTest
@testable import NeuralNet

final class ThreadsTests: XCTestCase {
    /// Inside `serially` every iteration runs on the calling thread, and the setting ends with it.
    func testSeriallyKeepsParallelLoopsOnTheCallingThread() throws {
        try XCTSkipIf(Threads.hardwareCores < 2, "needs two cores to tell the modes apart")
        let caller = pthread_self()
        let lock = NSLock()
        var others = 0
        Threads.serially {
            XCTAssertEqual(Threads.cores, 1)
            Threads.forEach(count: 64) { _ in
                if pthread_equal(pthread_self(), caller) == 0 { lock.lock(); others += 1; lock.unlock() }
            }
            Threads.forEachChunk(count: 64) { _ in
                if pthread_equal(pthread_self(), caller) == 0 { lock.lock(); others += 1; lock.unlock() }
            }
        }
        XCTAssertEqual(others, 0)
        XCTAssertEqual(Threads.cores, Threads.hardwareCores)
    }

    /// The results of a parallel loop do not depend on the mode.
    func testSeriallyComputesTheSame() {
        func squares() -> [Int] {
            var out = [Int](repeating: 0, count: 1000)
            out.withUnsafeMutableBufferPointer { p in
                guard let base = p.baseAddress else { return }
                let shared = SharedPointer(base: base)
                Threads.forEach(count: 1000) { i in shared.base[i] = i * i }
            }
            return out
        }
        XCTAssertEqual(Threads.serially { squares() }, squares())
        XCTAssertEqual(squares(), (0..<1000).map { $0 * $0 })
    }
}
