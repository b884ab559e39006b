/// Floats at a 64-byte-aligned address (one cache line), never changed after they are made:
/// kernel weights whose 16-float vector loads must not straddle two cache lines. The row
/// Winograd kernel loads 6 weight vectors per 24 multiply-adds and ran 15% slower on weights
/// 16 bytes off a line, where a Swift array's storage usually starts (`tools/bench_crop_conv1.c`).
final class AlignedFloats: @unchecked Sendable {
    // Sendable: the buffer is written only by init and freed only by deinit.
    private let base: UnsafeMutablePointer<Float>

    init(_ values: [Float]) {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, values.count) * MemoryLayout<Float>.stride, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(1, values.count))
        values.withUnsafeBufferPointer { v in
            if let p = v.baseAddress { base.initialize(from: p, count: v.count) }
        }
    }

    deinit { base.deallocate() }

    /// Calls `body` with the floats' address, keeping them alive until it returns.
    func withPointer<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(base) }
    }
}
