import Foundation

/// What a full queue does with a new item.
public enum OverflowPolicy: Sendable {
    /// The producer waits: no item is ever lost (file input).
    case block
    /// The oldest queued item is dropped and counted: latency stays bounded (live input).
    case dropOldest
}

/// A fixed-capacity FIFO between two pipeline stages, safe across threads.
/// Closing it lets the consumer drain what is queued and then see the end.
public final class BoundedQueue<Element>: @unchecked Sendable {
    private var items: [Element?]
    private var head = 0
    private var count = 0
    private var closed = false
    private var dropped = 0
    private let condition = NSCondition()
    public let capacity: Int
    public let policy: OverflowPolicy

    public init(capacity: Int, policy: OverflowPolicy) {
        self.capacity = max(1, capacity)
        self.policy = policy
        self.items = Array(repeating: nil, count: max(1, capacity))
    }

    /// Adds an item; returns false (and drops the item) when the queue is closed.
    /// With `.block` this waits while the queue is full; with `.dropOldest` it never waits.
    @discardableResult
    public func push(_ item: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while policy == .block && count == capacity && !closed { condition.wait() }
        if closed { return false }
        if count == capacity {
            // Only reachable with .dropOldest.
            items[head] = nil
            head = (head + 1) % capacity
            count -= 1
            dropped += 1
        }
        items[(head + count) % capacity] = item
        count += 1
        condition.broadcast()
        return true
    }

    /// The oldest item, waiting for one; nil once the queue is closed and empty.
    public func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while count == 0 && !closed { condition.wait() }
        return takeLocked()
    }

    /// The oldest item, waiting for one until `deadline`; nil at the deadline or once the queue
    /// is closed and empty.
    public func pop(waitingUntil deadline: Date) -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while count == 0 && !closed {
            if !condition.wait(until: deadline) { break }
        }
        return takeLocked()
    }

    /// The oldest item if one is queued right now; never waits.
    public func tryPop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        return takeLocked()
    }

    /// Removes the oldest item, if any, and wakes a waiting producer. Call with the lock held.
    private func takeLocked() -> Element? {
        guard count > 0 else { return nil }
        let item = items[head]
        items[head] = nil
        head = (head + 1) % capacity
        count -= 1
        condition.broadcast()
        return item
    }

    /// No more pushes; the consumer drains what is left.
    public func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Closes and throws away what is queued (live mode on stop).
    public func discardAndClose() {
        condition.lock()
        closed = true
        for i in 0..<capacity { items[i] = nil }
        count = 0
        condition.broadcast()
        condition.unlock()
    }

    /// Items dropped by `.dropOldest` so far.
    public var droppedCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return dropped
    }

    public var currentCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return count
    }
}
