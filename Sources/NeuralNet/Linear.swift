import Parallel
/// Fully connected layer, weights `[out, in]` as in PyTorch. Takes `[N, in]` or any `[N, ...]`
/// whose trailing dimensions multiply to `in` (flattened in NCHW order).
public struct Linear: Layer {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: [Float]
    public let bias: [Float]
    public let activation: Activation

    public init(weight: Tensor, bias: Tensor? = nil, activation: Activation = .none) throws {
        guard weight.rank == 2, weight.shape.allSatisfy({ $0 > 0 }) else {
            throw NeuralNetError.badInput(layer: "Linear", shape: weight.shape, reason: "weight must be [out, in]")
        }
        if let bias, bias.shape != [weight.shape[0]] {
            throw NeuralNetError.badInput(layer: "Linear", shape: bias.shape, reason: "bias must be [\(weight.shape[0])]")
        }
        if case .prelu(let s) = activation, s.count != weight.shape[0], s.count != 1 {
            throw NeuralNetError.badInput(layer: "Linear", shape: [s.count], reason: "PReLU needs \(weight.shape[0]) slopes")
        }
        outFeatures = weight.shape[0]
        inFeatures = weight.shape[1]
        self.weight = weight.storage
        self.bias = bias?.storage ?? [Float](repeating: 0, count: weight.shape[0])
        self.activation = activation
    }

    public func forward(_ input: Tensor) throws -> Tensor {
        guard input.rank >= 2, input.shape.dropFirst().reduce(1, *) == inFeatures else {
            throw NeuralNetError.badInput(layer: "Linear", shape: input.shape, reason: "expects [N, \(inFeatures)]")
        }
        _ = BLASSetup.configure
        let n = input.shape[0]
        var out = [Float](repeating: 0, count: n * outFeatures)
        for b in 0..<n {
            for o in 0..<outFeatures { out[b * outFeatures + o] = bias[o] }
        }
        input.storage.withUnsafeBufferPointer { x in
            weight.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer { y in
                    guard let xb = x.baseAddress, let wb = w.baseAddress, let yb = y.baseAddress else { return }
                    let xp = SendableBox(xb), wq = SendableBox(wb), yp = SharedPointer(base: yb)
                    let minChunk = max(1, 500_000 / max(1, inFeatures * outFeatures))
                    Threads.forEachChunk(count: n, minChunk: minChunk) { r in
                        sgemm(m: r.count, n: outFeatures, k: inFeatures,
                              a: xp.value + r.lowerBound * inFeatures, lda: inFeatures,
                              b: wq.value, ldb: inFeatures, transB: true,
                              c: yp.base + r.lowerBound * outFeatures, ldc: outFeatures, accumulate: true)
                    }
                }
            }
        }
        var t = Tensor(unchecked: [n, outFeatures], out)
        try activation.apply(to: &t, layer: "Linear")
        return t
    }
}
