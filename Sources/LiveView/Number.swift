import Foundation

/// Numbers in JSON: fixed decimals, no locale, no exponent, never NaN.
enum Number {
    static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "0" }
        return String(format: "%.\(digits)f", value)
    }
}
