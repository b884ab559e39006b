import FlyingFox
import Foundation

/// Answers the page's own paths and nothing else: the page, its two streams and its two JSON
/// documents. Every other path is 404, every other method 405, and on a loopback bind a request
/// with a foreign `Host` is 403.
struct LiveViewHandler: HTTPHandler {
    let hub: LiveHub
    let hostCheck: HostCheck

    func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard hostCheck.allows(host: request.headers[.host]) else {
            return Self.text(.forbidden, "Host '\(request.headers[.host] ?? "")' is not a loopback name; this server only answers pages on this machine (DNS rebinding protection)\n")
        }
        guard request.method == .GET else {
            var response = Self.text(.methodNotAllowed, "only GET\n")
            response.headers[HTTPHeader("Allow")] = "GET"
            return response
        }
        switch request.path {
        case "/", "/index.html":
            return Self.respond(.ok, type: "text/html; charset=utf-8", body: Data(Page.html.utf8))
        case "/api/status":
            return Self.respond(.ok, type: "application/json", body: Data(hub.status().json().utf8))
        case "/api/history":
            return Self.respond(.ok, type: "application/json", body: Data(hub.timelineJSON().utf8))
        case "/events":
            guard let slot = hub.admit(.events) else { return Self.busy(.events, limit: hub.clientLimit) }
            let stream = PullStream(source: EventLines(hub: hub, client: slot.id), start: false, slot: slot)
            return Self.stream(type: "text/event-stream", body: HTTPBodySequence(from: stream, suggestedBufferSize: 1 << 16))
        case "/video.mjpg":
            guard let slot = hub.admit(.video) else { return Self.busy(.video, limit: hub.clientLimit) }
            let stream = PullStream(source: MJPEGSource(hub: hub, client: slot.id), start: (), slot: slot)
            return Self.stream(type: "multipart/x-mixed-replace; boundary=\(MJPEGSource.boundary)",
                               body: HTTPBodySequence(from: stream, suggestedBufferSize: 1 << 18))
        default:
            return Self.text(.notFound, "not found: \(request.path)\n")
        }
    }

    private static func busy(_ kind: StreamKind, limit: Int) -> HTTPResponse {
        var response = text(.serviceUnavailable, "\(limit) \(kind.rawValue) clients are already connected; try again later\n")
        response.headers[HTTPHeader("Retry-After")] = "5"
        return response
    }

    private static func text(_ status: HTTPStatusCode, _ body: String) -> HTTPResponse {
        respond(status, type: "text/plain; charset=utf-8", body: Data(body.utf8))
    }

    private static func respond(_ status: HTTPStatusCode, type: String, body: Data) -> HTTPResponse {
        HTTPResponse(statusCode: status, headers: headers(type: type), body: body)
    }

    private static func stream(type: String, body: HTTPBodySequence) -> HTTPResponse {
        var headers = headers(type: type)
        // Tells proxies (an SSH tunnel's is not one, nginx is) not to hold the stream back.
        headers[HTTPHeader("X-Accel-Buffering")] = "no"
        return HTTPResponse(statusCode: .ok, headers: headers, body: body)
    }

    private static func headers(type: String) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers[.contentType] = type
        headers[HTTPHeader("Cache-Control")] = "no-store"
        headers[HTTPHeader("X-Content-Type-Options")] = "nosniff"
        headers[HTTPHeader("Referrer-Policy")] = "no-referrer"
        // Everything the page uses is its own; nothing else may load, and no other site may frame it.
        headers[HTTPHeader("Content-Security-Policy")] =
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self'; connect-src 'self'; frame-ancestors 'none'"
        return headers
    }
}
