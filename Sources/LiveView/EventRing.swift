/// The last few hundred event lines, numbered, so each client can follow at its own pace: a
/// client that falls further behind than the ring holds skips what was overwritten (counted),
/// and nobody ever waits for it.
struct EventRing: Sendable {
    let capacity: Int
    private(set) var lines: [String] = []
    /// The number of `lines[0]`; numbers start at 1, so 0 means "before everything".
    private(set) var firstNumber: UInt64 = 1

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// The number the next line will get.
    var nextNumber: UInt64 { firstNumber + UInt64(lines.count) }

    mutating func append(_ line: String) {
        lines.append(line)
        if lines.count > capacity {
            let excess = lines.count - capacity
            lines.removeFirst(excess)
            firstNumber += UInt64(excess)
        }
    }

    /// The lines after number `seen`, and how many after it were already overwritten.
    func lines(after seen: UInt64) -> (lines: ArraySlice<String>, skipped: Int) {
        let wanted = seen + 1
        let skipped = wanted < firstNumber ? Int(firstNumber - wanted) : 0
        let start = wanted <= firstNumber ? 0 : Int(min(UInt64(lines.count), wanted - firstNumber))
        return (lines[start...], skipped)
    }
}
