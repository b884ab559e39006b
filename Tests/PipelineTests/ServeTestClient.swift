import Foundation
import XCTest

/// A loopback HTTP/1.1 client on a plain socket, for the `--serve` tests: it can read a stream
/// that never ends, a piece at a time, and it can connect and then never read (a stalled
/// viewer). Only what the tests need: one GET per connection, `Content-Length` or chunked bodies.
final class ServeTestClient {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let fd: Int32
    private var raw: [UInt8] = []
    /// The body read so far, de-chunked.
    private(set) var body: [UInt8] = []
    private(set) var status = 0
    private(set) var headers: [String: String] = [:]
    private var chunked = false
    private var remainingInChunk = 0
    private var bodyEnded = false

    /// `receiveBuffer`: a small one makes a client that never reads fill up fast.
    init(port: UInt16, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure(description: "connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send: \(String(cString: strerror(errno)))") }
            sent += n
        }
    }

    func get(_ path: String, host: String, method: String = "GET") throws {
        try send("\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n")
    }

    /// Reads until the response head is in; then `status` and `headers` are set.
    func readHead(within seconds: Double = 10) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if let end = find([13, 10, 13, 10], in: raw) {
                let head = String(decoding: raw[..<end], as: UTF8.self).components(separatedBy: "\r\n")
                let statusLine = head.first?.split(separator: " ") ?? []
                status = statusLine.count > 1 ? Int(statusLine[1]) ?? 0 : 0
                for line in head.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                raw.removeFirst(end + 4)
                chunked = headers["transfer-encoding"]?.lowercased().contains("chunked") ?? false
                decode()
                return
            }
            guard Date() < deadline else { throw Failure(description: "no response head within \(seconds) s") }
            guard try receive() else { throw Failure(description: "connection closed before the response head") }
        }
    }

    /// Reads body bytes until `done(body)` holds, the body ends, or the time is up.
    @discardableResult
    func readBody(within seconds: Double, until done: ([UInt8]) -> Bool = { _ in false }) throws -> [UInt8] {
        let deadline = Date().addingTimeInterval(seconds)
        while !done(body) && !bodyEnded && Date() < deadline {
            guard try receive() else { break }
            decode()
        }
        return body
    }

    /// Drops the body read so far (a stream reader keeps only what it has not parsed).
    func consumeBody(_ count: Int) { body.removeFirst(min(count, body.count)) }

    /// One read; false when the peer closed. A timeout is not an error (nothing came yet).
    private func receive() throws -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 {
            raw.append(contentsOf: buffer[..<n])
            return true
        }
        if n == 0 { return false }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return true }
        throw Failure(description: "recv: \(String(cString: strerror(errno)))")
    }

    private func decode() {
        guard chunked else {
            body.append(contentsOf: raw)
            raw.removeAll()
            if let length = headers["content-length"].flatMap(Int.init), body.count >= length { bodyEnded = true }
            return
        }
        while !raw.isEmpty {
            if remainingInChunk > 0 {
                let n = min(remainingInChunk, raw.count)
                body.append(contentsOf: raw[..<n])
                raw.removeFirst(n)
                remainingInChunk -= n
                if remainingInChunk == 0 { remainingInChunk = -2 }  // its CRLF comes next
                continue
            }
            if remainingInChunk == -2 {
                guard raw.count >= 2 else { return }
                raw.removeFirst(2)
                remainingInChunk = 0
                continue
            }
            guard let lineEnd = find([13, 10], in: raw) else { return }
            let size = Int(String(decoding: raw[..<lineEnd], as: UTF8.self).split(separator: ";").first ?? "", radix: 16) ?? 0
            raw.removeFirst(lineEnd + 2)
            if size == 0 { bodyEnded = true; return }
            remainingInChunk = size
        }
    }
}

func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int = 0) -> Int? {
    guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
    var i = start
    while i <= haystack.count - needle.count {
        if haystack[i] == needle[0] && Array(haystack[i..<(i + needle.count)]) == needle { return i }
        i += 1
    }
    return nil
}

/// One part of a `multipart/x-mixed-replace` stream.
struct MultipartPart {
    var headers: [String: String]
    var content: [UInt8]
}

/// The complete parts at the start of `body`, and how many bytes they took.
func parseParts(_ body: [UInt8], boundary: String) -> (parts: [MultipartPart], used: Int) {
    var parts: [MultipartPart] = []
    var at = 0
    let marker = Array("--\(boundary)\r\n".utf8)
    while let start = find(marker, in: body, from: at), let headEnd = find([13, 10, 13, 10], in: body, from: start) {
        var headers: [String: String] = [:]
        for line in String(decoding: body[(start + marker.count)..<headEnd], as: UTF8.self).components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        guard let length = headers["content-length"].flatMap(Int.init), body.count >= headEnd + 4 + length else { break }
        parts.append(MultipartPart(headers: headers, content: Array(body[(headEnd + 4)..<(headEnd + 4 + length)])))
        at = headEnd + 4 + length
    }
    return (parts, at)
}
