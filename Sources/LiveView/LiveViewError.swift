/// What can go wrong with `--serve`; each case names the address and says why, in one line.
public enum LiveViewError: Error, CustomStringConvertible, Equatable {
    /// `--serve` was given something that is not `[HOST:]PORT`.
    case badAddress(String, reason: String)
    /// The server could not listen there (port taken, no such interface, no permission).
    case cannotListen(address: String, reason: String)

    public var description: String {
        switch self {
        case .badAddress(let text, let reason):
            return "--serve \(text): \(reason) (expected [HOST:]PORT, like 8080 or 127.0.0.1:8080)"
        case .cannotListen(let address, let reason):
            return "cannot serve on \(address): \(reason)"
        }
    }
}
