import Foundation
import XCTest
@testable import Pipeline

final class BoundedQueueTests: XCTestCase {
    func testBlockingQueueKeepsEveryItemInOrder() {
        let queue = BoundedQueue<Int>(capacity: 3, policy: .block)
        let producer = Thread {
            for i in 0..<1000 { queue.push(i) }
            queue.close()
        }
        producer.start()
        var received: [Int] = []
        while let x = queue.pop() { received.append(x) }
        XCTAssertEqual(received, Array(0..<1000))
        XCTAssertEqual(queue.droppedCount, 0)
    }

    func testDropOldestKeepsNewestAndCounts() {
        let queue = BoundedQueue<Int>(capacity: 2, policy: .dropOldest)
        for i in 0..<10 { XCTAssertTrue(queue.push(i)) }
        XCTAssertEqual(queue.droppedCount, 8)
        XCTAssertEqual(queue.pop(), 8)
        XCTAssertEqual(queue.pop(), 9)
        XCTAssertNil(queue.tryPop())
    }

    func testCloseDrainsThenEnds() {
        let queue = BoundedQueue<Int>(capacity: 4, policy: .block)
        queue.push(1)
        queue.push(2)
        queue.close()
        XCTAssertFalse(queue.push(3), "a closed queue refuses items")
        XCTAssertEqual(queue.pop(), 1)
        XCTAssertEqual(queue.pop(), 2)
        XCTAssertNil(queue.pop())
    }

    func testDiscardUnblocksAWaitingProducer() {
        let queue = BoundedQueue<Int>(capacity: 1, policy: .block)
        queue.push(0)
        let done = expectation(description: "producer returns")
        Thread {
            let accepted = queue.push(1)   // blocks: queue is full
            XCTAssertFalse(accepted)
            done.fulfill()
        }.start()
        Thread.sleep(forTimeInterval: 0.05)
        queue.discardAndClose()
        wait(for: [done], timeout: 5)
        XCTAssertNil(queue.pop())
    }

    /// The deadline pop returns what is queued at once, gives up empty-handed at its deadline,
    /// takes an item pushed while it waits, and ends at close.
    func testPopWithDeadline() {
        let queue = BoundedQueue<Int>(capacity: 4, policy: .block)
        queue.push(7)
        XCTAssertEqual(queue.pop(waitingUntil: Date(timeIntervalSinceNow: 5)), 7)
        let start = Date()
        XCTAssertNil(queue.pop(waitingUntil: Date(timeIntervalSinceNow: 0.05)), "nothing arrives")
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(start), 0.04, "it waited for the deadline")
        Thread { Thread.sleep(forTimeInterval: 0.02); queue.push(8) }.start()
        XCTAssertEqual(queue.pop(waitingUntil: Date(timeIntervalSinceNow: 5)), 8, "an item pushed while waiting")
        Thread { Thread.sleep(forTimeInterval: 0.02); queue.close() }.start()
        let closing = Date()
        XCTAssertNil(queue.pop(waitingUntil: Date(timeIntervalSinceNow: 5)))
        XCTAssertLessThan(Date().timeIntervalSince(closing), 4, "close ends the wait")
    }
}
