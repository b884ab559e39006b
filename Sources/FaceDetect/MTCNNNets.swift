import NeuralNet

/// The three MTCNN networks, loaded from facenet-pytorch's state dicts converted to safetensors
/// (models/mtcnn). Every tensor's shape is checked against the architecture at load time.
/// Each network merges its output heads into one layer (one pass instead of two or three).

/// P-Net: fully convolutional, 12x12 receptive field, stride 2.
struct PNet: Sendable {
    let conv1: Conv2D, conv2: Conv2D, conv3: Conv2D
    /// conv3 as planar Winograd F(2x2, 3x3) with the head fused after it: what `forwardInPlace`
    /// runs, after the direct conv2, on maps too small for `conv3Head` (under 6x6). `forward`
    /// keeps the direct kernels as the reference path.
    let conv3w: Winograd3x3
    /// conv3 + head as channels-last Winograd F(4x4, 3x3) with the head fused per tile
    /// (`nn_wino4x4_nhwc_head`): what `forwardInPlace` runs on maps of at least 6x6, after
    /// `conv2w` (16 channels fill one vector; the fused head never writes conv3's 32-channel
    /// map, which a separate 1x1 pass spent most of its time reading back). 2.25 products
    /// per output instead of F(2x2)'s 4, in the kernel that runs the crop nets at 60-80% of the
    /// core's peak; `conv3w` (planar F(2x2)) takes the smaller maps.
    let conv3Head: ChannelsLastConv
    /// conv2 as channels-last Winograd F(4x4, 3x3) (its 10 input channels padded to one 16-wide
    /// vector), writing the channels-last map conv3Head reads, which also saves transposing
    /// conv2's planar output. On the moving 1080p clip it took P-Net from about 41 to 36 ms of
    /// CPU per frame (planar F(2x2) for conv2 had gained nothing: 10 input channels fill too
    /// little of a vector).
    let conv2w: ChannelsLastConv
    /// conv4_1 (2 face/non-face logits) and conv4_2 (4 box offsets) as one 6-channel 1x1 conv.
    let head: Conv2D
    let pool = MaxPool2D(kernel: 2, stride: 2, ceilMode: true)

    init(path: String) throws {
        let f = try SafeTensorsFile(path: path)
        conv1 = try Conv2D(weight: f.tensor("conv1.weight", shape: [10, 3, 3, 3]), bias: f.tensor("conv1.bias", shape: [10]),
                           activation: .prelu(f.tensor("prelu1.weight", shape: [10]).storage))
        conv2 = try Conv2D(weight: f.tensor("conv2.weight", shape: [16, 10, 3, 3]), bias: f.tensor("conv2.bias", shape: [16]),
                           activation: .prelu(f.tensor("prelu2.weight", shape: [16]).storage))
        conv3 = try Conv2D(weight: f.tensor("conv3.weight", shape: [32, 16, 3, 3]), bias: f.tensor("conv3.bias", shape: [32]),
                           activation: .prelu(f.tensor("prelu3.weight", shape: [32]).storage))
        let w = try f.tensor("conv4_1.weight", shape: [2, 32, 1, 1]).storage + f.tensor("conv4_2.weight", shape: [4, 32, 1, 1]).storage
        let b = try f.tensor("conv4_1.bias", shape: [2]).storage + f.tensor("conv4_2.bias", shape: [4]).storage
        head = try Conv2D(weight: Tensor(shape: [6, 32, 1, 1], storage: w), bias: Tensor(shape: [6], storage: b))
        conv3w = try Winograd3x3(conv3, head: head)
        conv3Head = try ChannelsLastConv(conv3, winograd: true, outputTile: 4, head: head)
        conv2w = try ChannelsLastConv(conv2, winograd: true, outputTile: 4)
    }

    /// `[N, 3, H, W]` (H, W >= 12) to `[N, 6, h, w]`: channel 0-1 softmax probabilities
    /// (non-face, face), channels 2-5 box regression.
    func forward(_ x: Tensor) throws -> Tensor {
        var y = try head.forward(conv3.forward(conv2.forward(pool.forward(conv1.forward(x)))))
        softmaxFirstTwo(&y)
        return y
    }
}

/// Softmax over channels 0 and 1 of `[N, C, ...]` in place, as torch.softmax (max subtracted).
func softmaxFirstTwo(_ t: inout Tensor) {
    let n = t.shape[0], c = t.shape[1], inner = t.shape.dropFirst(2).reduce(1, *)
    t.storage.withUnsafeMutableBufferPointer { p in
        for b in 0..<n {
            let base = b * c * inner
            for i in 0..<inner {
                let a0 = p[base + i], a1 = p[base + inner + i]
                let m = max(a0, a1)
                let e0 = (a0 - m).exp, e1 = (a1 - m).exp
                let s = e0 + e1
                p[base + i] = e0 / s
                p[base + inner + i] = e1 / s
            }
        }
    }
}

import Foundation
extension Float {
    @inline(__always) fileprivate var exp: Float { Foundation.exp(self) }
}

/// Which 3x3 crop-network convolutions run as Winograd (`ChannelsLastConv(_:winograd:outputTile:)`),
/// and with which output tile: each where measured fastest (`DetectionTimings.testWinogradTiles`,
/// best of 300 interleaved runs, microseconds per crop, 2-core AVX2 VM, 2026-12-07: direct /
/// F(2x2) / F(3x3) / F(4x4)): R-Net conv2 20.1 / 15.4 / 8.8 / 13.4 (its 9x9 map is 3x3 tiles of
/// F(3x3), while F(4x4) computes 144 outputs for 81), O-Net conv2 166 / 109 / 74 / 78 (21x21:
/// 7x7 tiles exactly), O-Net conv3 51 / 26 / 31 / 16 (8x8: 2x2 tiles of F(4x4)).
enum Winograd {
    /// R-Net's and O-Net's conv1 (3 input channels) by F(4, 3) along the rows (`rowWinograd`).
    static let cropConv1Rows = true
    static let rnetConv2: Int? = 3
    static let onetConv2: Int? = 3
    static let onetConv3: Int? = 4
}

/// R-Net: 24x24 crops to face probability and box regression.
struct RNet: Sendable {
    /// The layers channels-last; dense5_1 (2) and dense5_2 (4) merged into one 6-output layer.
    let net: CropNet

    init(path: String) throws {
        let f = CropNetFile(try SafeTensorsFile(path: path))
        let pool = MaxPool2D(kernel: 3, stride: 2, ceilMode: true)
        let dense4 = try f.dense("dense4", [128, 576], prelu: "prelu4", flattenedFrom: (c: 64, h: 3, w: 3))
        let head = try f.mergedHead(["dense5_1": 2, "dense5_2": 4], inputs: 128)
        net = try CropNet(ops: [
            f.conv("conv1", [28, 3, 3, 3], prelu: "prelu1", rowWinograd: Winograd.cropConv1Rows), .pool(pool),
            f.conv("conv2", [48, 28, 3, 3], prelu: "prelu2", winograd: Winograd.rnetConv2), .pool(pool),
            f.conv("conv3", [64, 48, 2, 2], prelu: "prelu3"), .flatten,
            .conv(ChannelsLastConv(dense4)), .conv(ChannelsLastConv(head)),
        ], size: 24)
    }

    /// `[N, 3, 24, 24]` to `[N, 6]`: probabilities (non-face, face), then 4 regression values.
    func forward(_ x: Tensor) throws -> Tensor {
        var y = try net.forward(x)
        softmaxFirstTwo(&y)
        return y
    }
}

/// O-Net: 48x48 crops to face probability, box regression and five landmarks.
struct ONet: Sendable {
    /// The layers channels-last; dense6_1 (2), dense6_2 (4), dense6_3 (10) merged into one 16-output layer.
    let net: CropNet

    init(path: String) throws {
        let f = CropNetFile(try SafeTensorsFile(path: path))
        let pool = MaxPool2D(kernel: 3, stride: 2, ceilMode: true)
        let dense5 = try f.dense("dense5", [256, 1152], prelu: "prelu5", flattenedFrom: (c: 128, h: 3, w: 3))
        let head = try f.mergedHead(["dense6_1": 2, "dense6_2": 4, "dense6_3": 10], inputs: 256)
        net = try CropNet(ops: [
            f.conv("conv1", [32, 3, 3, 3], prelu: "prelu1", rowWinograd: Winograd.cropConv1Rows), .pool(pool),
            f.conv("conv2", [64, 32, 3, 3], prelu: "prelu2", winograd: Winograd.onetConv2), .pool(pool),
            f.conv("conv3", [64, 64, 3, 3], prelu: "prelu3", winograd: Winograd.onetConv3), .pool(MaxPool2D(kernel: 2, stride: 2, ceilMode: true)),
            f.conv("conv4", [128, 64, 2, 2], prelu: "prelu4"), .flatten,
            .conv(ChannelsLastConv(dense5)), .conv(ChannelsLastConv(head)),
        ], size: 48)
    }

    /// `[N, 3, 48, 48]` to `[N, 16]`: probabilities (2), regression (4), landmarks x1..x5, y1..y5 (10).
    func forward(_ x: Tensor) throws -> Tensor {
        var y = try net.forward(x)
        softmaxFirstTwo(&y)
        return y
    }
}

/// R-Net's and O-Net's tensors as the crop nets run them: named layers loaded with their shapes
/// checked, each followed by its PReLU.
struct CropNetFile {
    let file: SafeTensorsFile
    init(_ file: SafeTensorsFile) { self.file = file }

    /// A convolution `name` of `shape` [out, in, kh, kw] with PReLU `prelu`, channels-last;
    /// Winograd F(tile x tile, 3x3) when `winograd` gives a tile, F(4, 3) along rows with `rowWinograd`.
    func conv(_ name: String, _ shape: [Int], prelu: String, winograd tile: Int? = nil, rowWinograd: Bool = false) throws -> CropNet.Op {
        .conv(try ChannelsLastConv(Conv2D(weight: file.tensor("\(name).weight", shape: shape),
                                          bias: file.tensor("\(name).bias", shape: [shape[0]]),
                                          activation: .prelu(file.tensor("\(prelu).weight", shape: [shape[0]]).storage)),
                                   winograd: tile != nil, outputTile: tile ?? 2, rowWinograd: rowWinograd))
    }

    /// The dense layer after the flatten, with its columns reordered from PyTorch's (C, H, W)
    /// flattening to the channels-last (H, W, C) the crop nets produce.
    func dense(_ name: String, _ shape: [Int], prelu: String, flattenedFrom map: (c: Int, h: Int, w: Int)) throws -> Linear {
        try Linear(weight: columnsToHWC(file.tensor("\(name).weight", shape: shape), c: map.c, h: map.h, wd: map.w),
                   bias: file.tensor("\(name).bias", shape: [shape[0]]),
                   activation: .prelu(file.tensor("\(prelu).weight", shape: [shape[0]]).storage))
    }

    /// The output layers merged into one, their outputs in the given order (name: outputs).
    func mergedHead(_ layers: KeyValuePairs<String, Int>, inputs: Int) throws -> Linear {
        var w: [Float] = [], b: [Float] = []
        for (name, outputs) in layers {
            w += try file.tensor("\(name).weight", shape: [outputs, inputs]).storage
            b += try file.tensor("\(name).bias", shape: [outputs]).storage
        }
        let total = layers.reduce(0) { $0 + $1.value }
        return try Linear(weight: Tensor(shape: [total, inputs], storage: w), bias: Tensor(shape: [total], storage: b))
    }
}
