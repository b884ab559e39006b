import ArgumentParser

struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "detect", abstract: "(not built yet)")

    func run() throws {
        try Reporting.run("detect") { throw NotBuiltYet(what: "`fer-live detect`") }
    }
}
