import Foundation

/// One of N equal parts of the sorted inputs: those whose position i has i % count == index.
/// Taking every N-th input (not N consecutive blocks) keeps the parts within one input of each
/// other in size and spreads long and short folders over all of them.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1 else { throw BatchError.badShard("the number of shards must be at least 1 (got \(count))") }
        guard (0..<count).contains(index) else {
            throw BatchError.badShard("shard \(index) is outside 0...\(count - 1) for \(count) shards")
        }
        self.index = index
        self.count = count
    }

    /// `--shard I/N`, I counted from 0.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let n = Int(parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw BatchError.badShard("--shard takes I/N with I from 0 to N-1, like 0/4 (got \(text))")
        }
        try self.init(index: i, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    public func select<T>(_ items: [T]) -> [T] {
        items.enumerated().filter { $0.offset % count == index }.map(\.element)
    }

    /// The record file this shard appends to.
    public var recordFile: String { "batch-shard-\(index)-of-\(count).jsonl" }

    /// The shard a run takes, or nil for all inputs: `--shard I/N` first; else a Slurm array
    /// task (`SLURM_ARRAY_TASK_ID`, counted from `SLURM_ARRAY_TASK_MIN` in steps of
    /// `SLURM_ARRAY_TASK_STEP`, out of `SLURM_ARRAY_TASK_COUNT` or the MIN..MAX range); else a
    /// Kubernetes indexed Job's `JOB_COMPLETION_INDEX` out of `--shards N`. `--shards N`
    /// also overrides Slurm's count.
    public static func resolve(flag: String?, shards: Int?, environment: [String: String]) throws -> Shard? {
        if let flag { return try Shard(parsing: flag) }
        if let shards, shards < 1 { throw BatchError.badShard("--shards must be at least 1 (got \(shards))") }
        if let id = try number("SLURM_ARRAY_TASK_ID", environment) {
            let min = try number("SLURM_ARRAY_TASK_MIN", environment) ?? 0
            let step = try number("SLURM_ARRAY_TASK_STEP", environment) ?? 1
            guard step >= 1 else { throw BatchError.badEnvironment(variable: "SLURM_ARRAY_TASK_STEP", value: String(step), reason: "must be at least 1") }
            guard id >= min, (id - min) % step == 0 else {
                throw BatchError.badEnvironment(variable: "SLURM_ARRAY_TASK_ID", value: String(id),
                                                reason: "not in the array starting at \(min) in steps of \(step)")
            }
            var count = shards
            if count == nil { count = try number("SLURM_ARRAY_TASK_COUNT", environment) }
            if count == nil, let max = try number("SLURM_ARRAY_TASK_MAX", environment) { count = (max - min) / step + 1 }
            guard let count else { throw BatchError.shardsNeeded(variable: "SLURM_ARRAY_TASK_ID") }
            return try Shard(index: (id - min) / step, count: count)
        }
        if let index = try number("JOB_COMPLETION_INDEX", environment) {
            guard let shards else { throw BatchError.shardsNeeded(variable: "JOB_COMPLETION_INDEX") }
            return try Shard(index: index, count: shards)
        }
        if shards != nil {
            throw BatchError.badShard("--shards needs an index: --shard I/N, SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX")
        }
        return nil
    }

    private static func number(_ name: String, _ env: [String: String]) throws -> Int? {
        guard let text = env[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        guard let value = Int(text), value >= 0 else {
            throw BatchError.badEnvironment(variable: name, value: text, reason: "not a whole number of 0 or more")
        }
        return value
    }
}
