import ArgumentParser

struct LiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "live", abstract: "(not built yet)")

    func run() throws {
        try Reporting.run("live") { throw NotBuiltYet(what: "`fer-live live`") }
    }
}
