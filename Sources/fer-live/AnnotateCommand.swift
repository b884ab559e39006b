import ArgumentParser

struct AnnotateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "annotate", abstract: "(not built yet)")

    func run() throws {
        try Reporting.run("annotate") { throw NotBuiltYet(what: "`fer-live annotate`") }
    }
}
