import Classifier
import CoreTypes
import Foundation

/// `summary.csv`: one row per input from its latest record, sorted by input. An emotion's share
/// is the fraction of the input's faces (one per face per frame) whose top emotion it is, as in
/// `annotate`'s closing report.
public enum BatchSummary {
    public static let header: [String] =
        ["input", "name", "status", "frames", "duration_s", "faces", "frames_with_faces"]
        + Emotion.allCases.map(\.name) + ["reason"]

    public static func rows(_ records: [BatchRecord]) -> [[String]] {
        RecordStore.latest(records).values
            .sorted { $0.input.utf8.lexicographicallyPrecedes($1.input.utf8) }
            .map(row)
    }

    static func row(_ r: BatchRecord) -> [String] {
        var cols = [r.input, r.name, r.status.rawValue, String(r.frames), Format.fixed(r.duration, 3),
                    String(r.faces), String(r.framesWithFaces)]
        cols += Emotion.allCases.map { e in
            Format.fixed(r.faces > 0 ? Double(r.count(e)) / Double(r.faces) : 0, 4)
        }
        cols.append(r.reason ?? "")
        return cols
    }

    public static func csv(_ records: [BatchRecord]) -> String {
        ([header] + rows(records)).map { $0.map(quote).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    /// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
    static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Rebuilds `folder/summary.csv` from every record file there, written under a temporary
    /// name and renamed, so a reader never sees half of it. Returns the number of rows.
    /// `requireRecords`: a folder without record files is an error (`--summarize` on the wrong
    /// folder) rather than an empty summary (a batch that found no inputs).
    @discardableResult
    public static func write(folder: String, requireRecords: Bool = true) throws -> Int {
        let store = RecordStore(folder: folder)
        if requireRecords && store.files().isEmpty { throw BatchError.noRecords(folder: folder) }
        let records = store.readAll().records
        let file = OutputFile((folder as NSString).appendingPathComponent(BatchLayout.summaryFile))
        do {
            try Data(csv(records).utf8).write(to: URL(fileURLWithPath: file.writePath))
        } catch {
            file.discard()
            throw PipelineError.writeFailed(path: file.path, reason: (error as NSError).localizedDescription)
        }
        try file.commit()
        return RecordStore.latest(records).count
    }
}
