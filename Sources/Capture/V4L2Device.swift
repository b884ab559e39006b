import CV4L2
import Foundation

/// Owner of one V4L2 device descriptor and its mmap'ed capture buffers. All ioctl traffic goes
/// through here (and through the `V4L2System` seam below it); errors come back as
/// `CaptureError` naming the device.
final class V4L2Device {
    let path: String
    private let system: V4L2System
    private let warningHandler: WarningHandler
    private var fd: Int32
    private(set) var buffers: [(start: UnsafeMutableRawPointer, length: Int)] = []
    private(set) var streaming = false

    init(path: String, system: V4L2System = LibV4L2System.shared, warningHandler: @escaping WarningHandler) throws {
        self.path = path
        self.system = system
        self.warningHandler = warningHandler
        switch system.open(path) {
        case .success(let fd): self.fd = fd
        case .failure(let failure):
            _ = system.takeMessages()
            throw Self.error(failure.code, path: path, doing: failure.operation)
        }
    }

    deinit { close() }

    static func error(_ code: Int32, path: String, doing operation: String) -> CaptureError {
        let reason = "\(operation): \(String(cString: strerror(code)))"
        switch code {
        case ENOENT, ENXIO: return .notFound(input: path, reason: reason)
        case ENODEV: return .notFound(input: path, reason: "\(reason) (unplugged?)")
        case EACCES, EPERM:
            return .permissionDenied(input: path, reason: "\(reason) (cameras usually need the user in the 'video' group)")
        case EBUSY: return .deviceBusy(input: path, reason: "\(reason) (another program is using the camera?)")
        case ENOTTY: return .deviceFailed(input: path, reason: "not a V4L2 video device (\(reason))")
        default: return .deviceFailed(input: path, reason: reason)
        }
    }

    /// One ioctl. Returns errno on failure, 0 on success. What libv4l2 logged on the way is
    /// passed on as a warning when the call worked (a conversion problem it worked around);
    /// when the call failed the caller reports the failure itself, so the log would only
    /// repeat it.
    @discardableResult
    func control<T>(_ request: UInt, _ argument: inout T) -> Int32 {
        guard fd >= 0 else { return EBADF }
        let code = withUnsafeMutablePointer(to: &argument) { system.ioctl(fd, request, UnsafeMutableRawPointer($0)) }
        let messages = system.takeMessages()
        if code == 0 { for message in messages { warningHandler("\(path): \(message)") } }
        return code
    }

    func require<T>(_ request: UInt, _ argument: inout T, doing operation: String) throws {
        let code = control(request, &argument)
        guard code == 0 else { throw Self.error(code, path: path, doing: operation) }
    }

    /// Asks the driver for `count` mmap buffers, maps them, queues them all and starts streaming.
    func startStreaming(bufferCount: Int) throws {
        var request = v4l2_requestbuffers()
        request.count = UInt32(bufferCount)
        request.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        request.memory = V4L2_MEMORY_MMAP.rawValue
        try require(FER_VIDIOC_REQBUFS, &request, doing: "VIDIOC_REQBUFS")
        guard request.count >= 2 else {
            throw CaptureError.deviceFailed(input: path, reason: "the driver granted \(request.count) buffers, 2 are needed")
        }
        for index in 0..<request.count {
            var buffer = v4l2_buffer()
            buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
            buffer.memory = V4L2_MEMORY_MMAP.rawValue
            buffer.index = index
            try require(FER_VIDIOC_QUERYBUF, &buffer, doing: "VIDIOC_QUERYBUF")
            let length = Int(buffer.length)
            switch system.mmap(fd, length: length, offset: Int(buffer.m.offset)) {
            case .success(let start): buffers.append((start, length))
            case .failure(let failure): throw Self.error(failure.code, path: path, doing: failure.operation)
            }
        }
        for index in 0..<request.count { try queue(index) }
        var type = Int32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
        try require(FER_VIDIOC_STREAMON, &type, doing: "VIDIOC_STREAMON")
        streaming = true
    }

    func queue(_ index: UInt32) throws {
        var buffer = v4l2_buffer()
        buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        buffer.memory = V4L2_MEMORY_MMAP.rawValue
        buffer.index = index
        try require(FER_VIDIOC_QBUF, &buffer, doing: "VIDIOC_QBUF")
    }

    /// Waits up to `timeout` seconds for a filled buffer and dequeues it. poll() comes first,
    /// so DQBUF is only asked when the driver says a buffer is ready; EAGAIN after a wake-up
    /// (another reader took it, a spurious wake) means "no frame yet", not an error.
    func dequeue(timeout: Double) throws -> v4l2_buffer {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, timeout) * 1e9)
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else {
                throw CaptureError.timeout(input: path, reason: "no frame for \(Self.seconds(timeout)) s (the camera stopped delivering)")
            }
            let milliseconds = Int32(min(Double(Int32.max), Double(deadline - now) / 1e6).rounded(.up))
            switch system.poll(fd, milliseconds: milliseconds) {
            case .timedOut: continue
            case .failed(let code): throw Self.error(code, path: path, doing: "poll")
            case .ready, .hangUp: break   // after a hang-up DQBUF says why
            }
            var buffer = v4l2_buffer()
            buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
            buffer.memory = V4L2_MEMORY_MMAP.rawValue
            let code = control(FER_VIDIOC_DQBUF, &buffer)
            if code == 0 { return buffer }
            if code == EAGAIN { continue }
            throw lostWhileStreaming(code)
        }
    }

    /// What a failed DQBUF while streaming means: ENODEV and EIO/EPIPE are the device going
    /// away (a USB camera unplugged, a driver that shut the queue down).
    private func lostWhileStreaming(_ code: Int32) -> CaptureError {
        let reason = "VIDIOC_DQBUF: \(String(cString: strerror(code)))"
        switch code {
        case ENODEV, ENXIO, EIO, EPIPE:
            return .deviceFailed(input: path, reason: "the camera went away while streaming (unplugged?): \(reason)")
        default: return Self.error(code, path: path, doing: "VIDIOC_DQBUF")
        }
    }

    /// STREAMOFF, munmap, free the driver's buffers, close: in that order, each once. Safe to
    /// call twice.
    func close() {
        if streaming {
            var type = Int32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
            control(FER_VIDIOC_STREAMOFF, &type)
            streaming = false
        }
        for buffer in buffers { system.munmap(buffer.start, length: buffer.length) }
        if !buffers.isEmpty {
            var request = v4l2_requestbuffers()
            request.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
            request.memory = V4L2_MEMORY_MMAP.rawValue
            control(FER_VIDIOC_REQBUFS, &request)
            buffers = []
        }
        if fd >= 0 {
            system.close(fd)
            _ = system.takeMessages()
            fd = -1
        }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }
}
