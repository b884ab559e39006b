import FlyingFox
import FlyingSocks
import Foundation
import Pipeline

/// `--serve`: the web server, the JPEG encoder thread and the hub they share, started before
/// the run and stopped after it. The commands are synchronous; the server runs on Swift's
/// concurrency threads, so nothing here blocks the pipeline.
public final class LiveServer: @unchecked Sendable {
    public let hub: LiveHub
    /// Where it listens, with the port the system picked for port 0.
    public let address: ServeAddress
    private let server: HTTPServer
    private let feed: VideoFeed
    private let task: Task<Void, Never>

    /// The page's address: loopback binds print 127.0.0.1 / [::1], all-interface binds print
    /// the loopback address too (a browser on this machine can use it as is).
    public var url: String {
        var shown = address
        if address.host == "0.0.0.0" { shown.host = "127.0.0.1" }
        if address.host == "::" { shown.host = "::1" }
        return "http://\(shown)/"
    }

    /// A sink that feeds the page, and the progress observer to wire into `Job.onProgress`.
    public func makeSink() -> ViewerSink { ViewerSink(hub: hub) }

    /// Binds and starts listening; throws (naming the address) when that fails.
    public init(address requested: ServeAddress, facts: SourceFacts, overlay: Overlay = Overlay(),
                clientLimit: Int = 16) throws {
        let hub = LiveHub(facts: facts, clientLimit: clientLimit)
        let socketAddress: any SocketAddress
        do {
            socketAddress = requested.isIPv6
                ? try sockaddr_in6.inet6(ip6: requested.host, port: requested.port)
                : try sockaddr_in.inet(ip4: requested.host, port: requested.port)
        } catch {
            throw LiveViewError.badAddress(requested.description, reason: "not an address this machine can bind")
        }
        let handler = LiveViewHandler(hub: hub, hostCheck: HostCheck(enforced: requested.isLoopback))
        // FlyingFox's timeout bounds reading a request and producing its response head, not
        // the streams; its logger would write on standard output, which carries the results.
        let pool = SendBufferCappedPool(base: HTTPServer.defaultPool(), bytes: 64 * 1024)
        let server = HTTPServer(address: socketAddress, timeout: 10, pool: pool, logger: .disabled, handler: handler)
        let failure = Locked<Error?>(nil)
        let task = Task.detached {
            do { try await server.run() } catch { failure.set(error) }
        }
        // Until it listens or fails (a taken port fails at once).
        let listening = Blocking.wait(timeout: 5) { () async -> Socket.Address? in
            while failure.get() == nil {
                if let address = await server.listeningAddress { return address }
                try? await Task.sleep(nanoseconds: 5_000_000)
            }
            return nil
        }
        guard let listening = listening ?? nil, case let port = Self.port(of: listening), port > 0 else {
            task.cancel()
            hub.close()
            let reason = failure.get().map { Self.describe($0) } ?? "the server did not start listening"
            throw LiveViewError.cannotListen(address: requested.description, reason: reason)
        }
        self.hub = hub
        self.server = server
        self.task = task
        self.address = ServeAddress(host: requested.host, port: port)
        feed = VideoFeed(hub: hub, overlay: overlay)
    }

    /// Ends the streams (each sends what is left, the events their `end`), then the server,
    /// waiting at most `grace` seconds for clients to take the last bytes.
    public func stop(grace: Double = 0.25) {
        let server = self.server
        hub.close()
        _ = Blocking.wait(timeout: grace + 1) { await server.stop(timeout: grace) }
        task.cancel()
        feed.join()
    }

    private static func port(of address: Socket.Address) -> UInt16 {
        switch address {
        case .ip4(_, let port), .ip6(_, let port): return port
        case .unix: return 0
        }
    }

    private static func describe(_ error: Error) -> String {
        if let socket = error as? SocketError, case .failed(_, let errno, let message) = socket {
            return errno == EADDRINUSE ? "the port is in use" : message
        }
        return String(describing: error)
    }
}

/// A value behind a lock, for results handed from a task to a thread.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.lock(); defer { lock.unlock() }; return value }
    func set(_ new: Value) { lock.lock(); value = new; lock.unlock() }
}

/// Runs async work from synchronous code (a command's thread, never a concurrency thread)
/// and waits for it, at most `timeout` seconds; nil when it took longer.
enum Blocking {
    static func wait<T: Sendable>(timeout: Double, _ body: @escaping @Sendable () async -> T) -> T? {
        let result = Locked<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            result.set(await body())
            done.signal()
        }
        guard done.wait(timeout: .now() + timeout) == .success else { return nil }
        return result.get()
    }
}
