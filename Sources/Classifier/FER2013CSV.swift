import CoreTypes
import Foundation

/// One face of a Kaggle FER2013 CSV.
public struct FER2013Row: Sendable, Equatable {
    /// Line number in the file (the header is line 1).
    public var line: Int
    public var emotion: Emotion
    /// `Training`, `PublicTest` or `PrivateTest`.
    public var usage: String
    /// 48 x 48 gray values, row-major.
    public var pixels: [UInt8]
}

/// Streams a Kaggle-format FER2013 CSV (`emotion,pixels,Usage`, plain or gzipped), one row at a
/// time, so memory stays bounded whatever the file size. `.gz` (detected by its magic bytes, not
/// the name) is decompressed by a `gzip -dc` child process.
///
/// Malformed rows (wrong field count, wrong pixel count, non-numeric or out-of-range values,
/// unknown label or Usage) are reported with their line number: by default they are skipped and
/// passed to `warn` (the first `maxWarnings`, then one line with the count); with `strict` the
/// first one stops the read with `ClassifierError.badRow`.
public struct FER2013CSV: Sendable {
    public static let side = 48
    public static let pixelCount = side * side
    public static let usages = ["Training", "PublicTest", "PrivateTest"]

    public struct Options: Sendable {
        /// Keep only rows with one of these `Usage` values (nil: all).
        public var usage: Set<String>?
        public var strict: Bool
        public var maxWarnings: Int
        public init(usage: Set<String>? = nil, strict: Bool = false, maxWarnings: Int = 10) {
            self.usage = usage; self.strict = strict; self.maxWarnings = maxWarnings
        }
    }

    /// What a read saw.
    public struct Summary: Sendable, Equatable {
        /// Data lines read (blank lines excluded).
        public var rows = 0
        /// Rows handed to the caller.
        public var accepted = 0
        /// Rows left out by the `usage` filter (their pixels are not parsed, so not checked).
        public var filtered = 0
        /// Malformed rows skipped.
        public var malformed = 0
        public var countsByUsage: [String: Int] = [:]
        /// Rows with a known label by Usage value, the filtered ones included ("" = no Usage).
        public var usagesSeen: [String: Int] = [:]
    }

    public let path: String
    public let options: Options

    public init(path: String, options: Options = Options()) {
        self.path = path
        self.options = options
    }

    /// Whether the header names a Usage column (read from the first line only).
    public func hasUsageColumn() throws -> Bool {
        let reader = try LineReader(path: path)
        defer { reader.close() }
        guard let header = try reader.nextLine() else { return false }
        return Self.split(header).contains {
            String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespaces).lowercased() == "usage"
        }
    }

    /// Calls `body` for every accepted row, in file order. `warn` receives one line per reported
    /// malformed row (already prefixed with `path:line:`).
    @discardableResult
    public func forEachRow(warn: (String) -> Void = { _ in },
                           _ body: (FER2013Row) throws -> Void) throws -> Summary {
        let reader = try LineReader(path: path)
        defer { reader.close() }
        var summary = Summary()
        guard let header = try reader.nextLine() else {
            try reader.finish()
            throw ClassifierError.badCSV(path: path, reason: "empty file")
        }
        // A video or an image handed over by mistake: say so instead of echoing its bytes.
        if header.contains(where: { $0 == 0 || ($0 < 0x20 && $0 != 0x09 && $0 != 0x0D) || $0 == 0x7F })
            || String(bytes: header, encoding: .utf8) == nil {
            throw ClassifierError.badCSV(path: path, reason: "not a text CSV file (binary data on line 1); expected FER2013's CSV with the columns emotion and pixels")
        }
        let columns = Self.split(header).map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespaces).lowercased() }
        guard let ie = columns.firstIndex(of: "emotion"), let ip = columns.firstIndex(of: "pixels") else {
            throw ClassifierError.badCSV(path: path, reason: "line 1: header must name the columns emotion and pixels, got '\(String(decoding: header.prefix(80), as: UTF8.self))'")
        }
        let iu = columns.firstIndex(of: "usage")
        var warned = 0
        func bad(_ line: Int, _ reason: String) throws {
            if options.strict { throw ClassifierError.badRow(path: path, line: line, reason: reason) }
            summary.malformed += 1
            if warned < options.maxWarnings { warn("\(path):\(line): \(reason); row skipped") }
            warned += 1
        }
        var pixels = [UInt8](repeating: 0, count: Self.pixelCount)
        while let raw = try reader.nextLine() {
            let line = reader.lineNumber
            if raw.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            summary.rows += 1
            let fields = Self.split(raw)
            guard fields.count == columns.count else {
                try bad(line, "expected \(columns.count) fields, got \(fields.count)")
                continue
            }
            // Any Usage value is a split name (FER2013's three, or a file's own); no column: "".
            let usage = iu.map { String(decoding: Self.trim(fields[$0]), as: UTF8.self) } ?? ""
            guard let emotion = Self.label(Self.trim(fields[ie])) else {
                try bad(line, "unknown emotion label '\(String(decoding: Self.trim(fields[ie]).prefix(20), as: UTF8.self))' (expected 0-6)")
                continue
            }
            summary.usagesSeen[usage, default: 0] += 1
            if let u = options.usage, !u.contains(usage) {
                summary.filtered += 1
                continue
            }
            if let problem = Self.parsePixels(Self.trim(fields[ip]), into: &pixels) {
                try bad(line, problem)
                continue
            }
            summary.accepted += 1
            summary.countsByUsage[usage, default: 0] += 1
            try body(FER2013Row(line: line, emotion: emotion, usage: usage, pixels: pixels))
        }
        try reader.finish()
        if warned > options.maxWarnings {
            warn("\(path): \(warned - options.maxWarnings) more malformed rows skipped (\(warned) in all)")
        }
        return summary
    }

    /// Every accepted row at once (tests, small files).
    public func readAll(warn: (String) -> Void = { _ in }) throws -> (rows: [FER2013Row], summary: Summary) {
        var rows: [FER2013Row] = []
        let s = try forEachRow(warn: warn) { rows.append($0) }
        return (rows, s)
    }

    // MARK: parsing

    /// Comma-separated fields; a field in double quotes may hold commas (`""` is not unescaped:
    /// no FER field needs it).
    static func split(_ line: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        var start = line.startIndex
        var quoted = false
        var i = line.startIndex
        while i < line.endIndex {
            let c = line[i]
            if c == 0x22 { quoted.toggle() } else if c == 0x2C && !quoted {
                out.append(line[start..<i])
                start = i + 1
            }
            i += 1
        }
        out.append(line[start..<line.endIndex])
        return out
    }

    /// Without surrounding blanks and double quotes.
    static func trim(_ f: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var lo = f.startIndex, hi = f.endIndex
        while lo < hi, f[lo] == 0x20 || f[lo] == 0x09 || f[lo] == 0x22 { lo += 1 }
        while hi > lo, f[hi - 1] == 0x20 || f[hi - 1] == 0x09 || f[hi - 1] == 0x22 { hi -= 1 }
        return f[lo..<hi]
    }

    static func label(_ f: ArraySlice<UInt8>) -> Emotion? {
        guard f.count == 1, let c = f.first, c >= 0x30, c <= 0x39 else { return nil }
        return Emotion(rawValue: Int(c - 0x30))
    }

    /// Space-separated 0-255 values; returns the problem, or nil when exactly 2,304 were read.
    static func parsePixels(_ f: ArraySlice<UInt8>, into out: inout [UInt8]) -> String? {
        var count = 0, value = 0, inNumber = false
        var problem: String?
        out.withUnsafeMutableBufferPointer { dst in
            for c in f {
                if c >= 0x30 && c <= 0x39 {
                    value = value * 10 + Int(c - 0x30)
                    if value > 255 { problem = "pixel value \(count + 1) is outside 0-255"; return }
                    inNumber = true
                } else if c == 0x20 || c == 0x09 {
                    if inNumber {
                        if count < pixelCount { dst[count] = UInt8(value) }
                        count += 1
                        value = 0
                        inNumber = false
                    }
                } else {
                    problem = "non-numeric pixel value near value \(count + 1)"
                    return
                }
            }
            if inNumber {
                if count < pixelCount { dst[count] = UInt8(value) }
                count += 1
            }
        }
        if let problem { return problem }
        return count == pixelCount ? nil : "expected \(pixelCount) pixel values, got \(count)"
    }
}

/// Lines of a plain or gzipped file, read in chunks. Only the current chunk is held in memory.
final class LineReader {
    private let path: String
    private let handle: FileHandle
    private let gzip: Process?
    private let stderrPipe: Pipe?
    private var buffer: [UInt8] = []
    private var start = 0
    private var eof = false
    private(set) var lineNumber = 0

    init(path: String) throws {
        self.path = path
        guard let file = FileHandle(forReadingAtPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "permission denied or not a file" : "no such file"
            throw ClassifierError.unreadable(path: path, reason: reason)
        }
        let magic = (try? file.read(upToCount: 2)) ?? Data()
        if magic == Data([0x1F, 0x8B]) {
            try? file.close()
            guard let exe = ["/usr/bin/gzip", "/bin/gzip", "/usr/local/bin/gzip"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                throw ClassifierError.badCSV(path: path, reason: "gzipped, but no gzip program to decompress it")
            }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: exe)
            p.arguments = ["-dc", "--", path]
            let out = Pipe(), err = Pipe()
            p.standardOutput = out
            p.standardError = err
            p.standardInput = FileHandle.nullDevice
            do { try p.run() } catch {
                throw ClassifierError.badCSV(path: path, reason: "cannot start gzip: \(error.localizedDescription)")
            }
            gzip = p
            stderrPipe = err
            handle = out.fileHandleForReading
        } else {
            try? file.seek(toOffset: 0)
            gzip = nil
            stderrPipe = nil
            handle = file
        }
    }

    /// The next line without its `\n` / `\r\n`, or nil at the end.
    func nextLine() throws -> ArraySlice<UInt8>? {
        while true {
            if let nl = buffer[start...].firstIndex(of: 0x0A) {
                var end = nl
                if end > start, buffer[end - 1] == 0x0D { end -= 1 }
                let line = buffer[start..<end]
                start = nl + 1
                lineNumber += 1
                return line
            }
            if eof {
                guard start < buffer.count else { return nil }
                var end = buffer.count
                if buffer[end - 1] == 0x0D { end -= 1 }
                let line = buffer[start..<end]
                start = buffer.count
                lineNumber += 1
                return line
            }
            if start > 0 {
                buffer.removeSubrange(0..<start)
                start = 0
            }
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 1 << 20) } catch {
                throw ClassifierError.unreadable(path: path, reason: error.localizedDescription)
            }
            if let chunk, !chunk.isEmpty { buffer.append(contentsOf: chunk) } else { eof = true }
        }
    }

    /// After the last line: a failed decompression (corrupt or truncated .gz) is an error.
    func finish() throws {
        guard let gzip else { return }
        gzip.waitUntilExit()
        if gzip.terminationStatus != 0 {
            let msg = (try? stderrPipe?.fileHandleForReading.readToEnd()).flatMap { $0 }.map { String(decoding: $0, as: UTF8.self) } ?? ""
            let line = msg.split(separator: "\n").first.map(String.init) ?? "exit status \(gzip.terminationStatus)"
            throw ClassifierError.badCSV(path: path, reason: "gzip -dc failed: \(line)")
        }
    }

    /// Stops a decompressor still running (the caller stopped early) and closes the file.
    func close() {
        if let gzip, gzip.isRunning {
            gzip.terminate()
            gzip.waitUntilExit()
        }
        try? handle.close()
    }
}
