import ArgumentParser
import Classifier
import Foundation
import Pipeline

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Classifier accuracy and speed on a Kaggle-format FER2013 CSV (.csv or .csv.gz).",
        discussion: """
            Runs the model on the 48x48 faces of every selected row (no detection), normalised as in
            training, in batches. Prints accuracy, per-class precision and recall, the confusion
            matrix and faces per second (timed inference only). With --json the last line of
            standard output is one JSON object (n, accuracy, faces_per_second, ...).
            """)

    @Argument(help: "FER2013 CSV: header emotion,pixels,Usage; plain or gzipped.")
    var data: String

    @Option(help: "Rows to evaluate by their Usage value (any value in the file, e.g. PublicTest), or all (default: PublicTest when the file has a Usage column, else every row).")
    var usage: String?

    @Option(help: "Model name in the models folder's emotion/ (default: emotion/default.txt, else fernet), or a path to NAME.json.")
    var model: String?

    @Option(help: "Models folder (else $FER_LIVE_MODELS, models/ beside the executable or in the repository).")
    var models: String?

    @Option(help: "Faces per network batch.")
    var batch: Int = 128

    @Flag(help: "Average the probabilities of each face and its mirror image.")
    var flip = false

    @Flag(help: "Stop at the first malformed row instead of skipping it.")
    var strict = false

    @Flag(help: "End with one line of JSON.")
    var json = false

    @Option(help: "Write each row's prediction to this CSV (line,truth,prediction; line numbers of the input CSV).")
    var predictions: String?

    @Flag(name: [.customShort("y"), .customLong("overwrite")], help: "Replace the --predictions file if it exists.")
    var overwrite = false

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        if let usage, usage.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--usage needs a value") }
    }

    func run() throws {
        try Reporting.run("eval") {
            if let predictions {
                try OutputCheck.validate(outputs: [.init(option: "--predictions", path: predictions)], inputs: [data], overwrite: overwrite)
            }
            let classifier = try EmotionClassifier(name: model, modelsDirectory: models, flipTTA: flip)
            var evaluator = ClassifierEvaluation(classifier: classifier, batch: batch)
            let probe = FER2013CSV(path: data)
            let usage = try self.usage ?? (probe.hasUsageColumn() ? "PublicTest" : "all")
            let csv = FER2013CSV(path: data, options: .init(usage: usage == "all" ? nil : [usage], strict: strict))
            let summary = try evaluator.run(csv) { Reporting.warn($0) }
            guard evaluator.matrix.total > 0 else {
                let present = summary.usagesSeen.sorted { $0.key < $1.key }
                    .map { "\($0.key.isEmpty ? "(none)" : $0.key) \($0.value)" }.joined(separator: ", ")
                let scope = usage == "all" ? "no usable rows" : "no rows with Usage \(usage)"
                throw ClassifierError.badCSV(path: data, reason: "\(scope) (\(summary.rows) rows read\(present.isEmpty ? "" : "; Usage values: \(present)"))")
            }
            if let predictions {
                let out = try TextOutput(path: predictions)
                out.append("line,truth,prediction")
                for p in evaluator.predictions { out.append("\(p.line),\(p.truth.name),\(p.prediction.name)") }
                try out.close()
            }
            print(evaluator.report(dataPath: data, usage: usage, summary: summary))
            if json { print(evaluator.json(dataPath: data, usage: usage, summary: summary)) }
        }
    }
}
