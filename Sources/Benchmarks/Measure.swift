import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The clocks every benchmark reads. Wall time says what a user waits; CPU time (user + system)
/// says what the code costs, and stays meaningful on a shared machine whose neighbours take the
/// cores away for a while.
public enum Clock {
    /// Monotonic wall time in seconds (arbitrary origin).
    public static func wall() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// CPU seconds of every thread of this process.
    public static func processCPU() -> Double { read(CLOCK_PROCESS_CPUTIME_ID) }

    /// CPU seconds of the calling thread.
    public static func threadCPU() -> Double { read(CLOCK_THREAD_CPUTIME_ID) }

    private static func read(_ clock: clockid_t) -> Double {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Wall seconds `body` took.
    public static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = wall()
        try body()
        return wall() - start
    }
}

/// Summaries of repeated measurements.
public enum Stats {
    /// The middle value (the mean of the two middle ones for an even count); 0 for none.
    public static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}
