import CV4L2
import Foundation

/// The system calls the camera code makes on a V4L2 node. `V4L2Device` goes through this seam
/// only, so the tests can stand a simulated device in for a camera these machines lack; the
/// real one is `LibV4L2System`.
protocol V4L2System: AnyObject {
    /// Opens the node for streaming (non-blocking). A descriptor, or the errno and the step
    /// that failed ("open", "VIDIOC_QUERYCAP", ...).
    func open(_ path: String) -> Result<Int32, V4L2CallError>
    /// One ioctl: 0, or the errno it failed with (EINTR already retried).
    func ioctl(_ fd: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer) -> Int32
    func mmap(_ fd: Int32, length: Int, offset: Int) -> Result<UnsafeMutableRawPointer, V4L2CallError>
    func munmap(_ address: UnsafeMutableRawPointer, length: Int)
    /// Waits up to `milliseconds` for a filled buffer.
    func poll(_ fd: Int32, milliseconds: Int32) -> V4L2PollResult
    func close(_ fd: Int32)
    /// What the library said since the last call (libv4l2's own log), one message a line.
    func takeMessages() -> [String]
}

struct V4L2CallError: Error, Equatable {
    var code: Int32
    var operation: String
}

enum V4L2PollResult: Equatable {
    case ready
    case timedOut
    /// POLLERR / POLLHUP / POLLNVAL: the device went away or broke.
    case hangUp
    case failed(Int32)
}

/// The real calls, through libv4l2 (which adds format conversions for cameras whose native
/// formats we do not read ourselves).
final class LibV4L2System: V4L2System, @unchecked Sendable {
    static let shared = LibV4L2System()
    private let log = LibV4L2Log.install()

    func open(_ path: String) -> Result<Int32, V4L2CallError> {
        // Non-blocking: waiting is done with poll() and a timeout, never inside DQBUF.
        let raw = Glibc.open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard raw >= 0 else { return .failure(V4L2CallError(code: errno, operation: "open")) }
        // Checked before libv4l2 sees the descriptor: on a file that is not a V4L2 node it
        // would log its own complaint.
        var capability = v4l2_capability()
        if fer_ioctl(raw, FER_VIDIOC_QUERYCAP, &capability) < 0 {
            let code = errno
            Glibc.close(raw)
            return .failure(V4L2CallError(code: code, operation: "VIDIOC_QUERYCAP"))
        }
        let fd = v4l2_fd_open(raw, 0)
        guard fd >= 0 else {
            let code = errno
            Glibc.close(raw)
            return .failure(V4L2CallError(code: code, operation: "libv4l2 open"))
        }
        return .success(fd)
    }

    func ioctl(_ fd: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer) -> Int32 {
        while true {
            if fer_v4l2_ioctl(fd, request, argument) >= 0 { return 0 }
            if errno != EINTR { return errno }
        }
    }

    func mmap(_ fd: Int32, length: Int, offset: Int) -> Result<UnsafeMutableRawPointer, V4L2CallError> {
        let mapped = v4l2_mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, Int64(offset))
        guard let mapped, mapped != MAP_FAILED else { return .failure(V4L2CallError(code: errno, operation: "mmap")) }
        return .success(mapped)
    }

    func munmap(_ address: UnsafeMutableRawPointer, length: Int) { _ = v4l2_munmap(address, length) }

    func poll(_ fd: Int32, milliseconds: Int32) -> V4L2PollResult {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = Glibc.poll(&descriptor, 1, milliseconds)
        if ready < 0 { return errno == EINTR ? .timedOut : .failed(errno) }
        if ready == 0 { return .timedOut }
        if descriptor.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 { return .hangUp }
        return .ready
    }

    func close(_ fd: Int32) { _ = v4l2_close(fd) }

    func takeMessages() -> [String] { log?.drain() ?? [] }
}

/// libv4l2's log, read back from a pipe. libv4l2 prints its errors to stderr unless
/// `v4l2_log_file` is set, and once set it also traces every ioctl there; so it is pointed at
/// a pipe whose both ends are non-blocking (a full pipe drops messages instead of stalling the
/// capture), drained after each call, and only its error and warning lines are kept.
final class LibV4L2Log: @unchecked Sendable {
    private let readEnd: Int32
    private let file: UnsafeMutablePointer<FILE>
    private let lock = NSLock()
    private var partial = ""

    private init(readEnd: Int32, file: UnsafeMutablePointer<FILE>) {
        self.readEnd = readEnd
        self.file = file
    }

    /// One per process: v4l2_log_file is a global of libv4l2. Nil when no pipe could be made
    /// (libv4l2 then keeps printing to stderr, as it always did).
    static func install() -> LibV4L2Log? { shared }

    private static let shared: LibV4L2Log? = {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return nil }
        for end in ends {
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
        }
        guard let file = fdopen(ends[1], "w") else {
            Glibc.close(ends[0])
            Glibc.close(ends[1])
            return nil
        }
        fer_v4l2_set_log_file(file)
        return LibV4L2Log(readEnd: ends[0], file: file)
    }()

    /// The error and warning lines written since the last call.
    func drain() -> [String] {
        lock.lock()
        defer { lock.unlock() }
        fflush(file)
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            partial += String(decoding: chunk[0..<count], as: UTF8.self)
        }
        var lines = partial.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        partial = lines.removeLast()
        return lines.filter(Self.matters)
    }

    /// libv4l2's errors and warnings; its ioctl trace ("request == VIDIOC_...", "result == 0")
    /// is left out.
    static func matters(_ line: String) -> Bool {
        line.hasPrefix("libv4l2: error") || line.hasPrefix("libv4l2: warning")
            || line.hasPrefix("libv4lconvert: error") || line.hasPrefix("v4l-convert: error")
    }
}
