import Foundation

/// Where `--serve [HOST:]PORT` listens. The host defaults to loopback, so the page is not on
/// the network unless asked for; port 0 lets the system pick a free one.
public struct ServeAddress: Sendable, Equatable, CustomStringConvertible {
    /// A numeric IPv4 or IPv6 address (`localhost` is read as 127.0.0.1).
    public var host: String
    public var port: UInt16

    public init(host: String = "127.0.0.1", port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `PORT`, `HOST:PORT` or `[IPv6]:PORT`.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var host = "127.0.0.1"
        var portText = Substring(trimmed)
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.firstIndex(of: "]") else {
                throw LiveViewError.badAddress(text, reason: "an IPv6 address in brackets needs its closing ]")
            }
            host = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
            let rest = trimmed[trimmed.index(after: close)...]
            guard rest.hasPrefix(":") else { throw LiveViewError.badAddress(text, reason: "no :PORT after the address") }
            portText = rest.dropFirst()
        } else if let colon = trimmed.lastIndex(of: ":") {
            host = String(trimmed[..<colon])
            portText = trimmed[trimmed.index(after: colon)...]
            if host.contains(":") {
                throw LiveViewError.badAddress(text, reason: "write an IPv6 address in brackets, like [::1]:8080")
            }
        }
        guard let port = UInt16(portText) else {
            throw LiveViewError.badAddress(text, reason: "the port must be a number from 0 to 65535")
        }
        if host.lowercased() == "localhost" { host = "127.0.0.1" }
        guard IPAddress.kind(of: host) != nil else {
            throw LiveViewError.badAddress(text, reason: "'\(host)' is not a numeric IPv4 or IPv6 address")
        }
        self.host = host
        self.port = port
    }

    public var isIPv6: Bool { IPAddress.kind(of: host) == .v6 }

    /// Only this machine can connect: the Host header check applies.
    public var isLoopback: Bool { IPAddress.isLoopback(host) }

    /// Every interface: anyone on the network can watch.
    public var isAllInterfaces: Bool { host == "0.0.0.0" || host == "::" }

    /// The address as a URL's authority: `127.0.0.1:8080`, `[::1]:8080`.
    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Numeric addresses, checked with the system's parser.
enum IPAddress {
    enum Kind { case v4, v6 }

    static func kind(of text: String) -> Kind? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return .v4 }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return .v6 }
        return nil
    }

    /// 127.0.0.0/8 and ::1.
    static func isLoopback(_ text: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { bytes in bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1 }
        }
        return false
    }
}
