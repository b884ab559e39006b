import Foundation

/// Number formatting for CSV, JSON and logs: fixed decimals, no locale, no exponent.
enum Format {
    static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "0" }
        return String(format: "%.\(digits)f", value)
    }

    static func fixed(_ value: Float, _ digits: Int) -> String { fixed(Double(value), digits) }

    /// `hh:mm:ss.mmm` for logs.
    static func clock(_ seconds: Double) -> String {
        let ms = Int((max(0, seconds) * 1000).rounded())
        return String(format: "%02d:%02d:%02d.%03d", ms / 3_600_000, (ms / 60_000) % 60, (ms / 1000) % 60, ms % 1000)
    }
}
