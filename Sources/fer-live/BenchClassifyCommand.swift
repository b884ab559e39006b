import ArgumentParser
import Benchmarks
import Classifier
import Foundation
import NeuralNet
import Parallel

struct BenchClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Emotion classifier speed: face crop cost and batched network throughput (medians).")

    @Option(help: "Model name or path to NAME.json.") var model: String?
    @Option(help: "Models folder.") var models: String?
    @Option(help: "Faces per batch.") var batch = 128
    @Option(help: "Timed batches.") var batches = 20
    @Flag(help: "Flip test-time augmentation (each face run twice).") var flip = false
    @Flag(help: "End with one line of JSON.") var json = false

    func run() throws {
        try Reporting.run("bench classify") {
            let c = try EmotionClassifier(name: model, modelsDirectory: models, flipTTA: flip)
            let r = try ClassifierBenchmark(classifier: c).run(batch: max(1, batch), batches: batches)
            print("model \(c.model.name): \(c.model.parameters) parameters; OpenBLAS kernels \(BLASCore.name), \(Threads.cores) cores")
            print(String(format: "face crop (200 px face in 1280x720): %.1f us upright, %.1f us rolled 20 degrees (median of 200)",
                         r.cropMicroseconds, r.rotatedCropMicroseconds))
            print(String(format: "network: %.0f faces/s (median of %d batches of %d%@); %.0f faces per CPU-second",
                         r.facesPerSecond, r.batches, r.batch, flip ? ", flip TTA" : "", r.facesPerCPUSecond))
            if json {
                let obj: [String: Any] = ["model": c.model.name, "crop_us": r.cropMicroseconds, "rotated_crop_us": r.rotatedCropMicroseconds,
                                          "faces_per_second": r.facesPerSecond, "faces_per_cpu_second": r.facesPerCPUSecond, "batch": r.batch, "batches": r.batches,
                                          "flip_tta": flip, "blas_core": BLASCore.name, "cores": Threads.cores]
                let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            }
        }
    }
}
