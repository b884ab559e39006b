import Foundation

/// Everything that can go wrong while reading or writing frames. Each case carries the input or
/// output it is about (a path, URL or device) and the reason, with FFmpeg's or the kernel's own
/// message where there is one, so `description` is one line a user can act on.
public enum CaptureError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file or device does not exist.
    case notFound(input: String, reason: String)
    /// The file or device exists but this process may not open it.
    case permissionDenied(input: String, reason: String)
    /// FFmpeg could not open or recognise the input (not media, truncated header, bad URL).
    case cannotOpen(input: String, reason: String)
    /// The input holds no video stream (an audio file, a subtitle file).
    case noVideoStream(input: String, reason: String)
    /// No decoder for the stream's codec, or the decoder refused to open.
    case unsupportedCodec(input: String, reason: String)
    /// The decoded or captured pixel format cannot be converted to RGB.
    case unsupportedPixelFormat(input: String, reason: String)
    /// Reading or decoding failed in a way that ends the input.
    case readFailed(input: String, reason: String)
    /// The camera is held by another program.
    case deviceBusy(input: String, reason: String)
    /// The device is not a V4L2 capture device, or refused a setting it must accept.
    case deviceFailed(input: String, reason: String)
    /// No frame arrived from the device within the timeout.
    case timeout(input: String, reason: String)
    /// The output cannot be created or written (missing folder, no permission, disk full).
    case cannotWrite(output: String, reason: String)
    /// The output's extension names no container or image format the writer knows.
    case unsupportedOutput(output: String, reason: String)
    /// No encoder is available, or it refused the settings or a frame.
    case encoderFailed(output: String, reason: String)
    /// A frame does not fit the writer (size differs from the one given at init, writer closed).
    case invalidFrame(output: String, reason: String)

    /// The input or output the error is about.
    public var name: String {
        switch self {
        case .notFound(let n, _), .permissionDenied(let n, _), .cannotOpen(let n, _),
             .noVideoStream(let n, _), .unsupportedCodec(let n, _), .unsupportedPixelFormat(let n, _),
             .readFailed(let n, _), .deviceBusy(let n, _), .deviceFailed(let n, _), .timeout(let n, _),
             .cannotWrite(let n, _), .unsupportedOutput(let n, _), .encoderFailed(let n, _),
             .invalidFrame(let n, _):
            return n
        }
    }

    /// Why, in the words of the library or kernel where it had some.
    public var reason: String {
        switch self {
        case .notFound(_, let r), .permissionDenied(_, let r), .cannotOpen(_, let r),
             .noVideoStream(_, let r), .unsupportedCodec(_, let r), .unsupportedPixelFormat(_, let r),
             .readFailed(_, let r), .deviceBusy(_, let r), .deviceFailed(_, let r), .timeout(_, let r),
             .cannotWrite(_, let r), .unsupportedOutput(_, let r), .encoderFailed(_, let r),
             .invalidFrame(_, let r):
            return r
        }
    }

    private var summary: String {
        switch self {
        case .notFound: return "not found"
        case .permissionDenied: return "permission denied"
        case .cannotOpen: return "cannot open"
        case .noVideoStream: return "no video stream"
        case .unsupportedCodec: return "unsupported codec"
        case .unsupportedPixelFormat: return "unsupported pixel format"
        case .readFailed: return "read failed"
        case .deviceBusy: return "device busy"
        case .deviceFailed: return "device error"
        case .timeout: return "timed out"
        case .cannotWrite: return "cannot write"
        case .unsupportedOutput: return "unsupported output"
        case .encoderFailed: return "encoder failed"
        case .invalidFrame: return "invalid frame"
        }
    }

    public var description: String {
        // One line, whatever the library put in its message.
        let flat = reason.split(whereSeparator: \.isNewline).joined(separator: " ")
        return "\(name): \(summary): \(flat)"
    }
}

/// Receives the warnings a source or writer emits when it can go on (a broken frame skipped).
public typealias WarningHandler = @Sendable (String) -> Void

public enum Warnings {
    /// The default: one line on standard error; repeats of the same warning (the same words,
    /// whatever the numbers in it) are counted instead, and one line with the count follows when
    /// another warning comes or the process ends.
    public static let standardError: WarningHandler = { message in
        WarningFolder.shared.warn(message)
    }
    /// Drops every warning.
    public static let ignore: WarningHandler = { _ in }
}

/// Folds runs of like warnings ("frame #12 was damaged", "frame #13 was damaged", ...) into the
/// first one and a count, so a damaged stream does not bury the terminal.
final class WarningFolder: @unchecked Sendable {
    static let shared: WarningFolder = {
        let folder = WarningFolder { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        atexit { WarningFolder.shared.flush() }
        return folder
    }()

    private let lock = NSLock()
    private let write: (String) -> Void
    private var lastKey: String?
    private var lastMessage = ""
    private var repeats = 0

    init(write: @escaping (String) -> Void) { self.write = write }

    /// The message with every run of digits replaced, so numbered repeats share a key.
    static func key(_ message: String) -> String {
        message.replacingOccurrences(of: #"[0-9]+"#, with: "#", options: .regularExpression)
    }

    func warn(_ message: String) {
        let key = Self.key(message)
        lock.lock()
        defer { lock.unlock() }
        if key == lastKey {
            repeats += 1
            return
        }
        flushLocked()
        lastKey = key
        lastMessage = message
        write("warning: \(message)")
    }

    func flush() {
        lock.lock()
        defer { lock.unlock() }
        flushLocked()
    }

    private func flushLocked() {
        if repeats > 0 {
            write("warning: \(repeats) more like the last (\(lastMessage.prefix(60))\(lastMessage.count > 60 ? "..." : ""))")
        }
        repeats = 0
        lastKey = nil
    }
}
