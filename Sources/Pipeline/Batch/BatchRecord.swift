import Classifier
import CoreTypes
import Foundation

/// A file's size and modification time: what tells a rerun the input is the one it processed.
public struct FileStamp: Sendable, Equatable {
    public var size: Int64
    /// Seconds since 1970, with the file system's sub-second part.
    public var mtime: Double

    public init(size: Int64, mtime: Double) { self.size = size; self.mtime = mtime }

    /// nil for a URL or a file that cannot be read.
    public init?(path: String) {
        var st = stat()
        guard !path.contains("://"), stat(path, &st) == 0 else { return nil }
        size = Int64(st.st_size)
        mtime = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
    }

    /// Equal size, and times equal to within a microsecond (a JSON double holds about that much
    /// of a nanosecond clock).
    public func matches(_ other: FileStamp) -> Bool {
        size == other.size && abs(mtime - other.mtime) < 1e-6
    }
}

/// One line of a batch record file: what happened to one input in one run.
public struct BatchRecord: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        /// Every frame processed and every output in place.
        case ok
        /// Nothing usable: the input could not be read, or an output could not be written.
        case failed
        /// Stopped by Ctrl-C / SIGTERM: the outputs hold the frames done so far; a rerun redoes it.
        case stopped
    }

    public var input: String
    public var name: String
    public var size: Int64?
    public var mtime: Double?
    /// Paths relative to the output folder.
    public var outputs: BatchOutputs
    public var status: Status
    public var reason: String?
    public var frames: Int
    public var faces: Int
    public var framesWithFaces: Int
    /// Media time covered by the frames processed, in seconds.
    public var duration: Double
    /// Wall-clock seconds the input took.
    public var seconds: Double
    /// Faces by their top emotion, by name.
    public var emotions: [String: Int]
    /// When the run wrote this record (seconds since 1970); the latest record of an input wins.
    public var finished: Double
    public var shard: String?

    enum CodingKeys: String, CodingKey {
        case input, name, size, mtime, outputs, status, reason, frames, faces
        case framesWithFaces = "frames_with_faces", duration = "duration_s", seconds, emotions, finished, shard
    }

    public init(input: String, name: String, stamp: FileStamp?, outputs: BatchOutputs, status: Status,
                reason: String? = nil, frames: Int = 0, faces: Int = 0, framesWithFaces: Int = 0,
                duration: Double = 0, seconds: Double = 0, emotionCounts: [Int] = [],
                finished: Double = Date().timeIntervalSince1970, shard: String? = nil) {
        self.input = input
        self.name = name
        size = stamp?.size
        mtime = stamp?.mtime
        self.outputs = outputs
        self.status = status
        self.reason = reason
        self.frames = frames
        self.faces = faces
        self.framesWithFaces = framesWithFaces
        // Microseconds are plenty, and keep the lines readable (no 0.39999999999999997).
        self.duration = (duration * 1e6).rounded() / 1e6
        self.seconds = (seconds * 1e6).rounded() / 1e6
        emotions = Dictionary(uniqueKeysWithValues: Emotion.allCases.map { e in
            (e.name, e.rawValue < emotionCounts.count ? emotionCounts[e.rawValue] : 0)
        })
        self.finished = finished
        self.shard = shard
    }

    public var stamp: FileStamp? {
        guard let size, let mtime else { return nil }
        return FileStamp(size: size, mtime: mtime)
    }

    public func count(_ emotion: Emotion) -> Int { emotions[emotion.name] ?? 0 }
}

/// The record files in an output folder: `batch.jsonl` for a run over all inputs and
/// `batch-shard-I-of-N.jsonl` for each shard, so shards on different machines never write one
/// file. Each record is appended as one line with one write(2) to a file opened O_APPEND, so an
/// interrupted run leaves at most a torn last line, which reading skips.
public struct RecordStore {
    public var folder: String

    public init(folder: String) { self.folder = folder }

    public static func isShardRecordFile(_ name: String) -> Bool {
        guard name.hasPrefix("batch-shard-"), name.hasSuffix(".jsonl") else { return false }
        let middle = name.dropFirst("batch-shard-".count).dropLast(".jsonl".count)
        let parts = middle.components(separatedBy: "-of-")
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && Int($0) != nil }
    }

    /// The record files present, sorted by name.
    public func files() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0 == BatchLayout.recordFile || Self.isShardRecordFile($0) }.sorted()
    }

    /// Every record in every record file; lines that do not decode (a torn last line) are
    /// counted in `skippedLines` and otherwise left out.
    public func readAll() -> (records: [BatchRecord], skippedLines: Int) {
        var records: [BatchRecord] = []
        var skipped = 0
        let decoder = JSONDecoder()
        for file in files() {
            guard let data = FileManager.default.contents(atPath: (folder as NSString).appendingPathComponent(file)) else { continue }
            for line in data.split(separator: 0x0A) where !line.isEmpty {
                if let record = try? decoder.decode(BatchRecord.self, from: Data(line)) {
                    records.append(record)
                } else {
                    skipped += 1
                }
            }
        }
        return (records, skipped)
    }

    /// The latest record of each input: the highest `finished`, and of equal times the one read last.
    public static func latest(_ records: [BatchRecord]) -> [String: BatchRecord] {
        var latest: [String: BatchRecord] = [:]
        for record in records {
            if let known = latest[record.input], known.finished > record.finished { continue }
            latest[record.input] = record
        }
        return latest
    }

    /// Appends one record to `file` (created if missing).
    public func append(_ record: BatchRecord, to file: String) throws {
        let path = (folder as NSString).appendingPathComponent(file)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = try encoder.encode(record)
        line.append(0x0A)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BatchError.cannotWriteRecord(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count else {
            throw BatchError.cannotWriteRecord(path: path, reason: written < 0 ? String(cString: strerror(errno)) : "short write")
        }
        // The record is what a rerun trusts to skip the input: on disk before the next one starts.
        guard fsync(fd) == 0 else { throw BatchError.cannotWriteRecord(path: path, reason: String(cString: strerror(errno))) }
    }
}
