import ArgumentParser

struct BenchDecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "decode", abstract: "(not built yet)")

    func run() throws {
        try Reporting.run("bench decode") { throw NotBuiltYet(what: "`fer-live bench decode`") }
    }
}
