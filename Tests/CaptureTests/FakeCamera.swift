import CV4L2
import Foundation
@testable import Capture

/// A simulated V4L2 capture device behind the `V4L2System` seam: it answers the ioctls
/// `CameraSource` makes the way a driver does (formats, sizes, rates, buffers, a queue), fills
/// dequeued buffers with YUYV frames whose luma is 16 + frame number, and can fail the ways
/// cameras fail. Descriptors are real (it opens /dev/null) and buffers really mapped, so the
/// tests can count what is left open in /proc/self/fd.
final class FakeCamera: V4L2System {
    struct Offer {
        var fourcc: UInt32
        var sizes: [(width: Int, height: Int, fps: [Int])]
    }

    // What the device offers and how it misbehaves.
    var capabilities = UInt32(V4L2_CAP_VIDEO_CAPTURE) | UInt32(V4L2_CAP_STREAMING)
    var offers: [Offer] = [Offer(fourcc: FER_PIX_FMT_YUYV, sizes: [(640, 480, [15, 30]), (320, 240, [15, 30, 60])])]
    var failing: [UInt: Int32] = [:]
    /// errno for open() itself (EACCES, ENOENT).
    var openError: Int32?
    /// Frames delivered before the device is unplugged (DQBUF ENODEV, poll hang-up).
    var unplugAfter: Int?
    /// Frames delivered before the device stops delivering (poll times out).
    var stallAfter: Int?
    /// Every other DQBUF after poll said ready finds nothing (EAGAIN), as when a wake-up is spurious.
    var spuriousWakeUps = false
    /// What the library "logs" on each ioctl that works, and on each that fails, as libv4l2 does.
    var logOnSuccess: [String] = []
    var logOnFailure: [String] = []

    // What the code did to it.
    private(set) var openDescriptors: Set<Int32> = []
    private(set) var mappings: [UnsafeMutableRawPointer: Int] = [:]
    private(set) var grantedBuffers = 0
    private(set) var streaming = false
    private(set) var delivered = 0
    private(set) var calls: [UInt] = []

    private var format = (fourcc: FER_PIX_FMT_YUYV, width: 640, height: 480)
    private var fps = 30
    private var queued: [UInt32] = []
    private var pending: [String] = []
    private var wakeUps = 0
    private var byIndex: [Int: UnsafeMutableRawPointer] = [:]

    private var sizeImage: Int { 2 * format.width * format.height }

    func open(_ path: String) -> Result<Int32, V4L2CallError> {
        if let openError { return .failure(V4L2CallError(code: openError, operation: "open")) }
        let fd = Glibc.open("/dev/null", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return .failure(V4L2CallError(code: errno, operation: "open")) }
        openDescriptors.insert(fd)
        return .success(fd)
    }

    func close(_ fd: Int32) {
        if openDescriptors.remove(fd) != nil { Glibc.close(fd) }
    }

    func mmap(_ fd: Int32, length: Int, offset: Int) -> Result<UnsafeMutableRawPointer, V4L2CallError> {
        guard let address = Glibc.mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              address != MAP_FAILED else { return .failure(V4L2CallError(code: errno, operation: "mmap")) }
        mappings[address] = length
        byIndex[offset / 4096] = address
        return .success(address)
    }

    func munmap(_ address: UnsafeMutableRawPointer, length: Int) {
        if mappings.removeValue(forKey: address) == length { Glibc.munmap(address, length) }
    }

    func poll(_ fd: Int32, milliseconds: Int32) -> V4L2PollResult {
        if let unplugAfter, delivered >= unplugAfter, streaming { return .hangUp }
        if let stallAfter, delivered >= stallAfter {
            usleep(UInt32(min(milliseconds, 20)) * 1000)
            return .timedOut
        }
        return .ready
    }

    func takeMessages() -> [String] {
        defer { pending = [] }
        return pending
    }

    func ioctl(_ fd: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer) -> Int32 {
        calls.append(request)
        let code = answer(fd, request, argument)
        pending += code == 0 ? logOnSuccess : logOnFailure
        return code
    }

    private func answer(_ fd: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer) -> Int32 {
        guard openDescriptors.contains(fd) else { return EBADF }
        if let code = failing[request] { return code }
        if let unplugAfter, delivered >= unplugAfter, streaming { return ENODEV }
        switch request {
        case FER_VIDIOC_QUERYCAP:
            let capability = argument.assumingMemoryBound(to: v4l2_capability.self)
            capability.pointee.capabilities = capabilities
            withUnsafeMutableBytes(of: &capability.pointee.card) { bytes in
                for (i, byte) in "fake camera".utf8.enumerated() { bytes[i] = byte }
            }
        case FER_VIDIOC_ENUM_FMT:
            let description = argument.assumingMemoryBound(to: v4l2_fmtdesc.self)
            let index = Int(description.pointee.index)
            guard index < offers.count else { return EINVAL }
            description.pointee.pixelformat = offers[index].fourcc
        case FER_VIDIOC_ENUM_FRAMESIZES:
            let size = argument.assumingMemoryBound(to: v4l2_frmsizeenum.self)
            guard let offer = offers.first(where: { $0.fourcc == size.pointee.pixel_format }),
                  Int(size.pointee.index) < offer.sizes.count else { return EINVAL }
            size.pointee.type = V4L2_FRMSIZE_TYPE_DISCRETE.rawValue
            size.pointee.discrete.width = UInt32(offer.sizes[Int(size.pointee.index)].width)
            size.pointee.discrete.height = UInt32(offer.sizes[Int(size.pointee.index)].height)
        case FER_VIDIOC_ENUM_FRAMEINTERVALS:
            let interval = argument.assumingMemoryBound(to: v4l2_frmivalenum.self)
            guard let rates = rates(interval.pointee.pixel_format, Int(interval.pointee.width), Int(interval.pointee.height)),
                  Int(interval.pointee.index) < rates.count else { return EINVAL }
            interval.pointee.type = V4L2_FRMIVAL_TYPE_DISCRETE.rawValue
            interval.pointee.discrete = v4l2_fract(numerator: 1, denominator: UInt32(rates[Int(interval.pointee.index)]))
        case FER_VIDIOC_S_FMT:
            if streaming || grantedBuffers > 0 { return EBUSY }
            let requested = argument.assumingMemoryBound(to: v4l2_format.self)
            let offer = offers.first { $0.fourcc == requested.pointee.fmt.pix.pixelformat } ?? offers[0]
            let size = offer.sizes.first { $0.width == Int(requested.pointee.fmt.pix.width) && $0.height == Int(requested.pointee.fmt.pix.height) }
                ?? offer.sizes[0]
            format = (offer.fourcc, size.width, size.height)
            requested.pointee.fmt.pix.pixelformat = offer.fourcc
            requested.pointee.fmt.pix.width = UInt32(size.width)
            requested.pointee.fmt.pix.height = UInt32(size.height)
            requested.pointee.fmt.pix.bytesperline = UInt32(2 * size.width)
            requested.pointee.fmt.pix.sizeimage = UInt32(sizeImage)
            fps = size.fps.last ?? 30
        case FER_VIDIOC_G_PARM, FER_VIDIOC_S_PARM:
            let parameters = argument.assumingMemoryBound(to: v4l2_streamparm.self)
            if request == FER_VIDIOC_S_PARM {
                let period = parameters.pointee.parm.capture.timeperframe
                let asked = period.numerator > 0 ? Double(period.denominator) / Double(period.numerator) : 30
                let offered = rates(format.fourcc, format.width, format.height) ?? [30]
                fps = offered.min { abs(Double($0) - asked) < abs(Double($1) - asked) } ?? 30
            }
            parameters.pointee.parm.capture.capability = UInt32(V4L2_CAP_TIMEPERFRAME)
            parameters.pointee.parm.capture.timeperframe = v4l2_fract(numerator: 1, denominator: UInt32(fps))
        case FER_VIDIOC_REQBUFS:
            let request = argument.assumingMemoryBound(to: v4l2_requestbuffers.self)
            if streaming { return EBUSY }
            grantedBuffers = min(Int(request.pointee.count), 4)
            request.pointee.count = UInt32(grantedBuffers)
            queued = []
        case FER_VIDIOC_QUERYBUF:
            let buffer = argument.assumingMemoryBound(to: v4l2_buffer.self)
            guard Int(buffer.pointee.index) < grantedBuffers else { return EINVAL }
            buffer.pointee.length = UInt32(sizeImage)
            buffer.pointee.m.offset = buffer.pointee.index * 4096
        case FER_VIDIOC_QBUF:
            let buffer = argument.assumingMemoryBound(to: v4l2_buffer.self)
            guard Int(buffer.pointee.index) < grantedBuffers, !queued.contains(buffer.pointee.index) else { return EINVAL }
            queued.append(buffer.pointee.index)
        case FER_VIDIOC_STREAMON: streaming = true
        case FER_VIDIOC_STREAMOFF:
            streaming = false
            queued = []
        case FER_VIDIOC_DQBUF:
            guard streaming else { return EINVAL }
            if spuriousWakeUps {
                wakeUps += 1
                if wakeUps % 2 == 1 { return EAGAIN }
            }
            guard !queued.isEmpty, stallAfter.map({ delivered < $0 }) ?? true else { return EAGAIN }
            let buffer = argument.assumingMemoryBound(to: v4l2_buffer.self)
            let index = queued.removeFirst()
            buffer.pointee.index = index
            buffer.pointee.bytesused = UInt32(sizeImage)
            buffer.pointee.sequence = UInt32(delivered)
            let micros = delivered * 1_000_000 / fps
            buffer.pointee.timestamp = timeval(tv_sec: 1000 + micros / 1_000_000, tv_usec: micros % 1_000_000)
            fill(index: Int(index), luma: UInt8(16 + delivered % 200))
            delivered += 1
        default: return ENOTTY
        }
        return 0
    }

    private func rates(_ fourcc: UInt32, _ width: Int, _ height: Int) -> [Int]? {
        offers.first { $0.fourcc == fourcc }?.sizes.first { $0.width == width && $0.height == height }?.fps
    }

    /// The buffer at `index` (found by the offset QUERYBUF gave it) as flat grey YUYV.
    private func fill(index: Int, luma: UInt8) {
        guard let address = byIndex[index], mappings[address] != nil else { return }
        let bytes = address.assumingMemoryBound(to: UInt8.self)
        for i in stride(from: 0, to: sizeImage, by: 2) {
            bytes[i] = luma
            bytes[i + 1] = 128
        }
    }
}
