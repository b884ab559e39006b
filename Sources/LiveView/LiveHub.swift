import Capture
import Foundation
import Pipeline

/// The kinds of long-lived responses; each has its own client limit.
public enum StreamKind: String, Sendable, CaseIterable {
    case video, events
}

/// A frame with its result, waiting for the JPEG encoder.
struct RawFrame: @unchecked Sendable {
    var number: UInt64
    var frame: Frame
    var result: FrameResult
    /// Unix time the frame left the source.
    var capturedAt: Double
}

/// One annotated JPEG, as every video client receives it.
struct EncodedFrame: Sendable {
    var number: UInt64
    var frameIndex: Int
    var capturedAt: Double
    var jpeg: [UInt8]
}

/// Holds a client's place among the `limit` a stream kind allows; the place is given back when
/// the response (and so this object) goes away, however the connection ended.
final class ClientSlot: Sendable {
    let id: Int
    private let release: @Sendable () -> Void
    init(id: Int, release: @escaping @Sendable () -> Void) { self.id = id; self.release = release }
    deinit { release() }
}

/// A connected stream client: its kind and the last frame or event line it took.
struct Client {
    var kind: StreamKind
    var lastTaken: UInt64
}

/// The meeting point of the pipeline and the web server. The pipeline's sink thread puts in
/// each frame (cheap: a copy of references under a lock; no encoding, no waiting); the
/// encoder thread and the server's tasks take out what they need, each at its own pace, and
/// only the newest frame is ever kept for them, so a slow viewer can never hold the run back.
public final class LiveHub: @unchecked Sendable {
    public let facts: SourceFacts
    /// Clients allowed per stream kind (a page holds one of each).
    public let clientLimit: Int

    /// One lock for everything; the encoder thread also waits on it.
    private let state = NSCondition()
    private var keeper = FigureKeeper()
    private var timeline: Timeline
    private var events = EventRing(capacity: 256)
    private var raw: RawFrame?
    private var encoded: EncodedFrame?
    private var encoderGaveUp = false
    private var encodedCount = 0
    private var published: UInt64 = 0
    private var clients: [Int: Client] = [:]
    private var nextClientID = 1
    /// Frames and event lines clients skipped (or, for a stalled one, have not taken before
    /// newer ones replaced them).
    private var viewerDrops = 0
    private var closed = false
    /// Bumped on every change the streams wait for.
    private var generation: UInt64 = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init(facts: SourceFacts, clientLimit: Int = 16) {
        self.facts = facts
        self.clientLimit = clientLimit
        timeline = Timeline(window: facts.kind == .live ? 60 : nil)
    }

    // MARK: - From the pipeline (the sinks' thread)

    /// A finished frame: its result, its picture, and the pipeline's figures after it.
    func publish(_ result: FrameResult, frame: Frame, progress: PipelineProgress?) {
        let now = Date().timeIntervalSince1970
        // Building the JSON line costs a little: only when someone follows the events.
        let line = countClients(.events) > 0 ? JSONLinesSink.line(result) : nil
        state.lock()
        keeper.record(result)
        if let progress { keeper.record(progress) }
        timeline.record(result)
        if let line { events.append(line) }
        published += 1
        raw = RawFrame(number: published, frame: frame, result: result, capturedAt: now - (progress?.latency ?? 0))
        let wake = changed()
        state.broadcast()
        state.unlock()
        wake.forEach { $0.resume() }
    }

    /// The run is over; streams send what is left and end.
    func end(_ final: RunState) {
        state.lock()
        keeper.end(final)
        let wake = changed()
        state.broadcast()
        state.unlock()
        wake.forEach { $0.resume() }
    }

    // MARK: - For the encoder thread

    /// Waits until there is a frame newer than the last encoded one and someone watches the
    /// video; nil once the hub is closed.
    func nextFrameToEncode(after number: UInt64) -> RawFrame? {
        state.lock()
        defer { state.unlock() }
        while !closed {
            if let raw, raw.number > number, countLocked(.video) > 0 { return raw }
            state.wait()
        }
        return nil
    }

    func publishEncoded(_ frame: EncodedFrame) {
        state.lock()
        // A client that had not taken the frame this one replaces never will: one dropped.
        if let old = encoded {
            for client in clients.values where client.kind == .video && client.lastTaken < old.number { viewerDrops += 1 }
        }
        encoded = frame
        encodedCount += 1
        let wake = changed()
        state.unlock()
        wake.forEach { $0.resume() }
    }

    func encoderFailed() {
        state.lock()
        encoderGaveUp = true
        let wake = changed()
        state.unlock()
        wake.forEach { $0.resume() }
    }

    // MARK: - For the server's tasks

    /// A place for one more client of `kind`, or nil when `clientLimit` are already there.
    /// An event client starts at the newest line; a video client at the newest frame.
    func admit(_ kind: StreamKind) -> ClientSlot? {
        state.lock()
        defer { state.unlock() }
        guard !closed, countLocked(kind) < clientLimit else { return nil }
        let id = nextClientID
        nextClientID += 1
        clients[id] = Client(kind: kind, lastTaken: kind == .events ? events.nextNumber - 1 : 0)
        state.broadcast()  // the encoder starts when the first video client comes
        return ClientSlot(id: id) { [weak self] in self?.leave(id) }
    }

    private func leave(_ id: Int) {
        state.lock()
        clients[id] = nil
        state.unlock()
    }

    func countClients(_ kind: StreamKind) -> Int {
        state.lock()
        defer { state.unlock() }
        return countLocked(kind)
    }

    private func countLocked(_ kind: StreamKind) -> Int {
        clients.values.reduce(0) { $0 + ($1.kind == kind ? 1 : 0) }
    }

    enum VideoNext {
        case frame(EncodedFrame)
        case finished
    }

    /// The newest JPEG after `number`, waiting for one; `.finished` once the run has ended and
    /// its last frame was sent (or the hub closed). Frames the client was too slow to take
    /// count as dropped.
    func nextVideo(for client: Int) async -> VideoNext {
        while true {
            let (ready, seen) = pollVideo(for: client)
            if let ready { return ready }
            await waitForChange(from: seen)
        }
    }

    private func pollVideo(for client: Int) -> (VideoNext?, UInt64) {
        state.lock()
        defer { state.unlock() }
        if closed { return (.finished, generation) }
        guard let number = clients[client]?.lastTaken else { return (.finished, generation) }
        if let encoded, encoded.number > number {
            clients[client]?.lastTaken = encoded.number
            return (.frame(encoded), generation)
        }
        let caughtUp = raw == nil || encoded?.number == raw?.number || encoderGaveUp
        if keeper.figures.state != .running && caughtUp { return (.finished, generation) }
        return (nil, generation)
    }

    enum EventsNext {
        case lines([String])
        case ended(status: String)
        case finished
    }

    /// The event lines after `number`, waiting for some; then, once the run is over, the end.
    func nextEvents(for client: Int) async -> EventsNext {
        while true {
            let (ready, seen) = pollEvents(for: client)
            if let ready { return ready }
            await waitForChange(from: seen)
        }
    }

    private func pollEvents(for client: Int) -> (EventsNext?, UInt64) {
        state.lock()
        defer { state.unlock() }
        guard let number = clients[client]?.lastTaken else { return (.finished, generation) }
        let (lines, skipped) = events.lines(after: number)
        if !closed, !lines.isEmpty {
            viewerDrops += skipped
            clients[client]?.lastTaken = events.nextNumber - 1
            return (.lines(Array(lines)), generation)
        }
        if keeper.figures.state != .running { return (.ended(status: statusLocked().json()), generation) }
        if closed { return (.finished, generation) }
        return (nil, generation)
    }

    /// JPEG pictures encoded so far (none while nobody watches the video).
    var framesEncoded: Int {
        state.lock()
        defer { state.unlock() }
        return encodedCount
    }

    public func status() -> StatusReport {
        state.lock()
        defer { state.unlock() }
        return statusLocked()
    }

    public var figures: RunFigures {
        state.lock()
        defer { state.unlock() }
        return keeper.figures
    }

    func timelineJSON() -> String {
        state.lock()
        let copy = timeline
        let last = raw?.result
        state.unlock()
        return copy.json(last: last.map(JSONLinesSink.line))
    }

    /// Ends every stream and the encoder thread; the server is going away.
    public func close() {
        state.lock()
        closed = true
        let wake = changed()
        state.broadcast()
        state.unlock()
        wake.forEach { $0.resume() }
    }

    // MARK: - Private

    private func statusLocked() -> StatusReport {
        // Lines a stalled events client has lost already, though it has not come back for more.
        let pending = clients.values.filter { $0.kind == .events }
            .reduce(0) { $0 + events.lines(after: $1.lastTaken).skipped }
        return StatusReport(facts: facts, figures: keeper.figures,
                            videoClients: countLocked(.video), eventClients: countLocked(.events),
                            viewerDroppedFrames: viewerDrops + pending)
    }

    /// Under the lock: marks a change and hands back the waiters to resume once it is released.
    private func changed() -> [CheckedContinuation<Void, Never>] {
        generation &+= 1
        let wake = waiters
        waiters.removeAll()
        return wake
    }

    private func waitForChange(from seen: UInt64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            enqueue(continuation, ifStill: seen)
        }
    }

    private func enqueue(_ continuation: CheckedContinuation<Void, Never>, ifStill seen: UInt64) {
        state.lock()
        guard generation == seen, !closed else {
            state.unlock()
            continuation.resume()
            return
        }
        waiters.append(continuation)
        state.unlock()
    }
}
