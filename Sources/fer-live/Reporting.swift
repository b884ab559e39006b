import ArgumentParser
import Foundation

/// Turns any error thrown by a job into one line on standard error and a non-zero exit.
/// This is the only place the command line decides exit codes.
enum Reporting {
    static func run(_ command: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("fer-live \(command): \(describe(error))")
            throw ExitCode(1)
        }
    }

    static func describe(_ error: Error) -> String {
        // Every module's error enum describes itself in one line that names the input.
        String(describing: error)
    }

    static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func warn(_ line: String) {
        printError("fer-live: warning: \(line)")
    }
}
