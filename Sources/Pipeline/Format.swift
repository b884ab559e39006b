import Foundation

/// Number formatting for CSV, JSON and logs: fixed decimals, no locale, no exponent.
enum Format {
    static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "0" }
        return String(format: "%.\(digits)f", value)
    }

    static func fixed(_ value: Float, _ digits: Int) -> String { fixed(Double(value), digits) }

    /// "1 frame", "2 frames".
    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    /// Seconds for people: "0.42 s", "12.3 s", "2 min 05 s", "1 h 02 min".
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "0 s" }
        if seconds < 10 { return String(format: "%.2f s", seconds) }
        if seconds < 60 { return String(format: "%.1f s", seconds) }
        let s = Int(seconds.rounded())
        if s < 3600 { return String(format: "%d min %02d s", s / 60, s % 60) }
        return String(format: "%d h %02d min", s / 3600, (s / 60) % 60)
    }

    /// `hh:mm:ss.mmm` for logs.
    static func clock(_ seconds: Double) -> String {
        let ms = Int((max(0, seconds) * 1000).rounded())
        return String(format: "%02d:%02d:%02d.%03d", ms / 3_600_000, (ms / 60_000) % 60, (ms / 1000) % 60, ms % 1000)
    }
}
