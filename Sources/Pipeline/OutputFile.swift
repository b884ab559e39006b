import Foundation

/// An output path and where its bytes go while a run writes it.
///
/// A regular file (new or existing) is written under a hidden temporary name in its own folder
/// and renamed onto the path by `commit()`, so a failed run never replaces an earlier result and
/// a reader never sees half a file. Standard output ("-") and paths that exist but are not
/// regular files (a FIFO, /dev/stdout, a terminal) are written in place.
public struct OutputFile: Sendable, Equatable {
    /// The path as the user gave it.
    public let path: String
    /// Where the run writes: a temporary name beside `path`, or `path` itself.
    public let writePath: String

    public var isStaged: Bool { writePath != path }

    public init(_ path: String) {
        self.path = path
        writePath = OutputFile.isInPlace(path) ? path : OutputFile.temporaryName(for: path)
    }

    /// Moves the finished file into place (atomic within the folder).
    public func commit() throws {
        guard isStaged else { return }
        guard rename(writePath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            discard()
            throw PipelineError.writeFailed(path: path, reason: reason)
        }
    }

    /// Removes what a failed run wrote; the file at `path` (if any) stays as it was.
    public func discard() {
        if isStaged { unlink(writePath) }
    }

    static func isInPlace(_ path: String) -> Bool {
        if path == "-" { return true }
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        return (st.st_mode & S_IFMT) != S_IFREG
    }

    /// `dir/.NAME.PID.part.EXT`: hidden, unique per process, and keeping the extension, which
    /// FFmpeg reads to choose the container.
    static func temporaryName(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension
        let stem = ext.isEmpty ? url.lastPathComponent : url.deletingPathExtension().lastPathComponent
        let name = ".\(stem).\(getpid()).part" + (ext.isEmpty ? "" : ".\(ext)")
        let dir = (path as NSString).deletingLastPathComponent
        return dir.isEmpty ? name : (dir as NSString).appendingPathComponent(name)
    }
}

/// The checks every job makes on its output paths before any work: no output is an input, no
/// two outputs are one file, an existing file is replaced only when asked, and every folder
/// exists. Paths are compared resolved (symbolic links, `..`), and by device and inode where the
/// file exists, so `./a.mp4`, `a.mp4` and a hard link to it are one file.
public enum OutputCheck {
    public struct Named: Sendable {
        public var option: String
        public var path: String
        public init(option: String, path: String) { self.option = option; self.path = path }
    }

    public static func validate(outputs: [Named], inputs: [String], overwrite: Bool) throws {
        let files = outputs.filter { !OutputFile.isInPlace($0.path) }
        let inputIDs = inputs.map { (path: $0, id: identity(of: $0)) }
        var seen: [(Named, FileIdentity)] = []
        for out in files {
            let id = identity(of: out.path)
            if let input = inputIDs.first(where: { $0.id == id }) {
                throw PipelineError.outputIsInput(output: out.path, option: out.option, input: input.path)
            }
            if let earlier = seen.first(where: { $0.1 == id }) {
                throw PipelineError.sameOutputTwice(path: out.path, first: earlier.0.option, second: out.option)
            }
            seen.append((out, id))
            let dir = (out.path as NSString).deletingLastPathComponent
            var isDir: ObjCBool = false
            if !dir.isEmpty, !FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) || !isDir.boolValue {
                throw PipelineError.cannotCreateOutput(path: out.path, reason: "no folder \(dir)")
            }
            if FileManager.default.fileExists(atPath: out.path, isDirectory: &isDir) {
                if isDir.boolValue { throw PipelineError.cannotCreateOutput(path: out.path, reason: "is a folder") }
                if !overwrite { throw PipelineError.outputExists(path: out.path) }
            }
        }
    }

    /// Device and inode for an existing file, else the resolved absolute path.
    enum FileIdentity: Equatable {
        case inode(dev: UInt64, ino: UInt64)
        case path(String)
    }

    static func identity(of path: String) -> FileIdentity {
        var st = stat()
        if stat(path, &st) == 0 { return .inode(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino)) }
        let abs = URL(fileURLWithPath: path).standardizedFileURL
        let dir = abs.deletingLastPathComponent().resolvingSymlinksInPath()
        return .path(dir.appendingPathComponent(abs.lastPathComponent).path)
    }
}
