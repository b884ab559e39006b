import ArgumentParser
import NeuralNet

/// The command line: argument parsing and wiring only. Every piece of behaviour a test would
/// want to reach lives in the library targets.
@main
struct FerLive: ParsableCommand {
    static let version = "0.5.0"

    static let configuration = CommandConfiguration(
        commandName: "fer-live",
        abstract: "Real-time video emotion recognition: faces found by MTCNN, expressions by a FER2013 CNN.",
        discussion: """
            Jobs:
              fer-live live                     webcam (or --input FILE --realtime) to a streaming log
              fer-live annotate IN -o OUT.mp4   write the video with boxes and emotion labels
              fer-live log IN --csv OUT.csv     per-frame emotions to CSV / JSON lines
              fer-live batch IN... --out DIR    many files (folders, lists), resumable, sharded
            Tools: detect (faces only), eval (classifier accuracy on FER2013 CSV), bench, probe.
            """,
        version: FerLive.version,
        subcommands: [
            LiveCommand.self, AnnotateCommand.self, LogCommand.self, BatchCommand.self,
            DetectCommand.self, EvalCommand.self, BenchCommand.self, ProbeCommand.self,
            MeasureFramingCommand.self,
        ]
    )

    /// OpenBLAS picks its kernels when it loads; on CPUs it does not know it takes slow generic
    /// ones, and only a fresh process with OPENBLAS_CORETYPE set can change that (NeuralNet/BLASCore).
    static func main() {
        BLASCore.relaunchWithBetterKernelsIfNeeded()
        main(nil)
    }
}
