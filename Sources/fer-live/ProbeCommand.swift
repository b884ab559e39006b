import ArgumentParser

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "probe", abstract: "(not built yet)")

    func run() throws {
        try Reporting.run("probe") { throw NotBuiltYet(what: "`fer-live probe`") }
    }
}
