import CKernels
import Foundation

/// One step of a network: takes a batch, returns a batch. Layers are immutable values, so one
/// model can serve several threads at once.
public protocol Layer: Sendable {
    func forward(_ input: Tensor) throws -> Tensor
}

/// Layers applied one after another.
///
///     let net = Sequential(
///         Conv2D(weight: w1, bias: b1, padding: 1, activation: .relu),
///         MaxPool2D(kernel: 2, stride: 2),
///         Flatten(),
///         Linear(weight: w2, bias: b2))
public struct Sequential: Layer {
    public var layers: [any Layer]
    public init(_ layers: [any Layer]) { self.layers = layers }
    public init(_ layers: any Layer...) { self.layers = layers }

    public func forward(_ input: Tensor) throws -> Tensor {
        var x = input
        for layer in layers { x = try layer.forward(x) }
        return x
    }
}

/// `activation(body(x) + shortcut(x))`; the shortcut is the identity when nil
/// (a ResNet basic block; a 1x1 convolution as shortcut when the shape changes).
public struct Residual: Layer {
    public var body: any Layer
    public var shortcut: (any Layer)?
    public var activation: Activation
    public init(body: any Layer, shortcut: (any Layer)? = nil, activation: Activation = .none) {
        self.body = body; self.shortcut = shortcut; self.activation = activation
    }

    public func forward(_ input: Tensor) throws -> Tensor {
        let a = try body.forward(input)
        let b = try shortcut?.forward(input) ?? input
        var sum = try a.adding(b)
        try activation.apply(to: &sum, layer: "Residual")
        return sum
    }
}

extension Tensor {
    /// Element-wise sum of two tensors of the same shape (the residual add).
    public func adding(_ other: Tensor) throws -> Tensor {
        guard shape == other.shape else {
            throw NeuralNetError.badInput(layer: "add", shape: other.shape, reason: "differs from \(shape)")
        }
        var out = self
        out.storage.withUnsafeMutableBufferPointer { o in
            other.storage.withUnsafeBufferPointer { b in
                for i in 0..<o.count { o[i] += b[i] }
            }
        }
        return out
    }
}

/// An activation fused into the layer that precedes it (saves a pass over memory).
public enum Activation: Sendable, Equatable {
    case none
    case relu
    /// One slope per channel (dimension 1), as torch.nn.PReLU(num_parameters: C).
    case prelu([Float])

    /// (NN_ACT_*, slopes) for the C kernels; never an empty slope array.
    var kernelArguments: (Int32, [Float]) {
        switch self {
        case .none: return (Int32(NN_ACT_NONE), [0])
        case .relu: return (Int32(NN_ACT_RELU), [0])
        case .prelu(let s): return (Int32(NN_ACT_PRELU), s.isEmpty ? [0] : s)
        }
    }

    /// Applies in place to `[N, C, ...]` data.
    func apply(to t: inout Tensor, layer: String) throws {
        switch self {
        case .none: return
        case .relu:
            t.storage.withUnsafeMutableBufferPointer { p in
                for i in 0..<p.count where p[i] < 0 { p[i] = 0 }
            }
        case .prelu(let slopes):
            guard t.rank >= 2, t.shape[1] == slopes.count || slopes.count == 1 else {
                throw NeuralNetError.badInput(layer: layer, shape: t.shape,
                                              reason: "PReLU has \(slopes.count) slopes")
            }
            let n = t.shape[0], c = t.shape[1]
            let inner = t.shape.dropFirst(2).reduce(1, *)
            t.storage.withUnsafeMutableBufferPointer { p in
                slopes.withUnsafeBufferPointer { s in
                    for b in 0..<n {
                        for ch in 0..<c {
                            let a = s[slopes.count == 1 ? 0 : ch]
                            let base = (b * c + ch) * inner
                            for i in base..<(base + inner) where p[i] < 0 { p[i] *= a }
                        }
                    }
                }
            }
        }
    }
}

public struct ReLU: Layer {
    public init() {}
    public func forward(_ input: Tensor) throws -> Tensor {
        var x = input
        try Activation.relu.apply(to: &x, layer: "ReLU")
        return x
    }
}

/// Per-channel PReLU over dimension 1.
public struct PReLU: Layer {
    public let slopes: [Float]
    public init(slopes: [Float]) { self.slopes = slopes }
    public init(weight: Tensor) { self.slopes = weight.storage }
    public func forward(_ input: Tensor) throws -> Tensor {
        var x = input
        try Activation.prelu(slopes).apply(to: &x, layer: "PReLU")
        return x
    }
}

/// Inference-time dropout: the identity.
public struct Dropout: Layer {
    public init(_ probability: Float = 0.5) {}
    public func forward(_ input: Tensor) throws -> Tensor { input }
}

/// `[N, ...]` to `[N, product of the rest]`, in NCHW order (as torch.flatten(x, 1)).
public struct Flatten: Layer {
    public init() {}
    public func forward(_ input: Tensor) throws -> Tensor {
        guard let n = input.shape.first else {
            throw NeuralNetError.badInput(layer: "Flatten", shape: input.shape, reason: "rank 0")
        }
        return Tensor(unchecked: [n, input.shape.dropFirst().reduce(1, *)], input.storage)
    }
}

/// Softmax over dimension 1 (channels), for `[N, C]` and `[N, C, H, W]`.
public struct Softmax: Layer {
    public init() {}
    public func forward(_ input: Tensor) throws -> Tensor {
        guard input.rank >= 2 else {
            throw NeuralNetError.badInput(layer: "Softmax", shape: input.shape, reason: "needs rank >= 2")
        }
        var out = input
        let n = input.shape[0], c = input.shape[1]
        let inner = input.shape.dropFirst(2).reduce(1, *)
        out.storage.withUnsafeMutableBufferPointer { p in
            for b in 0..<n {
                let base = b * c * inner
                for i in 0..<inner {
                    var m = -Float.infinity
                    for ch in 0..<c { m = max(m, p[base + ch * inner + i]) }
                    var sum: Float = 0
                    for ch in 0..<c {
                        let e = (p[base + ch * inner + i] - m).exp
                        p[base + ch * inner + i] = e
                        sum += e
                    }
                    for ch in 0..<c { p[base + ch * inner + i] /= sum }
                }
            }
        }
        return out
    }
}

/// Mean over height and width: `[N, C, H, W]` to `[N, C]` (AdaptiveAvgPool2d(1) + flatten).
public struct GlobalAveragePool: Layer {
    public init() {}
    public func forward(_ input: Tensor) throws -> Tensor {
        guard input.rank == 4 else {
            throw NeuralNetError.badInput(layer: "GlobalAveragePool", shape: input.shape, reason: "needs NCHW")
        }
        let n = input.shape[0], c = input.shape[1], hw = input.shape[2] * input.shape[3]
        var out = [Float](repeating: 0, count: n * c)
        input.storage.withUnsafeBufferPointer { p in
            for i in 0..<(n * c) {
                var s: Float = 0
                for j in 0..<hw { s += p[i * hw + j] }
                out[i] = hw > 0 ? s / Float(hw) : 0
            }
        }
        return Tensor(unchecked: [n, c], out)
    }
}

/// Inference batch normalization over dimension 1 as a per-channel affine map. Prefer
/// `Conv2D.foldingBatchNorm` after a convolution; this is for the other places (after Linear).
public struct BatchNorm: Layer {
    public let scale: [Float]
    public let shift: [Float]
    public init(gamma: [Float], beta: [Float], mean: [Float], variance: [Float], eps: Float = 1e-5) throws {
        let c = gamma.count
        guard beta.count == c, mean.count == c, variance.count == c else {
            throw NeuralNetError.badInput(layer: "BatchNorm", shape: [gamma.count, beta.count, mean.count, variance.count],
                                          reason: "gamma, beta, mean and variance differ in length")
        }
        var sc = [Float](repeating: 0, count: c), sh = sc
        for i in 0..<c {
            sc[i] = gamma[i] / (variance[i] + eps).squareRoot()
            sh[i] = beta[i] - mean[i] * sc[i]
        }
        scale = sc; shift = sh
    }

    public func forward(_ input: Tensor) throws -> Tensor {
        guard input.rank >= 2, input.shape[1] == scale.count else {
            throw NeuralNetError.badInput(layer: "BatchNorm", shape: input.shape, reason: "expects \(scale.count) channels")
        }
        var out = input
        let n = input.shape[0], c = input.shape[1], inner = input.shape.dropFirst(2).reduce(1, *)
        out.storage.withUnsafeMutableBufferPointer { p in
            for b in 0..<n {
                for ch in 0..<c {
                    let base = (b * c + ch) * inner
                    for i in base..<(base + inner) { p[i] = p[i] * scale[ch] + shift[ch] }
                }
            }
        }
        return out
    }
}

extension Float {
    @inline(__always) var exp: Float { Foundation.exp(self) }
}
