import CoreTypes
import Foundation
import NeuralNet

/// Input normalisation, exactly as training did it: `x = (pixel * scale - mean) / std`.
public struct Preprocessing: Sendable, Equatable {
    public var scale: Float
    public var mean: Float
    public var std: Float
    public init(scale: Float, mean: Float, std: Float) { self.scale = scale; self.mean = mean; self.std = std }

    /// `pixel * multiplier + offset` is the same map with one multiply-add per pixel.
    public var multiplier: Float { scale / std }
    public var offset: Float { -mean / std }
}

/// A classifier exported by `training/export.py` (format "fer-live-classifier"): `NAME.json`
/// describes the layers in execution order, `NAME.safetensors` holds their weights (BN folded).
/// The builder is generic: it reads the layer list, checks every field and every tensor's shape
/// against the shapes it infers from the input, and compiles the graph onto NeuralNet layers,
/// fusing a ReLU/PReLU into the convolution or linear layer it follows.
public struct ClassifierModel: Sendable {
    public static let format = "fer-live-classifier"
    /// The newest `format_version` this reader understands (training/export.py writes it).
    public static let formatVersion = 1

    public let name: String
    public let jsonPath: String
    public let weightsPath: String
    /// The model's output labels, in output order (FER2013 names; a subset when trained on fewer).
    public let labels: [String]
    /// `[channels, height, width]` of one input image.
    public let inputShape: [Int]
    public let preprocessing: Preprocessing
    public let parameters: Int
    /// Accuracy recorded at export, by split (e.g. "PublicTest"), when the JSON has it.
    public let accuracy: [String: Double]
    /// Number of NeuralNet steps after fusion (for tests and `--verbose` output).
    public var stepCount: Int { steps.count }

    private let steps: [Step]
    private let slotCount: Int
    /// The same network compiled channels-last, when it is a plain chain that runtime can run
    /// (fernet and cnn_small are; residual or strided networks take `steps`).
    private let channelsLast: ChannelsLastNetwork?
    /// Whether `forward` runs the channels-last compilation (for tests and `--verbose` output).
    public var runsChannelsLast: Bool { channelsLast != nil }

    /// Loads `path`, which may be `DIR/NAME`, `DIR/NAME.json` or `DIR/NAME.safetensors`.
    public init(path: String) throws {
        var base = path
        for ext in [".json", ".safetensors"] where base.hasSuffix(ext) { base.removeLast(ext.count) }
        let jsonPath = base + ".json"
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: jsonPath))
        } catch {
            throw ClassifierError.unreadable(path: jsonPath, reason: (error as NSError).localizedDescription)
        }
        try self.init(json: data, jsonPath: jsonPath)
    }

    /// Builds from JSON bytes; the weights file named in the JSON is read from the JSON's folder.
    public init(json data: Data, jsonPath: String) throws {
        let top: [String: Any]
        do {
            guard let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ClassifierError.badModel(path: jsonPath, reason: "top level is not a JSON object")
            }
            top = obj
        } catch let e as ClassifierError {
            throw e
        } catch {
            throw ClassifierError.badModel(path: jsonPath, reason: "not valid JSON")
        }
        let fields = Fields(path: jsonPath, layer: nil, dict: top)
        let format = try fields.string("format")
        guard format == Self.format else {
            throw ClassifierError.badModel(path: jsonPath, reason: "format '\(format)', expected '\(Self.format)'")
        }
        // A newer exporter may add what this reader does not know: refuse it rather than guess.
        let version = try fields.int("format_version")
        guard (1...Self.formatVersion).contains(version) else {
            throw ClassifierError.badModel(path: jsonPath, reason: "format_version \(version) is newer than this fer-live reads (\(Self.formatVersion)); update fer-live or re-export the model")
        }
        let labels = try fields.strings("labels")
        guard !labels.isEmpty else { throw ClassifierError.badModel(path: jsonPath, reason: "no labels") }
        for l in labels where Emotion(name: l) == nil { throw ClassifierError.unknownLabel(path: jsonPath, label: l) }
        guard Set(labels).count == labels.count else {
            throw ClassifierError.badModel(path: jsonPath, reason: "repeated label in \(labels)")
        }
        let input = try fields.object("input")
        let inputShape = [try input.int("channels"), try input.int("height"), try input.int("width")]
        guard inputShape.allSatisfy({ $0 > 0 }) else {
            throw ClassifierError.badModel(path: jsonPath, reason: "input shape \(inputShape) is not positive")
        }
        let pp = try fields.object("preprocessing")
        let preprocessing = Preprocessing(scale: Float(try pp.double("scale")), mean: Float(try pp.double("mean")),
                                          std: Float(try pp.double("std")))
        guard preprocessing.std > 0, preprocessing.scale > 0 else {
            throw ClassifierError.badModel(path: jsonPath, reason: "preprocessing scale and std must be positive")
        }
        let weightsName = try fields.string("weights")
        let dir = (jsonPath as NSString).deletingLastPathComponent
        let weightsPath = dir.isEmpty ? weightsName : (dir as NSString).appendingPathComponent(weightsName)
        let layers = try fields.objects("layers")
        guard !layers.isEmpty else { throw ClassifierError.badModel(path: jsonPath, reason: "no layers") }

        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(path: weightsPath)
        } catch let e as NeuralNetError {
            throw ClassifierError.unreadable(path: weightsPath, reason: e.description)
        }
        var graph = GraphBuilder(jsonPath: jsonPath, file: file, inputShape: inputShape)
        for layer in layers { try graph.add(layer) }
        try graph.finish(outputs: labels.count)

        var accuracy: [String: Double] = [:]
        if let acc = top["accuracy"] as? [String: Any] {
            for (split, v) in acc {
                if let d = v as? [String: Any], let a = (d["accuracy"] as? NSNumber)?.doubleValue { accuracy[split] = a }
            }
        }
        self.name = (top["name"] as? String) ?? ((jsonPath as NSString).lastPathComponent as NSString).deletingPathExtension
        self.jsonPath = jsonPath
        self.weightsPath = weightsPath
        self.labels = labels
        self.inputShape = inputShape
        self.preprocessing = preprocessing
        self.parameters = graph.parameters
        self.accuracy = accuracy
        self.steps = try graph.compiled()
        self.slotCount = graph.slotCount
        self.channelsLast = graph.channelsLast()
    }

    /// `[N, C, H, W]` normalised images to `[N, labels.count]` probabilities.
    public func forward(_ input: Tensor) throws -> Tensor {
        guard input.rank == 4, Array(input.shape.dropFirst()) == inputShape else {
            throw NeuralNetError.badInput(layer: "\(name) input", shape: input.shape, reason: "expects [N] + \(inputShape)")
        }
        if let channelsLast { return try channelsLast.forward(input) }
        return try forwardSteps(input)
    }

    /// The layer-by-layer NCHW path (every graph the builder accepts).
    func forwardSteps(_ input: Tensor) throws -> Tensor {
        var slots = [Tensor?](repeating: nil, count: slotCount)
        slots[0] = input
        var last = input
        for step in steps {
            guard let a = slots[step.inputs[0]] else {
                throw NeuralNetError.badInput(layer: step.name, shape: [], reason: "input released too early")
            }
            let y: Tensor
            switch step.op {
            case .layer(let layer):
                y = try layer.forward(a)
            case .add:
                guard let b = slots[step.inputs[1]] else {
                    throw NeuralNetError.badInput(layer: step.name, shape: [], reason: "input released too early")
                }
                y = try a.adding(b)
            case .reshape(let item):
                y = try a.reshaped([a.shape[0]] + item)
            }
            for r in step.release { slots[r] = nil }
            slots[step.output] = y
            last = y
        }
        return last
    }
}

// MARK: - Graph building

/// One compiled step: inputs and output are value slots; `release` lists slots whose last reader
/// this step is (freed so a large batch does not keep every activation alive).
struct Step: Sendable {
    enum Op: Sendable {
        case layer(any Layer)
        case add
        case reshape([Int])
    }
    var name: String
    var op: Op
    var inputs: [Int]
    var output: Int
    var release: [Int] = []
}

/// A layer as read from the JSON, before activation fusion picks the final NeuralNet layer.
private enum Node {
    case conv(weight: Tensor, bias: Tensor, stride: (Int, Int), padding: (Int, Int), activation: Activation)
    case linear(weight: Tensor, bias: Tensor, activation: Activation)
    case activation(Activation)
    case maxpool(MaxPool2D)
    case globalAveragePool(channels: Int)
    case flatten(Int)
    case add
    case softmax

    var canFuse: Bool {
        switch self {
        case .conv(_, _, _, _, .none), .linear(_, _, .none): true
        default: false
        }
    }

    func fused(_ a: Activation) -> Node {
        switch self {
        case let .conv(w, b, s, p, _): .conv(weight: w, bias: b, stride: s, padding: p, activation: a)
        case let .linear(w, b, _): .linear(weight: w, bias: b, activation: a)
        default: self
        }
    }
}

private struct GraphBuilder {
    let jsonPath: String
    let file: SafeTensorsFile
    var names: [String: Int] = ["input": 0]      // value name -> node index (0 = input)
    var nodes: [(name: String, node: Node?, inputs: [Int], shape: [Int])]
    var consumers: [Int] = [0]
    var usedTensors: Set<String> = []
    var parameters = 0
    var endsWithSoftmax = false

    init(jsonPath: String, file: SafeTensorsFile, inputShape: [Int]) {
        self.jsonPath = jsonPath
        self.file = file
        nodes = [("input", nil, [], inputShape)]
    }

    var slotCount: Int { nodes.count }

    mutating func add(_ f: Fields) throws {
        let name = try f.string("name")
        guard names[name] == nil else { throw f.error("name '\(name)' used twice") }
        let op = try f.string("op")
        let inputNames = try f.strings("inputs")
        var inputs: [Int] = []
        for n in inputNames {
            guard let i = names[n] else { throw f.error("input '\(n)' is not the input or an earlier layer") }
            inputs.append(i)
        }
        let arity = op == "add" ? 2 : 1
        guard inputs.count == arity else { throw f.error("op '\(op)' takes \(arity) input(s), got \(inputs.count)") }
        let x = nodes[inputs[0]].shape
        var node: Node
        var shape: [Int]
        switch op {
        case "conv":
            guard x.count == 3 else { throw f.error("conv needs a [C, H, W] input, got \(x)") }
            let out = try f.int("out_channels")
            if let cin = try f.optionalInt("in_channels"), cin != x[0] {
                throw f.error("in_channels \(cin) but the input has \(x[0]) channels")
            }
            let k = try f.pair("kernel"), s = try f.pair("stride"), p = try f.pair("padding")
            guard out > 0, k.0 > 0, k.1 > 0, s.0 > 0, s.1 > 0, p.0 >= 0, p.1 >= 0 else {
                throw f.error("bad out_channels/kernel/stride/padding")
            }
            guard x[1] + 2 * p.0 >= k.0, x[2] + 2 * p.1 >= k.1 else { throw f.error("kernel \(k) larger than the padded input \(x)") }
            let w = try tensor(f, "weight", shape: [out, x[0], k.0, k.1])
            let b = try tensor(f, "bias", shape: [out])
            node = .conv(weight: w, bias: b, stride: s, padding: p, activation: .none)
            shape = [out, (x[1] + 2 * p.0 - k.0) / s.0 + 1, (x[2] + 2 * p.1 - k.1) / s.1 + 1]
        case "linear":
            let n = x.reduce(1, *)
            let out = try f.int("out_features")
            if let fin = try f.optionalInt("in_features"), fin != n {
                throw f.error("in_features \(fin) but the input \(x) has \(n) values")
            }
            guard out > 0 else { throw f.error("out_features must be positive") }
            node = .linear(weight: try tensor(f, "weight", shape: [out, n]), bias: try tensor(f, "bias", shape: [out]),
                           activation: .none)
            shape = [out]
        case "relu":
            node = .activation(.relu)
            shape = x
        case "prelu":
            let name = try f.string("weight")
            let found = file.entries[name]?.shape ?? []
            let c = x.count > 1 ? x[0] : x.first ?? 1
            let w = try tensor(f, "weight", shape: found.reduce(1, *) == 1 ? found : [c])
            node = .activation(.prelu(w.storage))
            shape = x
        case "maxpool":
            guard x.count == 3 else { throw f.error("maxpool needs a [C, H, W] input, got \(x)") }
            let k = try f.pair("kernel"), s = try f.optionalPair("stride") ?? k, p = try f.optionalPair("padding") ?? (0, 0)
            guard k.0 == k.1, s.0 == s.1, p.0 == p.1 else {
                throw f.error("only square pooling windows are supported (kernel \(k), stride \(s), padding \(p))")
            }
            guard k.0 > 0, s.0 > 0, p.0 >= 0, 2 * p.0 <= k.0 else { throw f.error("bad kernel/stride/padding") }
            let ceil = try f.optionalBool("ceil_mode") ?? false
            let pool = MaxPool2D(kernel: k.0, stride: s.0, padding: p.0, ceilMode: ceil)
            let oh = pool.outputSize(x[1]), ow = pool.outputSize(x[2])
            guard oh > 0, ow > 0 else { throw f.error("input \(x) smaller than the \(k.0)x\(k.0) window") }
            node = .maxpool(pool)
            shape = [x[0], oh, ow]
        case "global_avg_pool":
            guard x.count == 3 else { throw f.error("global_avg_pool needs a [C, H, W] input, got \(x)") }
            node = .globalAveragePool(channels: x[0])
            shape = [x[0], 1, 1]
        case "flatten":
            node = .flatten(x.reduce(1, *))
            shape = [x.reduce(1, *)]
        case "add":
            let y = nodes[inputs[1]].shape
            guard x == y else { throw f.error("adds shapes \(x) and \(y)") }
            node = .add
            shape = x
        case "softmax":
            guard x.count == 1 else { throw f.error("softmax needs a vector input, got \(x)") }
            node = .softmax
            shape = x
        default:
            throw f.error("unknown op '\(op)'")
        }
        let declared = try f.ints("output_shape")
        guard declared == shape else { throw f.error("output_shape \(declared) declared, \(shape) computed from the input") }

        for i in inputs { consumers[i] += 1 }
        nodes.append((name, node, inputs, shape))
        consumers.append(0)
        names[name] = nodes.count - 1
        endsWithSoftmax = op == "softmax"
    }

    private mutating func tensor(_ f: Fields, _ field: String, shape: [Int]) throws -> Tensor {
        let name = try f.string(field)
        do {
            let t = try file.tensor(name, shape: shape)
            usedTensors.insert(name)
            parameters += t.count
            return t
        } catch let e as NeuralNetError {
            let reason: String
            switch e {
            case .missingTensor: reason = "missing from \(file.path)"
            case let .wrongShape(_, _, expected, found): reason = "has shape \(found) in \(file.path), the architecture needs \(expected)"
            case let .wrongDType(_, _, dtype): reason = "has dtype \(dtype) in \(file.path), expected F32"
            default: reason = e.description
            }
            throw ClassifierError.badTensor(path: file.path, layer: f.layer ?? "?", tensor: name, reason: reason)
        }
    }

    mutating func finish(outputs: Int) throws {
        let shape = nodes[nodes.count - 1].shape
        guard shape == [outputs] else {
            throw ClassifierError.badModel(path: jsonPath, reason: "the last layer gives \(shape), the model has \(outputs) labels")
        }
        if !endsWithSoftmax {
            nodes.append(("softmax(added)", .softmax, [nodes.count - 1], shape))
            consumers[nodes.count - 2] += 1
            consumers.append(0)
        }
        fuseActivations()
        for name in file.names where !usedTensors.contains(name) {
            throw ClassifierError.badTensor(path: file.path, layer: "(none)", tensor: name,
                                            reason: "is in the weights file but no layer of \(jsonPath) uses it")
        }
    }

    /// A ReLU/PReLU whose producer (conv or linear) feeds nothing else is folded into that
    /// producer: one pass over the output instead of two. Done after the whole graph is read so
    /// a later layer that names the pre-activation value blocks the fusion (consumer count).
    private mutating func fuseActivations() {
        for i in nodes.indices {
            guard case .activation(let a)? = nodes[i].node, let j = nodes[i].inputs.first,
                  let producer = nodes[j].node, producer.canFuse, consumers[j] == 1 else { continue }
            nodes[j].node = producer.fused(a)
            nodes[j].name += "+" + nodes[i].name
            nodes[i].node = nil
            // Readers of the activation now read the fused producer's slot.
            for k in (i + 1)..<nodes.count {
                nodes[k].inputs = nodes[k].inputs.map { $0 == i ? j : $0 }
            }
            consumers[j] = consumers[i]
        }
    }

    /// Slot of the network's output (the last node that was not fused away).
    var outputSlot: Int { nodes.lastIndex(where: { $0.node != nil }) ?? 0 }

    /// The graph as a `ChannelsLastNetwork` when it is a chain (each layer reads the one before)
    /// of ops that runtime supports; nil otherwise.
    func channelsLast() -> ChannelsLastNetwork? {
        var ops: [ChannelsLastNetwork.Op] = []
        var previous = 0
        for (i, n) in nodes.enumerated() where i > 0 {
            guard let node = n.node else { continue }
            guard n.inputs == [previous] else { return nil }
            previous = i
            switch node {
            case let .conv(w, b, s, p, a):
                guard let c = try? Conv2D(weight: w, bias: b, stride: (s.0, s.1), padding: (p.0, p.1), activation: a) else { return nil }
                ops.append(.conv(c))
            case let .linear(w, b, a):
                guard let l = try? Linear(weight: w, bias: b, activation: a) else { return nil }
                ops.append(.linear(l))
            case .activation(.none): break
            case .activation(let a): ops.append(.activation(a))
            case .maxpool(let m): ops.append(.maxPool(m))
            case .globalAveragePool: ops.append(.globalAveragePool)
            case .flatten: ops.append(.flatten)
            case .add: return nil
            case .softmax: ops.append(.softmax)
            }
        }
        guard let input = nodes.first?.shape, let net = try? ChannelsLastNetwork(input: input, ops: ops),
              [net.outputs] == nodes[previous].shape else { return nil }
        return net
    }

    func compiled() throws -> [Step] {
        var steps: [Step] = []
        var lastUse = [Int](repeating: -1, count: nodes.count)
        for (i, n) in nodes.enumerated() where n.node != nil { for j in n.inputs { lastUse[j] = i } }
        for (i, n) in nodes.enumerated() where i > 0 {
            guard let node = n.node else { continue }
            let op: Step.Op
            switch node {
            case let .conv(w, b, s, p, a):
                do {
                    op = .layer(try Conv2D(weight: w, bias: b, stride: (s.0, s.1), padding: (p.0, p.1), activation: a))
                } catch { throw ClassifierError.badLayer(path: jsonPath, layer: n.name, reason: "\(error)") }
            case let .linear(w, b, a):
                do {
                    op = .layer(try Linear(weight: w, bias: b, activation: a))
                } catch { throw ClassifierError.badLayer(path: jsonPath, layer: n.name, reason: "\(error)") }
            case .activation(.relu): op = .layer(ReLU())
            case .activation(.prelu(let s)): op = .layer(PReLU(slopes: s))
            case .activation(.none): op = .reshape(n.shape)
            case .maxpool(let m): op = .layer(m)
            case .globalAveragePool: op = .layer(Sequential(GlobalAveragePool(), ReshapeLayer(item: n.shape)))
            case .flatten: op = .layer(Flatten())
            case .add: op = .add
            case .softmax: op = .layer(Softmax())
            }
            let release = Set(n.inputs).filter { lastUse[$0] == i && $0 != 0 }.sorted()
            steps.append(Step(name: n.name, op: op, inputs: n.inputs, output: i, release: release))
        }
        return steps
    }
}

/// `[N, ...]` to `[N] + item`.
private struct ReshapeLayer: Layer {
    let item: [Int]
    func forward(_ input: Tensor) throws -> Tensor { try input.reshaped([input.shape.first ?? 0] + item) }
}

// MARK: - JSON field access with errors that name the file and layer

struct Fields {
    let path: String
    let layer: String?
    let dict: [String: Any]

    func error(_ reason: String) -> ClassifierError {
        if let layer { return .badLayer(path: path, layer: layer, reason: reason) }
        return .badModel(path: path, reason: reason)
    }

    private func value(_ key: String) throws -> Any {
        guard let v = dict[key], !(v is NSNull) else { throw error("missing field '\(key)'") }
        return v
    }

    func string(_ key: String) throws -> String {
        guard let s = try value(key) as? String else { throw error("field '\(key)' is not a string") }
        return s
    }

    func strings(_ key: String) throws -> [String] {
        guard let s = try value(key) as? [String] else { throw error("field '\(key)' is not a list of strings") }
        return s
    }

    private static func integer(_ v: Any) -> Int? {
        guard let n = v as? NSNumber else { return nil }
        let d = n.doubleValue
        guard d == d.rounded(), abs(d) < 1e9 else { return nil }
        return n.intValue
    }

    func int(_ key: String) throws -> Int {
        guard let i = Self.integer(try value(key)) else { throw error("field '\(key)' is not an integer") }
        return i
    }

    func optionalInt(_ key: String) throws -> Int? {
        dict[key] == nil ? nil : try int(key)
    }

    func optionalBool(_ key: String) throws -> Bool? {
        guard let v = dict[key] else { return nil }
        guard let b = v as? Bool else { throw error("field '\(key)' is not a boolean") }
        return b
    }

    func double(_ key: String) throws -> Double {
        guard let n = try value(key) as? NSNumber, n.doubleValue.isFinite else { throw error("field '\(key)' is not a number") }
        return n.doubleValue
    }

    func ints(_ key: String) throws -> [Int] {
        guard let a = try value(key) as? [Any] else { throw error("field '\(key)' is not a list of integers") }
        var out: [Int] = []
        for v in a {
            guard let i = Self.integer(v) else { throw error("field '\(key)' is not a list of integers") }
            out.append(i)
        }
        return out
    }

    /// `[h, w]` or a single integer for both.
    func pair(_ key: String) throws -> (Int, Int) {
        if let i = Self.integer(try value(key)) { return (i, i) }
        let a = try ints(key)
        guard a.count == 2 else { throw error("field '\(key)' must be [h, w]") }
        return (a[0], a[1])
    }

    func optionalPair(_ key: String) throws -> (Int, Int)? {
        dict[key] == nil ? nil : try pair(key)
    }

    func object(_ key: String) throws -> Fields {
        guard let d = try value(key) as? [String: Any] else { throw error("field '\(key)' is not an object") }
        return Fields(path: path, layer: layer, dict: d)
    }

    /// A list of layer objects; each is named by its `name` (or its position) in later errors.
    func objects(_ key: String) throws -> [Fields] {
        guard let a = try value(key) as? [Any] else { throw error("field '\(key)' is not a list") }
        return try a.enumerated().map { i, v in
            guard let d = v as? [String: Any] else {
                throw ClassifierError.badLayer(path: path, layer: "#\(i)", reason: "not a JSON object")
            }
            return Fields(path: path, layer: (d["name"] as? String) ?? "#\(i)", dict: d)
        }
    }
}
