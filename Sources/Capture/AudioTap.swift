import CFFmpeg
import Foundation

/// The audio packets of a `VideoFileSource`, taken from the demuxer that reads its video: one
/// reading of the input, so a pipe, standard input or a live stream (which cannot be opened a
/// second time without taking data from the first reader) keep their sound.
///
/// The source's reading thread queues a reference to each audio packet; the writer's thread
/// takes them (`AudioCopy`). The queue never holds more than the audio of the frames between
/// the reader and the writer, which the pipeline's bounded queues keep to a few frames. A tap
/// nobody takes from is closed (`close()`), and then drops what arrives.
public final class AudioTap: @unchecked Sendable {
    /// The input's name, for messages.
    public let source: String
    /// FFmpeg's short name of the codec ("aac", "mp3", "opus").
    public let codecName: String
    let parameters: UnsafeMutablePointer<AVCodecParameters>
    let timeBase: AVRational
    /// The video's first timestamp, in the audio stream's time base (the frames count from it).
    let origin: Int64
    let streamIndex: Int32

    private let lock = NSLock()
    private var queue: [UnsafeMutablePointer<AVPacket>] = []
    private var head = 0
    private var closed = false
    private var ended = false

    init?(stream: UnsafeMutablePointer<AVStream>, index: Int32, video: UnsafeMutablePointer<AVStream>, source: String) {
        guard let copy = avcodec_parameters_alloc() else { return nil }
        guard avcodec_parameters_copy(copy, stream.pointee.codecpar) >= 0 else {
            var pointer: UnsafeMutablePointer<AVCodecParameters>? = copy
            avcodec_parameters_free(&pointer)
            return nil
        }
        parameters = copy
        timeBase = stream.pointee.time_base
        streamIndex = index
        self.source = source
        codecName = FF.codecName(copy.pointee.codec_id)
        origin = video.pointee.start_time != FF.noPTS
            ? av_rescale_q(video.pointee.start_time, video.pointee.time_base, stream.pointee.time_base) : 0
    }

    deinit {
        drop()
        var pointer: UnsafeMutablePointer<AVCodecParameters>? = parameters
        avcodec_parameters_free(&pointer)
    }

    /// Reader side: queues a new reference to `packet` (the caller keeps its own).
    func push(_ packet: UnsafeMutablePointer<AVPacket>) {
        lock.lock(); defer { lock.unlock() }
        guard !closed, let copy = av_packet_clone(packet) else { return }
        queue.append(copy)
    }

    /// Reader side: no more packets will come.
    func finish() {
        lock.lock(); ended = true; lock.unlock()
    }

    /// Writer side: moves the oldest queued packet into `packet`. `.none` when the queue is
    /// empty for now, `.end` when it is empty and the reader has finished.
    enum Take { case packet, none, end }

    func take(into packet: UnsafeMutablePointer<AVPacket>) -> Take {
        lock.lock(); defer { lock.unlock() }
        guard head < queue.count else { return ended || closed ? .end : .none }
        var next: UnsafeMutablePointer<AVPacket>? = queue[head]
        head += 1
        if let next { av_packet_move_ref(packet, next) }
        av_packet_free(&next)
        // Compact now and then, so the array does not grow with the whole file.
        if head > 256, head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        return .packet
    }

    /// Writer side: takes nothing more; what is queued and what arrives is dropped.
    public func close() {
        lock.lock(); closed = true; lock.unlock()
        drop()
    }

    /// Packets waiting (for tests).
    var queued: Int {
        lock.lock(); defer { lock.unlock() }
        return queue.count - head
    }

    private func drop() {
        lock.lock(); defer { lock.unlock() }
        for i in head..<queue.count {
            var pointer: UnsafeMutablePointer<AVPacket>? = queue[i]
            av_packet_free(&pointer)
        }
        queue = []
        head = 0
    }
}
