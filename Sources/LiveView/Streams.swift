import FlyingFox
import FlyingSocks
import Foundation

/// Something that produces a long response piece by piece; nil ends it.
protocol StreamSource: Sendable {
    associatedtype Cursor: Sendable
    /// The next piece of the body, waiting for it as long as needed.
    func next(_ cursor: inout Cursor) async -> [UInt8]?
}

/// Adapts a `StreamSource` to FlyingFox's body sequence. The server asks for the next piece
/// only when the last one was written to the socket, which is the back-pressure: a slow client
/// is simply asked less often, and the hub hands it the newest piece when it does.
struct PullStream<Source: StreamSource>: AsyncBufferedSequence, Sendable {
    typealias Element = UInt8
    let source: Source
    let start: Source.Cursor
    /// Keeps the client's place (`ClientSlot`) for as long as the response exists.
    let slot: ClientSlot

    func makeAsyncIterator() -> Iterator { Iterator(source: source, cursor: start, slot: slot) }

    struct Iterator: AsyncBufferedIteratorProtocol {
        let source: Source
        var cursor: Source.Cursor
        let slot: ClientSlot
        private var piece: [UInt8] = []
        private var offset = 0
        private var ended = false

        init(source: Source, cursor: Source.Cursor, slot: ClientSlot) {
            self.source = source
            self.cursor = cursor
            self.slot = slot
        }

        mutating func next() async throws -> UInt8? {
            try await nextBuffer(suggested: 1)?.first
        }

        mutating func nextBuffer(suggested count: Int) async throws -> ArraySlice<UInt8>? {
            while offset >= piece.count {
                guard !ended, let more = await source.next(&cursor) else {
                    ended = true
                    return nil
                }
                piece = more
                offset = 0
            }
            let end = Swift.min(piece.count, offset + Swift.max(1, count))
            defer { offset = end }
            return piece[offset..<end]
        }
    }
}

/// `GET /video.mjpg`: `multipart/x-mixed-replace` JPEG parts, the newest frame each time the
/// client is ready for one. Each part says which frame it is and when it was captured, so a
/// client can measure the delay.
struct MJPEGSource: StreamSource {
    static let boundary = "fer-live-frame"
    let hub: LiveHub
    let client: Int

    func next(_ cursor: inout Void) async -> [UInt8]? {
        guard case .frame(let frame) = await hub.nextVideo(for: client) else { return nil }
        let head = "--\(Self.boundary)\r\nContent-Type: image/jpeg\r\nContent-Length: \(frame.jpeg.count)\r\n"
            + "X-Frame: \(frame.frameIndex)\r\nX-Captured-At: \(Number.fixed(frame.capturedAt, 4))\r\n\r\n"
        var bytes = Array(head.utf8)
        bytes.reserveCapacity(bytes.count + frame.jpeg.count + 2)
        bytes.append(contentsOf: frame.jpeg)
        bytes.append(contentsOf: [13, 10])
        return bytes
    }
}

/// `GET /events`: Server-Sent Events, one `data:` line per frame in the JSON-lines schema;
/// a client that falls behind gets the lines still held (skipping the rest), and at the end an
/// `end` event with the final status.
struct EventLines: StreamSource {
    let hub: LiveHub
    let client: Int

    /// `true` once the end was sent.
    func next(_ sentEnd: inout Bool) async -> [UInt8]? {
        guard !sentEnd else { return nil }
        switch await hub.nextEvents(for: client) {
        case .lines(let lines):
            return Array(lines.map { "data: \($0)\n\n" }.joined().utf8)
        case .ended(let status):
            sentEnd = true
            return Array("event: end\ndata: \(status)\n\n".utf8)
        case .finished:
            return nil
        }
    }
}
