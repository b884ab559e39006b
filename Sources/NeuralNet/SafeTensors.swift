import Foundation

/// A safetensors file (https://huggingface.co/docs/safetensors): 8-byte little-endian header
/// length, a JSON header `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`,
/// then the raw little-endian data. Everything read is checked before it is used; only F32
/// tensors are loaded.
public struct SafeTensorsFile: Sendable {
    public struct Entry: Sendable, Equatable {
        public var dtype: String
        public var shape: [Int]
        /// Byte range inside the data section.
        public var begin: Int
        public var end: Int
    }

    public let path: String
    public let metadata: [String: String]
    public let entries: [String: Entry]
    private let data: Data
    private let dataStart: Int

    public var names: [String] { entries.keys.sorted() }

    private static let dtypeSizes: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
        "U16": 2, "U32": 4, "U64": 8, "F8_E4M3": 1, "F8_E5M2": 1,
    ]

    /// Reads and validates the header of the file at `path`.
    public init(path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw NeuralNetError.unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        try self.init(data: data, path: path)
    }

    /// Parses bytes already in memory; `path` names them in errors.
    public init(data: Data, path: String) throws {
        self.path = path
        self.data = data
        guard data.count >= 8 else {
            throw NeuralNetError.truncated(path: path, reason: "\(data.count) bytes, no header length")
        }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(data[data.startIndex + i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw NeuralNetError.truncated(path: path, reason: "header of \(headerLength) bytes, file has \(data.count - 8) after the length")
        }
        let hl = Int(headerLength)
        dataStart = 8 + hl
        let headerBytes = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + 8 + hl))
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerBytes)
        } catch {
            throw NeuralNetError.badHeader(path: path, reason: "not JSON")
        }
        guard let object = json as? [String: Any] else {
            throw NeuralNetError.badHeader(path: path, reason: "not a JSON object")
        }
        let dataSize = data.count - dataStart
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw NeuralNetError.badHeader(path: path, reason: "__metadata__ is not an object")
                }
                for (k, v) in m {
                    guard let s = v as? String else {
                        throw NeuralNetError.badHeader(path: path, reason: "__metadata__ value '\(k)' is not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            guard let d = value as? [String: Any], let dtype = d["dtype"] as? String,
                  let shapeAny = d["shape"] as? [Any], let offsAny = d["data_offsets"] as? [Any] else {
                throw NeuralNetError.badHeader(path: path, reason: "tensor '\(name)' lacks dtype, shape or data_offsets")
            }
            let shape = try shapeAny.map { v -> Int in
                guard let n = Self.integer(v), n >= 0 else {
                    throw NeuralNetError.badHeader(path: path, reason: "tensor '\(name)' has a bad shape")
                }
                return n
            }
            let offs = try offsAny.map { v -> Int in
                guard let n = Self.integer(v), n >= 0 else {
                    throw NeuralNetError.badOffsets(path: path, name: name, reason: "data_offsets are not non-negative integers")
                }
                return n
            }
            guard offs.count == 2, offs[0] <= offs[1] else {
                throw NeuralNetError.badOffsets(path: path, name: name, reason: "data_offsets \(offs) are not [begin, end]")
            }
            guard offs[1] <= dataSize else {
                throw NeuralNetError.badOffsets(path: path, name: name,
                                                reason: "data_offsets \(offs) beyond the \(dataSize)-byte data section")
            }
            guard let size = Self.dtypeSizes[dtype] else {
                throw NeuralNetError.badHeader(path: path, reason: "tensor '\(name)' has unknown dtype \(dtype)")
            }
            var elements = 1
            for s in shape {
                let (p, overflow) = elements.multipliedReportingOverflow(by: s)
                guard !overflow else { throw NeuralNetError.badHeader(path: path, reason: "tensor '\(name)' is too large") }
                elements = p
            }
            guard elements.multipliedReportingOverflow(by: size) == (offs[1] - offs[0], false) else {
                throw NeuralNetError.badOffsets(path: path, name: name,
                                                reason: "\(offs[1] - offs[0]) bytes do not hold \(dtype) \(shape)")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, begin: offs[0], end: offs[1])
        }
        self.entries = entries
        self.metadata = metadata
    }

    private static func integer(_ v: Any) -> Int? {
        guard let n = v as? NSNumber else { return nil }
        // Fractions are numbers to JSONSerialization too; they are not valid sizes.
        let d = n.doubleValue
        guard d == d.rounded(), d >= 0, d < 9e15 else { return nil }
        return n.intValue
    }

    /// The F32 tensor `name`; when `shape` is given the stored shape must equal it.
    public func tensor(_ name: String, shape expected: [Int]? = nil) throws -> Tensor {
        guard let e = entries[name] else { throw NeuralNetError.missingTensor(path: path, name: name) }
        guard e.dtype == "F32" else { throw NeuralNetError.wrongDType(path: path, name: name, dtype: e.dtype) }
        if let expected, expected != e.shape {
            throw NeuralNetError.wrongShape(path: path, name: name, expected: expected, found: e.shape)
        }
        let count = (e.end - e.begin) / 4
        var values = [Float](repeating: 0, count: count)
        let start = data.startIndex + dataStart + e.begin
        _ = values.withUnsafeMutableBytes { dst in
            data.copyBytes(to: dst, from: start..<(start + count * 4))
        }
        #if _endian(big)
        for i in 0..<count { values[i] = Float(bitPattern: UInt32(littleEndian: values[i].bitPattern)) }
        #endif
        return Tensor(unchecked: e.shape, values)
    }

    /// Encodes F32 tensors as a safetensors file (names sorted, data in that order).
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            guard let t = tensors[name] else { continue }
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + t.count * 4]] as [String: Any]
            offset += t.count * 4
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
        while (json.count % 8) != 0 { json.append(0x20) }
        var out = Data()
        var len = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &len) { out.append(contentsOf: $0) }
        out.append(json)
        for name in names {
            guard let t = tensors[name] else { continue }
            for v in t.storage {
                var bits = v.bitPattern.littleEndian
                withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) }
            }
        }
        return out
    }

    /// Writes `encode(tensors)` to `path`.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to path: String) throws {
        let data = try encode(tensors, metadata: metadata)
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw NeuralNetError.unwritable(path: path, reason: (error as NSError).localizedDescription)
        }
    }
}
