import ArgumentParser

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "(not built yet)")

    func run() throws {
        try Reporting.run("log") { throw NotBuiltYet(what: "`fer-live log`") }
    }
}
