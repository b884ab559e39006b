import Foundation

/// Finds a model folder, the one search order of every command: an explicit directory
/// (`--models DIR`), else the `FER_LIVE_MODELS` environment variable, else `models/` next to the
/// executable, then `models/` in each parent of the executable's folder (a build inside the
/// repository finds the repo's models). A folder named by the user (the first two) that does not
/// hold the files is an error; the search does not go on past it. Each candidate root `R` is accepted when `R/<subdirectory>` holds every required
/// file; a candidate that already is the subdirectory is accepted too.
public enum ModelLocator {
    public static let environmentVariable = "FER_LIVE_MODELS"

    public static func find(subdirectory: String, requiredFiles: [String], explicit: String? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            executablePath: String? = nil) throws -> String {
        var roots: [String] = []
        if let explicit { roots.append(explicit) }
        if let env = environment[environmentVariable], !env.isEmpty { roots.append(env) }
        let exe = executablePath ?? Bundle.main.executablePath ?? CommandLine.arguments.first ?? ""
        if !exe.isEmpty {
            var dir = URL(fileURLWithPath: exe).resolvingSymlinksInPath().deletingLastPathComponent()
            roots.append(dir.appendingPathComponent("models").path)
            for _ in 0..<8 {
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
                roots.append(dir.appendingPathComponent("models").path)
            }
        }
        var searched: [String] = []
        let fm = FileManager.default
        for root in roots {
            for candidate in [(root as NSString).appendingPathComponent(subdirectory), root] {
                if searched.contains(candidate) { continue }
                searched.append(candidate)
                if requiredFiles.allSatisfy({ fm.isReadableFile(atPath: (candidate as NSString).appendingPathComponent($0)) }) {
                    return candidate
                }
            }
            // A folder the user named (--models, or FER_LIVE_MODELS) that does not hold the models
            // is an error, not a hint to look elsewhere: a typo must not load other models.
            if root == explicit || (explicit == nil && root == environment[environmentVariable]) { break }
        }
        throw NeuralNetError.modelsNotFound(what: "\(subdirectory)/{\(requiredFiles.joined(separator: ","))}", searched: searched)
    }
}
