import ArgumentParser

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "(not built yet)")

    func run() throws {
        try Reporting.run("eval") { throw NotBuiltYet(what: "`fer-live eval`") }
    }
}
