import Capture
import Classifier
import CoreTypes
import FaceDetect
import Foundation
import Parallel

/// How the pipeline treats a source that produces frames faster than inference consumes them.
public enum PipelineMode: Sendable {
    /// Every frame, in order; producers wait when a queue is full (files).
    case file
    /// Latency first: stale frames are dropped and counted (cameras, `--realtime` replays).
    case live
}

public struct PipelineOptions: Sendable {
    public var mode: PipelineMode = .file
    /// Stop after this many frames from the source.
    public var maxFrames: Int?
    /// Frames held between two stages in file mode.
    public var queueCapacity: Int = 8
    /// Up to this many frames' faces go through the classifier as one batch ...
    public var batchFrames: Int = 8
    /// ... or fewer frames once they hold this many faces. The classifier costs a third as much
    /// CPU per face in batches of 16 as one face at a time (`fer-live bench classify --batch`).
    public var batchFaces: Int = 16
    /// How long a file's classify stage waits for more frames to fill a batch (a network stream
    /// read as a file must not fall behind); live mode never waits.
    public var batchWaitSeconds: Double = 0.1
    public var tracker = Tracker.Options()
    /// Whether the detect and classify stages spread each frame's work over the cores (as they
    /// do outside the pipeline) or run it on their own thread only, leaving the cores to the
    /// other stages.
    public var splitFramesOverCores = true
    public init() {}
}

/// What a finished run reports.
public struct PipelineSummary: Sendable {
    public var frames = 0
    public var faces = 0
    public var framesWithFaces = 0
    /// Frames the live mode dropped to stay current.
    public var dropped = 0
    public var seconds: Double = 0
    public var emotionCounts = [Int](repeating: 0, count: Emotion.allCases.count)
    /// Wall-clock delay from a frame leaving the source to its result leaving the sinks.
    public var latencies: [Double] = []
    public var stoppedEarly = false
    /// The signal that stopped the run (SIGINT, SIGTERM), if one did.
    public var stopSignal: Int32?

    public var fps: Double { seconds > 0 ? Double(frames) / seconds : 0 }

    public func latencyPercentile(_ p: Double) -> Double? {
        guard !latencies.isEmpty else { return nil }
        let sorted = latencies.sorted()
        let i = min(sorted.count - 1, max(0, Int((p * Double(sorted.count - 1)).rounded())))
        return sorted[i]
    }
}

/// Progress as the sinks see it, for a progress bar.
public struct PipelineProgress: Sendable {
    public var frames: Int
    public var faces: Int
    public var elapsed: Double
    public var totalFrames: Int?
    /// Seconds from the newest frame leaving the source to its result leaving the sinks.
    public var latency: Double = 0
    /// Frames the live mode has dropped so far.
    public var dropped: Int = 0

    public init(frames: Int, faces: Int, elapsed: Double, totalFrames: Int?, latency: Double = 0, dropped: Int = 0) {
        self.frames = frames; self.faces = faces; self.elapsed = elapsed
        self.totalFrames = totalFrames; self.latency = latency; self.dropped = dropped
    }
}

/// decode -> detect -> classify + track -> sinks, each stage on its own thread, joined by
/// bounded queues so decoding, inference and encoding overlap on the cores.
public final class Pipeline: @unchecked Sendable {
    private let source: FrameSource
    private let detector: FaceDetecting
    private let classifier: EmotionClassifying
    private let sinks: [ResultSink]
    private let options: PipelineOptions
    /// Live replays pace the decoder by the frames' timestamps, as a camera would.
    private let pacer: FramePacer?

    private let state = NSLock()
    private var stopRequested = false
    private var firstError: Error?

    private struct Captured { var frame: Frame; var wallTime: Double }
    private struct Detected { var frame: Frame; var wallTime: Double; var faces: [Face] }
    private struct Finished { var frame: Frame; var wallTime: Double; var result: FrameResult }

    public init(source: FrameSource, detector: FaceDetecting, classifier: EmotionClassifying,
                sinks: [ResultSink], options: PipelineOptions = PipelineOptions(), realtime: Bool = false) {
        self.source = source
        self.detector = detector
        self.classifier = classifier
        self.sinks = sinks
        self.options = options
        self.pacer = realtime ? FramePacer() : nil
    }

    /// Asks the run to end: file mode finishes what is queued, live mode discards it.
    /// Safe from any thread (a signal handler's queue included).
    public func stop() {
        state.lock()
        stopRequested = true
        state.unlock()
    }

    private var shouldStop: Bool {
        state.lock()
        defer { state.unlock() }
        return stopRequested || firstError != nil
    }

    private func fail(_ error: Error) {
        state.lock()
        if firstError == nil { firstError = error }
        state.unlock()
    }

    /// Runs to the end of the input (or `stop()`), then finishes every sink, so the CSV is
    /// flushed, the video trailer written and each output moved into place. On error, or when no
    /// frame was read, the sinks are abandoned instead (nothing is replaced) and the first error
    /// is rethrown.
    public func run(progress: (@Sendable (PipelineProgress) -> Void)? = nil) throws -> PipelineSummary {
        let live = options.mode == .live
        // Live: the detector always takes the newest frame; one waiting frame is enough.
        let captured = BoundedQueue<Captured>(capacity: live ? 1 : options.queueCapacity,
                                              policy: live ? .dropOldest : .block)
        let detected = BoundedQueue<Detected>(capacity: live ? 2 : options.queueCapacity, policy: .block)
        let finished = BoundedQueue<Finished>(capacity: live ? 2 : options.queueCapacity, policy: .block)
        let clock = Clock()
        var summary = PipelineSummary()

        // Known faces belong to this stream alone (the tracker, made in the classify stage, too).
        let detector = self.detector.forNewStream()
        let group = DispatchGroup()
        spawn(group, name: "fer-live.decode") { [self] in
            defer { captured.close() }
            var count = 0
            while !shouldStop {
                if let max = options.maxFrames, count >= max { break }
                guard let frame = try source.nextFrame() else { break }
                pacer?.wait(until: frame.time)
                count += 1
                if !captured.push(Captured(frame: frame, wallTime: clock.now)) { break }
            }
        }
        spawn(group, name: "fer-live.detect") { [self] in
            defer { detected.close() }
            while let item = captured.pop() {
                if shouldStop && live { break }
                let faces = try serialIfAsked { try detector.detect(in: item.frame) }
                if !detected.push(Detected(frame: item.frame, wallTime: item.wallTime, faces: faces)) { break }
            }
        }
        spawn(group, name: "fer-live.classify") { [self] in
            defer { finished.close() }
            var tracker = Tracker(options: options.tracker)
            while let first = detected.pop() {
                if shouldStop && live { break }
                var batch = [first], faces = first.faces.count
                // A file waits a little for fuller batches (several faces per classifier call
                // cost less per face than one); live mode's deadline is now, so it takes only
                // what is already there.
                let deadline = Date(timeIntervalSinceNow: live ? 0 : options.batchWaitSeconds)
                while batch.count < options.batchFrames, faces < options.batchFaces,
                      let more = detected.pop(waitingUntil: deadline) {
                    batch.append(more)
                    faces += more.faces.count
                }
                let requests = batch.enumerated().flatMap { (i, d) in d.faces.map { (frame: i, face: $0) } }
                let scores = requests.isEmpty ? [] : try serialIfAsked { try classifier.classify(requests, in: batch.map(\.frame)) }
                var offset = 0
                for d in batch {
                    let mine = Array(scores[offset..<(offset + d.faces.count)])
                    offset += d.faces.count
                    let tracked = tracker.update(frameIndex: d.frame.index, time: d.frame.time, faces: d.faces, scores: mine)
                    let result = FrameResult(frameIndex: d.frame.index, time: d.frame.time, faces: tracked)
                    if !finished.push(Finished(frame: d.frame, wallTime: d.wallTime, result: result)) { return }
                }
            }
        }
        // The sinks run here, on the caller's thread, so results leave in frame order.
        while let item = finished.pop() {
            if shouldStop && live { break }
            do {
                for sink in sinks { try sink.consume(item.result, frame: item.frame) }
            } catch {
                fail(error)
                break
            }
            summary.frames += 1
            summary.faces += item.result.faces.count
            if !item.result.faces.isEmpty { summary.framesWithFaces += 1 }
            for f in item.result.faces { summary.emotionCounts[f.scores.top.rawValue] += 1 }
            let latency = clock.now - item.wallTime
            summary.latencies.append(latency)
            progress?(PipelineProgress(frames: summary.frames, faces: summary.faces, elapsed: clock.now,
                                       totalFrames: source.info.frameCount.map { min($0, options.maxFrames ?? $0) },
                                       latency: latency, dropped: captured.droppedCount))
        }
        // Unblock and drain every stage before the sinks are closed.
        captured.discardAndClose()
        detected.discardAndClose()
        finished.discardAndClose()
        group.wait()
        summary.seconds = clock.now
        summary.dropped = captured.droppedCount

        state.lock()
        var failure = firstError
        summary.stoppedEarly = stopRequested
        state.unlock()
        if failure == nil && summary.frames == 0 && !summary.stoppedEarly {
            failure = PipelineError.noFrames(source: source.info.name)
        }
        if let failure {
            // A failed run replaces nothing: each sink removes its temporary file.
            for sink in sinks { sink.abandon() }
            throw failure
        }
        // Finished or stopped (Ctrl-C, SIGTERM): every output is completed and moved into place.
        var finishError: Error?
        for sink in sinks {
            if finishError != nil { sink.abandon(); continue }
            do { try sink.finish() } catch { finishError = error }
        }
        if let finishError { throw finishError }
        // The outputs are whole and in place; a stream that broke off still ends in an error.
        if let failure = source.failure { throw failure }
        return summary
    }

    /// Detection and classification split each frame over the cores unless told not to.
    private func serialIfAsked<T>(_ body: () throws -> T) rethrows -> T {
        options.splitFramesOverCores ? try body() : try Threads.serially(body)
    }

    private func spawn(_ group: DispatchGroup, name: String, _ body: @escaping @Sendable () throws -> Void) {
        group.enter()
        let thread = Thread { [self] in
            defer { group.leave() }
            do { try body() } catch { fail(error) }
        }
        thread.name = name
        thread.start()
    }
}

/// Seconds since the run started, from a monotonic clock.
struct Clock: Sendable {
    private let start = DispatchTime.now().uptimeNanoseconds
    var now: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}

/// Sleeps so that frames leave at the pace their timestamps say, starting from the first.
final class FramePacer: @unchecked Sendable {
    private var origin: (wall: Double, media: Double)?
    private let clock = Clock()

    func wait(until mediaTime: Double) {
        guard let origin else {
            self.origin = (clock.now, mediaTime)
            return
        }
        let due = origin.wall + (mediaTime - origin.media)
        let delay = due - clock.now
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
    }
}
