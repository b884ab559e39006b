import Foundation

/// A line-oriented text destination: a file or standard output ("-"). A file is written under
/// a temporary name (`OutputFile`) and moved into place by `close()`; `discard()` removes it.
/// Opening happens at init, so an unwritable path fails before any work is done.
public final class TextOutput: @unchecked Sendable {
    public let path: String
    private let file: OutputFile
    private let handle: FileHandle
    private let ownsHandle: Bool
    private var buffer = Data()
    private var closed = false

    public init(path: String) throws {
        self.path = path
        file = OutputFile(path)
        if path == "-" {
            handle = FileHandle.standardOutput
            ownsHandle = false
        } else {
            // open(2) rather than FileManager.createFile: the latter replaces the path atomically,
            // which would swap a device such as /dev/stdout for a regular file.
            let fd = open(file.writePath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw PipelineError.cannotCreateOutput(path: path, reason: String(cString: strerror(errno)))
            }
            let h = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            handle = h
            ownsHandle = true
        }
    }

    /// Queues a line; call `flush()` to hand it to the system.
    public func append(_ line: String) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(0x0A)
    }

    /// Writes what is queued. A full disk or closed pipe surfaces here as an error naming the path.
    public func flush() throws {
        guard !buffer.isEmpty, !closed else { return }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            buffer.removeAll()
            throw PipelineError.writeFailed(path: path == "-" ? "standard output" : path,
                                            reason: Self.reason(error))
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, syncs and moves the file into place; on failure the temporary file is removed.
    public func close() throws {
        guard !closed else { return }
        do {
            try flush()
            if ownsHandle {
                do { try handle.synchronize() } catch {
                    throw PipelineError.writeFailed(path: path, reason: Self.reason(error))
                }
            }
        } catch {
            discard()
            throw error
        }
        closed = true
        if ownsHandle { try? handle.close() }
        try file.commit()
    }

    /// Closes without moving anything into place: what was at the path before stays.
    public func discard() {
        guard !closed else { return }
        closed = true
        if ownsHandle { try? handle.close() }
        file.discard()
    }

    private static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        return ns.localizedDescription
    }
}
