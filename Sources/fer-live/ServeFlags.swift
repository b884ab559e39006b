import ArgumentParser
import LiveView

/// `--serve` and `--serve-keep`, for the commands that run a job (live, annotate, log).
struct ServeFlags: ParsableArguments {
    @Option(name: .customLong("serve"), help: ArgumentHelp(
        "Show the run on a local web page at [HOST:]PORT: the annotated video, each face's emotions, a timeline.",
        discussion: "HOST defaults to 127.0.0.1 (this machine only; over SSH, forward the port). Port 0 picks a free one. The address is printed on standard error.",
        valueName: "[host:]port"))
    var serve: String?

    @Flag(name: .customLong("serve-keep"), help: "With --serve: keep the page up after the run ends, until Ctrl-C.")
    var keep = false

    func validate() throws {
        if keep && serve == nil { throw ValidationError("--serve-keep needs --serve [HOST:]PORT") }
        _ = try address()
    }

    /// The parsed address, nil without --serve.
    func address() throws -> ServeAddress? {
        guard let serve else { return nil }
        do { return try ServeAddress(parsing: serve) } catch let error as LiveViewError {
            throw ValidationError(error.description)
        }
    }
}
