import Foundation

/// Protection from DNS rebinding: a page on another site can make the browser resolve its own
/// name to 127.0.0.1 and read a loopback server, but the browser still sends that site's name
/// in `Host`. A server bound to loopback therefore answers only requests whose `Host` is a
/// loopback name or address.
public struct HostCheck: Sendable {
    /// Off for a server bound to a network address, where the user chose to be reachable by
    /// whatever name the network gives the machine.
    public var enforced: Bool

    public init(enforced: Bool) { self.enforced = enforced }

    public func allows(host header: String?) -> Bool {
        guard enforced else { return true }
        // HTTP/1.1 requires Host; a request without one is not from a browser.
        guard let header, let name = Self.hostname(header) else { return false }
        let lowered = name.lowercased()
        return lowered == "localhost" || lowered.hasSuffix(".localhost") || IPAddress.isLoopback(lowered)
    }

    /// The name in a Host header without its port: `127.0.0.1:8080` -> `127.0.0.1`,
    /// `[::1]:8080` -> `::1`. Nil when it is malformed.
    static func hostname(_ header: String) -> String? {
        let text = header.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || (rest.hasPrefix(":") && UInt16(rest.dropFirst()) != nil) else { return nil }
            return String(text[text.index(after: text.startIndex)..<close])
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return text.isEmpty ? nil : text
        case 2: return UInt16(parts[1]) != nil && !parts[0].isEmpty ? String(parts[0]) : nil
        default: return nil
        }
    }
}
