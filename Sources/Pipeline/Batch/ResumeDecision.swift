/// Whether a run processes an input or leaves it as an earlier run finished it.
public enum ResumeDecision: Sendable, Equatable {
    case skip
    case run(Reason)

    public enum Reason: String, Sendable, Equatable {
        case new, failed, stopped, changed, outputsMissing = "outputs missing", forced
    }

    /// Skips only an input whose latest record is `ok`, for the same file (size and modification
    /// time; a URL cannot be compared and counts as the same), with every output asked for now
    /// in place under the names the record gives. Anything else is run again.
    public static func decide(item: BatchItem, stamp: FileStamp?, latest: BatchRecord?, force: Bool,
                              exists: (String) -> Bool) -> ResumeDecision {
        if force { return .run(.forced) }
        guard let latest else { return .run(.new) }
        switch latest.status {
        case .failed: return .run(.failed)
        case .stopped: return .run(.stopped)
        case .ok: break
        }
        if !item.input.isURL {
            guard let stamp, let before = latest.stamp, stamp.matches(before) else { return .run(.changed) }
        }
        let recorded = Set(latest.outputs.all)
        guard item.outputs.all.allSatisfy({ recorded.contains($0) && exists($0) }) else { return .run(.outputsMissing) }
        return .skip
    }
}
