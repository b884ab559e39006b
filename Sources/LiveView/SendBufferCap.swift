import FlyingFox
import FlyingSocks
import Foundation

/// FlyingFox's socket pool with every socket's send buffer kept small. On loopback the kernel
/// lets a connection buffer about 3 MB that the client has not read, which is a hundred or
/// more JPEG frames: a slow viewer would watch seconds in the past, and a stalled one would
/// look like it keeps up. With a small buffer the server's write waits after a few frames, the
/// hub hands the client the newest frame when it is ready again, and the skipped ones are
/// counted. Set on the listening socket (accepted connections inherit it) and again on each
/// socket the pool suspends, which is the one seam FlyingFox offers; the call is idempotent.
struct SendBufferCappedPool<Base: AsyncSocketPool>: AsyncSocketPool {
    let base: Base
    /// The kernel doubles it for its bookkeeping.
    let bytes: Int32

    func prepare() async throws { try await base.prepare() }

    func run() async throws { try await base.run() }

    func suspendSocket(_ socket: Socket, untilReadyFor events: Socket.Events) async throws {
        try? socket.setValue(bytes, for: .sendBufferSize)
        try await base.suspendSocket(socket, untilReadyFor: events)
    }
}
