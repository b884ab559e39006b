import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: decoding, face detection, the whole pipeline.",
        subcommands: [BenchDecodeCommand.self, BenchDetectCommand.self, BenchClassifyCommand.self, BenchPipelineCommand.self, BenchOverlayCommand.self]
    )
}
