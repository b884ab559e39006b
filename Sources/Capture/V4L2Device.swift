import CV4L2
import Foundation

/// Owner of one V4L2 device file descriptor and its mmap'ed capture buffers, through libv4l2.
/// All ioctl traffic goes through here; errors come back as `CaptureError` naming the device.
final class V4L2Device {
    let path: String
    private var fd: Int32
    private(set) var buffers: [(start: UnsafeMutableRawPointer, length: Int)] = []
    private(set) var streaming = false

    init(path: String) throws {
        self.path = path
        // Non-blocking: waiting is done with poll() and a timeout, never inside DQBUF.
        let raw = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard raw >= 0 else { throw Self.error(errno, path: path, doing: "open") }
        // Checked before libv4l2 sees the descriptor: on a non-V4L2 file it prints to stderr.
        var capability = v4l2_capability()
        if fer_ioctl(raw, FER_VIDIOC_QUERYCAP, &capability) < 0 {
            let code = errno
            Glibc.close(raw)
            throw Self.error(code, path: path, doing: "VIDIOC_QUERYCAP")
        }
        fd = v4l2_fd_open(raw, 0)
        guard fd >= 0 else {
            let code = errno
            Glibc.close(raw)
            throw Self.error(code, path: path, doing: "libv4l2 open")
        }
    }

    deinit { close() }

    static func error(_ code: Int32, path: String, doing operation: String) -> CaptureError {
        let reason = "\(operation): \(String(cString: strerror(code)))"
        switch code {
        case ENOENT, ENODEV, ENXIO: return .notFound(input: path, reason: reason)
        case EACCES, EPERM: return .permissionDenied(input: path, reason: reason)
        case EBUSY: return .deviceBusy(input: path, reason: "\(reason) (another program is using the camera?)")
        case ENOTTY: return .deviceFailed(input: path, reason: "not a V4L2 video device (\(reason))")
        default: return .deviceFailed(input: path, reason: reason)
        }
    }

    /// One ioctl, retried when a signal interrupts it. Returns errno on failure, 0 on success.
    @discardableResult
    func control<T>(_ request: UInt, _ argument: inout T) -> Int32 {
        guard fd >= 0 else { return EBADF }
        while true {
            let result = withUnsafeMutablePointer(to: &argument) { fer_v4l2_ioctl(fd, request, $0) }
            if result >= 0 { return 0 }
            if errno != EINTR { return errno }
        }
    }

    func require<T>(_ request: UInt, _ argument: inout T, doing operation: String) throws {
        let code = control(request, &argument)
        guard code == 0 else { throw Self.error(code, path: path, doing: operation) }
    }

    /// Asks the driver for `count` mmap buffers, maps them and queues them all.
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
            let mapped = v4l2_mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, Int64(buffer.m.offset))
            guard let mapped, mapped != MAP_FAILED else { throw Self.error(errno, path: path, doing: "mmap") }
            buffers.append((mapped, length))
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

    /// Waits up to `timeout` seconds for a filled buffer and dequeues it.
    func dequeue(timeout: Double) throws -> v4l2_buffer {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, timeout) * 1e9)
        while true {
            var buffer = v4l2_buffer()
            buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
            buffer.memory = V4L2_MEMORY_MMAP.rawValue
            let code = control(FER_VIDIOC_DQBUF, &buffer)
            if code == 0 { return buffer }
            guard code == EAGAIN else { throw Self.error(code, path: path, doing: "VIDIOC_DQBUF") }
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else {
                throw CaptureError.timeout(input: path, reason: "no frame within \(timeout) s")
            }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(min(Double(Int32.max), Double(deadline - now) / 1e6).rounded(.up))
            let ready = poll(&descriptor, 1, milliseconds)
            if ready < 0, errno != EINTR { throw Self.error(errno, path: path, doing: "poll") }
            if ready > 0, descriptor.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 {
                throw CaptureError.deviceFailed(input: path, reason: "the device reported an error (unplugged?)")
            }
        }
    }

    /// STREAMOFF, munmap, close: in that order, each once. Safe to call twice.
    func close() {
        if streaming {
            var type = Int32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
            control(FER_VIDIOC_STREAMOFF, &type)
            streaming = false
        }
        for buffer in buffers { _ = v4l2_munmap(buffer.start, buffer.length) }
        buffers = []
        if fd >= 0 {
            _ = v4l2_close(fd)
            fd = -1
        }
    }
}
