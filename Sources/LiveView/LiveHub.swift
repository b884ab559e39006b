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
    private let release: @Sendable () -> Void
    init(release: @escaping @Sendable () -> Void) { self.release = release }
    deinit { release() }
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
    private var published: UInt64 = 0
    private var clients: [StreamKind: Int] = [:]
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
            if let raw, raw.number > number, (clients[.video] ?? 0) > 0 { return raw }
            state.wait()
        }
        return nil
    }

    func publishEncoded(_ frame: EncodedFrame) {
        state.lock()
        encoded = frame
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
    func admit(_ kind: StreamKind) -> ClientSlot? {
        state.lock()
        defer { state.unlock() }
        guard !closed, clients[kind, default: 0] < clientLimit else { return nil }
        clients[kind, default: 0] += 1
        state.broadcast()  // the encoder starts when the first video client comes
        return ClientSlot { [weak self] in self?.leave(kind) }
    }

    private func leave(_ kind: StreamKind) {
        state.lock()
        clients[kind, default: 0] = max(0, clients[kind, default: 0] - 1)
        state.unlock()
    }

    func countClients(_ kind: StreamKind) -> Int {
        state.lock()
        defer { state.unlock() }
        return clients[kind, default: 0]
    }

    enum VideoNext {
        case frame(EncodedFrame)
        case finished
    }

    /// The newest JPEG after `number`, waiting for one; `.finished` once the run has ended and
    /// its last frame was sent (or the hub closed). Frames the client was too slow to take
    /// count as dropped.
    func nextVideo(after number: UInt64) async -> VideoNext {
        while true {
            let (ready, seen) = pollVideo(after: number)
            if let ready { return ready }
            await waitForChange(from: seen)
        }
    }

    private func pollVideo(after number: UInt64) -> (VideoNext?, UInt64) {
        state.lock()
        defer { state.unlock() }
        if closed { return (.finished, generation) }
        if let encoded, encoded.number > number {
            if number > 0 { viewerDrops += Int(encoded.number - number - 1) }
            return (.frame(encoded), generation)
        }
        let caughtUp = raw == nil || encoded?.number == raw?.number || encoderGaveUp
        if keeper.figures.state != .running && caughtUp { return (.finished, generation) }
        return (nil, generation)
    }

    enum EventsNext {
        case lines([String], last: UInt64)
        case ended(status: String)
        case finished
    }

    /// The event lines after `number`, waiting for some; then, once the run is over, the end.
    func nextEvents(after number: UInt64) async -> EventsNext {
        while true {
            let (ready, seen) = pollEvents(after: number)
            if let ready { return ready }
            await waitForChange(from: seen)
        }
    }

    private func pollEvents(after number: UInt64) -> (EventsNext?, UInt64) {
        state.lock()
        defer { state.unlock() }
        let (lines, skipped) = events.lines(after: number)
        if !closed, !lines.isEmpty {
            viewerDrops += skipped
            return (.lines(Array(lines), last: events.nextNumber - 1), generation)
        }
        if keeper.figures.state != .running { return (.ended(status: statusLocked().json()), generation) }
        if closed { return (.finished, generation) }
        return (nil, generation)
    }

    /// The number the next event line will get: a new client starts there.
    func eventCursor() -> UInt64 {
        state.lock()
        defer { state.unlock() }
        return events.nextNumber - 1
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
        state.unlock()
        return copy.json()
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
        StatusReport(facts: facts, figures: keeper.figures,
                     videoClients: clients[.video, default: 0], eventClients: clients[.events, default: 0],
                     viewerDroppedFrames: viewerDrops)
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
