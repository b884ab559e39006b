/// A dense Float32 tensor, row-major. Image tensors are NCHW: `[batch, channels, height, width]`;
/// fully connected activations are `[batch, features]`. A value type: copies are cheap until written.
public struct Tensor: Sendable, Equatable {
    public private(set) var shape: [Int]
    public var storage: [Float]

    /// Wraps `storage`; throws when it does not hold exactly `shape.product` values.
    public init(shape: [Int], storage: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == storage.count else {
            throw NeuralNetError.storageMismatch(shape: shape, count: storage.count)
        }
        self.shape = shape
        self.storage = storage
    }

    /// A tensor filled with `value` (negative dimensions count as 0).
    public init(shape: [Int], repeating value: Float = 0) {
        let clean = shape.map { max(0, $0) }
        self.shape = clean
        self.storage = [Float](repeating: value, count: clean.reduce(1, *))
    }

    /// Internal: callers guarantee the count.
    init(unchecked shape: [Int], _ storage: [Float]) {
        self.shape = shape
        self.storage = storage
    }

    public var count: Int { storage.count }
    public var rank: Int { shape.count }

    /// The same values under another shape with the same number of elements.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        try Tensor(shape: newShape, storage: storage)
    }

    /// Element of a rank-4 tensor (for tests and small lookups; hot loops use `storage`).
    public subscript(n: Int, c: Int, h: Int, w: Int) -> Float {
        storage[((n * shape[1] + c) * shape[2] + h) * shape[3] + w]
    }

    /// Element of a rank-2 tensor.
    public subscript(n: Int, f: Int) -> Float {
        storage[n * shape[1] + f]
    }

    /// Items `range` along the batch axis.
    public func batch(_ range: Range<Int>) -> Tensor {
        let per = shape.dropFirst().reduce(1, *)
        let lo = max(0, min(range.lowerBound, shape.first ?? 0))
        let hi = max(lo, min(range.upperBound, shape.first ?? 0))
        var s = shape
        if !s.isEmpty { s[0] = hi - lo }
        return Tensor(unchecked: s, Array(storage[(lo * per)..<(hi * per)]))
    }

    /// Stacks tensors of equal item shape along the batch axis.
    public static func concatenatingBatches(_ parts: [Tensor]) throws -> Tensor {
        guard let first = parts.first else { return Tensor(shape: [0]) }
        let item = Array(first.shape.dropFirst())
        var total = 0
        var data: [Float] = []
        data.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for p in parts {
            guard Array(p.shape.dropFirst()) == item else {
                throw NeuralNetError.badInput(layer: "concatenatingBatches", shape: p.shape,
                                              reason: "item shape differs from \(item)")
            }
            total += p.shape.first ?? 0
            data.append(contentsOf: p.storage)
        }
        return Tensor(unchecked: [total] + item, data)
    }
}
