import ArgumentParser

struct BenchPipelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pipeline", abstract: "(not built yet)")

    func run() throws {
        try Reporting.run("bench pipeline") { throw NotBuiltYet(what: "`fer-live bench pipeline`") }
    }
}
