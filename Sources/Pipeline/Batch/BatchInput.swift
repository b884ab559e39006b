import Foundation

/// One thing to process: a file or a URL, and the relative name its outputs take under the
/// output folder.
public struct BatchInput: Sendable, Equatable, Hashable {
    /// What is opened: an absolute, standardized file path, or a URL as given. Also the key
    /// the records use, so a rerun from another working folder still recognises the input.
    public var source: String
    /// The input's path relative to what was given (its folder, or the path as typed), which the
    /// outputs mirror: `sub/a.mp4` gives `sub/a.mp4.csv`.
    public var name: String

    public init(source: String, name: String) {
        self.source = source
        self.name = name
    }

    public var isURL: Bool { source.contains("://") }
}

/// Which files a folder search takes: video and image files, by extension (case ignored).
public enum MediaExtensions {
    public static let video: Set<String> = [
        "mp4", "m4v", "mov", "mkv", "avi", "webm", "mpg", "mpeg", "ts", "mts", "m2ts",
        "flv", "wmv", "3gp", "ogv", "mxf", "dv",
    ]
    public static let image: Set<String> = ["jpg", "jpeg", "png", "bmp", "tif", "tiff", "webp"]

    public static func isMedia(_ path: String) -> Bool {
        let ext = (path as NSString).pathExtension.lowercased()
        return video.contains(ext) || image.contains(ext)
    }

    public static func isImage(_ path: String) -> Bool {
        image.contains((path as NSString).pathExtension.lowercased())
    }
}

/// Turns the command line's INPUT arguments and `--list` files into the sorted list of inputs.
///
/// Files are taken as given (whatever their extension); folders are searched recursively for
/// media files, skipping hidden files and folders (an output's temporary `.NAME.PID.part.EXT`
/// among them) and the output folder itself, so a batch never reads its own results. A path
/// that does not exist is kept: it is then recorded as a failed input rather than silently lost.
public struct InputDiscovery {
    public var workingDirectory: String
    /// Folders never searched (the output folder), as absolute paths.
    public var excluded: [String]

    public init(workingDirectory: String = FileManager.default.currentDirectoryPath, excluded: [String] = []) {
        self.workingDirectory = workingDirectory
        self.excluded = excluded.map { Self.absolute($0, from: workingDirectory) }
    }

    /// Every input once, sorted by source (byte order, so every machine agrees).
    public func inputs(arguments: [String], lists: [String] = []) throws -> [BatchInput] {
        var found: [BatchInput] = []
        for argument in arguments { found += expand(argument) }
        for list in lists {
            for line in try Self.readList(list, from: workingDirectory) { found += expand(line) }
        }
        var seen = Set<String>()
        return found
            .filter { seen.insert($0.source).inserted }
            .sorted { $0.source.utf8.lexicographicallyPrecedes($1.source.utf8) }
    }

    /// One path or URL a line; blank lines and lines starting with `#` are left out.
    static func readList(_ path: String, from cwd: String) throws -> [String] {
        let text: String
        do {
            text = try String(contentsOfFile: absolute(path, from: cwd), encoding: .utf8)
        } catch {
            throw BatchError.unreadableList(path: path, reason: (error as NSError).localizedDescription)
        }
        return text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    func expand(_ argument: String) -> [BatchInput] {
        if argument.contains("://") { return [BatchInput(source: argument, name: Self.name(forURL: argument))] }
        let path = Self.absolute(argument, from: workingDirectory)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            return [BatchInput(source: path, name: Self.name(forFile: argument))]
        }
        return search(folder: path)
    }

    private func search(folder: String) -> [BatchInput] {
        if isExcluded(folder) { return [] }
        let root = URL(fileURLWithPath: folder)
        guard let walker = FileManager.default.enumerator(
            at: root, includingPropertiesForKeys: [.isRegularFileKey, .isDirectoryKey],
            options: [.skipsHiddenFiles]) else { return [] }
        var found: [BatchInput] = []
        for case let url as URL in walker {
            let path = url.standardizedFileURL.path
            let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .isDirectoryKey])
            if values?.isDirectory == true {
                if isExcluded(path) { walker.skipDescendants() }
                continue
            }
            guard MediaExtensions.isMedia(path) else { continue }
            // A symbolic link to a file counts as that file (resourceValues follows it).
            guard values?.isRegularFile == true || FileManager.default.isReadableFile(atPath: path) else { continue }
            found.append(BatchInput(source: path, name: Self.relative(path, under: root.standardizedFileURL.path)))
        }
        return found
    }

    private func isExcluded(_ path: String) -> Bool {
        excluded.contains { path == $0 || path.hasPrefix($0 + "/") }
    }

    static func absolute(_ path: String, from cwd: String) -> String {
        let full = path.hasPrefix("/") ? path : (cwd as NSString).appendingPathComponent(path)
        return URL(fileURLWithPath: full).standardizedFileURL.path
    }

    static func relative(_ path: String, under root: String) -> String {
        let prefix = root.hasSuffix("/") ? root : root + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : (path as NSString).lastPathComponent
    }

    /// A file named on the command line keeps its relative path (`clips/a.mp4`); an absolute
    /// path or one climbing with `..` keeps only its file name.
    static func name(forFile argument: String) -> String {
        let parts = argument.split(separator: "/").map(String.init).filter { $0 != "." && !$0.isEmpty }
        if argument.hasPrefix("/") || parts.contains("..") || parts.isEmpty {
            return clean((argument as NSString).lastPathComponent)
        }
        return parts.joined(separator: "/")
    }

    /// `https://host/path/clip.mp4?x=1` -> `host/path/clip.mp4`.
    static func name(forURL url: String) -> String {
        guard let parsed = URL(string: url) else { return clean(url) }
        let parts = ([parsed.host ?? ""] + parsed.path.split(separator: "/").map(String.init))
            .filter { !$0.isEmpty && $0 != "." && $0 != ".." }
        return parts.isEmpty ? "input" : parts.map(clean).joined(separator: "/")
    }

    private static func clean(_ part: String) -> String {
        let kept = part.map { $0 == "/" || $0 == ":" ? "_" : $0 }
        let text = String(kept)
        return text.isEmpty || text == "." || text == ".." ? "input" : text
    }
}
