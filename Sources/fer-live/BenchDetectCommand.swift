import ArgumentParser

struct BenchDetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "detect", abstract: "(not built yet)")

    func run() throws {
        try Reporting.run("bench detect") { throw NotBuiltYet(what: "`fer-live bench detect`") }
    }
}
