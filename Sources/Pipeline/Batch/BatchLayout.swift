import Foundation

/// Which outputs each input gets.
public struct BatchOutputKinds: Sendable, Equatable {
    public var video: Bool
    public var csv: Bool
    public var jsonl: Bool

    public init(video: Bool = false, csv: Bool = false, jsonl: Bool = false) {
        self.video = video; self.csv = csv; self.jsonl = jsonl
    }
}

/// One input's output paths, relative to the output folder.
public struct BatchOutputs: Sendable, Equatable, Codable {
    public var video: String?
    public var csv: String?
    public var jsonl: String?

    public init(video: String? = nil, csv: String? = nil, jsonl: String? = nil) {
        self.video = video; self.csv = csv; self.jsonl = jsonl
    }

    public var all: [String] { [video, csv, jsonl].compactMap { $0 } }
}

/// An input with the outputs it will write.
public struct BatchItem: Sendable, Equatable {
    public var input: BatchInput
    /// The input's name under the output folder: its own, or numbered when another input has it.
    public var name: String
    public var outputs: BatchOutputs

    public init(input: BatchInput, name: String? = nil, outputs: BatchOutputs) {
        self.input = input
        self.name = name ?? input.name
        self.outputs = outputs
    }
}

/// Names every input's outputs under the output folder: the input's relative name plus a suffix
/// (`sub/a.mp4.csv`, `sub/a.mp4.jsonl`, `sub/a.mp4.annotated.mp4`). Keeping the input's extension
/// means `a.mp4` and `a.mov` never meet. Two inputs with the same relative name (the same file
/// name in two folders given as arguments) are told apart by a number before the extension
/// (`a-2.mp4.csv`), never by writing over one another, and no output takes the name of the
/// batch's own record and summary files.
///
/// The layout is made over the whole sorted list before it is split into shards, so every shard
/// (and every rerun over the same inputs) gives an input the same names.
public enum BatchLayout {
    public static let recordFile = "batch.jsonl"
    public static let summaryFile = "summary.csv"

    public static func items(_ inputs: [BatchInput], kinds: BatchOutputKinds) -> [BatchItem] {
        let natural = Set(inputs.map(\.name))
        var taken = Set<String>()
        return inputs.map { input in
            var name = input.name
            var n = 1
            while taken.contains(name) || collidesWithBatchFiles(name, input: input, kinds: kinds) {
                n += 1
                let candidate = numbered(input.name, n)
                // A number another input has as its own name would only move the clash.
                if !natural.contains(candidate) { name = candidate }
            }
            taken.insert(name)
            return BatchItem(input: input, name: name, outputs: outputs(forName: name, input: input, kinds: kinds))
        }
    }

    static func outputs(forName name: String, input: BatchInput, kinds: BatchOutputKinds) -> BatchOutputs {
        BatchOutputs(video: kinds.video ? name + ".annotated." + videoExtension(for: input) : nil,
                     csv: kinds.csv ? name + ".csv" : nil,
                     jsonl: kinds.jsonl ? name + ".jsonl" : nil)
    }

    /// An image gives an annotated image of its kind; anything else an MP4.
    static func videoExtension(for input: BatchInput) -> String {
        guard MediaExtensions.isImage(input.source) else { return "mp4" }
        let ext = (input.source as NSString).pathExtension.lowercased()
        return ext == "jpg" || ext == "jpeg" ? "jpg" : "png"
    }

    /// `sub/a.mp4` -> `sub/a-2.mp4`; `sub/a` -> `sub/a-2`.
    static func numbered(_ name: String, _ n: Int) -> String {
        let dir = (name as NSString).deletingLastPathComponent
        let file = (name as NSString).lastPathComponent
        let ext = (file as NSString).pathExtension
        let stem = ext.isEmpty ? file : (file as NSString).deletingPathExtension
        let renamed = "\(stem)-\(n)" + (ext.isEmpty ? "" : ".\(ext)")
        return dir.isEmpty ? renamed : dir + "/" + renamed
    }

    static func collidesWithBatchFiles(_ name: String, input: BatchInput, kinds: BatchOutputKinds) -> Bool {
        outputs(forName: name, input: input, kinds: kinds).all.contains(where: isBatchFile)
    }

    /// The record files (`batch.jsonl`, `batch-shard-I-of-N.jsonl`) and the summary.
    public static func isBatchFile(_ relative: String) -> Bool {
        relative == recordFile || relative == summaryFile || RecordStore.isShardRecordFile(relative)
    }
}
