import CTurboJPEG
import Foundation

/// A JPEG photo decoded by libjpeg-turbo with its defaults (accurate integer DCT, fancy chroma
/// upsampling): the same pixels as Pillow, which is how facenet-pytorch's users load photos, so
/// boxes on a JPEG equal the reference's. FFmpeg's decoder and accurate converter differ from it
/// by 0.07-1.9 levels on average and up to about 9, enough to move a box's corners by several
/// pixels on a large photo. One frame, then the end.
public final class JPEGFileSource: FrameSource {
    public let info: SourceInfo
    private var frame: Frame?

    /// `path` decoded, or nil where FFmpeg should decode it instead: not a readable file that
    /// starts with a JPEG marker, or one libjpeg-turbo cannot give as RGB (CMYK, YCCK) or whose
    /// header it cannot read (FFmpeg then reports the damage in its own words). A file whose
    /// picture is damaged (truncated, say) is decoded as far as it goes, with one warning.
    public static func openIfJPEG(path: String, warningHandler: @escaping WarningHandler = Warnings.standardError) throws -> JPEGFileSource? {
        // The first bytes only: a video must not be read whole to learn it is not a JPEG.
        guard startsLikeJPEG(path), let bytes = FileManager.default.contents(atPath: path), bytes.count > 3 else { return nil }
        guard let decoder = Decompressor() else { return nil }
        return try bytes.withUnsafeBytes { raw -> JPEGFileSource? in
            guard let base = raw.bindMemory(to: UInt8.self).baseAddress else { return nil }
            guard let header = decoder.header(base, count: raw.count), header.width > 0, header.height > 0,
                  header.colourSpace != Int32(TJCS_CMYK.rawValue), header.colourSpace != Int32(TJCS_YCCK.rawValue) else { return nil }
            // FFmpeg's own limit on a picture (av_image_check_size): no allocation it would refuse.
            guard header.width * header.height <= Int(Int32.max) / 8 else {
                throw CaptureError.unsupportedPixelFormat(input: path, reason: "a \(header.width)x\(header.height) JPEG is too large to decode")
            }
            var failure: (message: String, warning: Bool)?
            let pixels = [UInt8](unsafeUninitializedCapacity: 3 * header.width * header.height) { out, count in
                count = out.count
                failure = decoder.decode(base, count: raw.count, into: out, width: header.width, height: header.height)
            }
            if let failure {
                guard failure.warning else { throw CaptureError.readFailed(input: path, reason: "libjpeg-turbo: \(failure.message)") }
                warningHandler("\(path): damaged JPEG, decoded as far as it goes (\(failure.message))")
            }
            return JPEGFileSource(path: path, header: header, pixels: pixels)
        }
    }

    /// Whether the file at `path` begins with a JPEG start-of-image marker and another marker.
    static func startsLikeJPEG(_ path: String) -> Bool {
        guard let file = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? file.close() }
        guard let head = try? file.read(upToCount: 3), head.count == 3 else { return false }
        return head.elementsEqual([0xFF, 0xD8, 0xFF])
    }

    private init(path: String, header: Decompressor.Header, pixels: [UInt8]) {
        info = SourceInfo(name: path, width: header.width, height: header.height, frameRateNumerator: 0,
                          frameRateDenominator: 1, timeBaseNumerator: 1, timeBaseDenominator: 1, frameCount: 1,
                          duration: nil, codec: "jpeg (libjpeg-turbo)", pixelFormat: header.sampling)
        frame = Frame(index: 0, time: 0, width: header.width, height: header.height, pixels: pixels)
    }

    public func nextFrame() throws -> Frame? {
        defer { frame = nil }
        return frame
    }

    public func close() { frame = nil }
}

/// A TurboJPEG decompression handle, destroyed with its owner.
private final class Decompressor {
    struct Header {
        var width: Int
        var height: Int
        var colourSpace: Int32
        var sampling: String
    }

    private let handle: tjhandle

    init?() {
        guard let h = tjInitDecompress() else { return nil }
        handle = h
    }

    deinit { tjDestroy(handle) }

    func header(_ bytes: UnsafePointer<UInt8>, count: Int) -> Header? {
        var w: Int32 = 0, h: Int32 = 0, subsampling: Int32 = 0, colourSpace: Int32 = 0
        guard tjDecompressHeader3(handle, bytes, UInt(count), &w, &h, &subsampling, &colourSpace) == 0 else { return nil }
        let names: [UInt32: String] = [TJSAMP_444.rawValue: "jpeg 4:4:4", TJSAMP_422.rawValue: "jpeg 4:2:2",
                                      TJSAMP_420.rawValue: "jpeg 4:2:0", TJSAMP_GRAY.rawValue: "jpeg gray",
                                      TJSAMP_440.rawValue: "jpeg 4:4:0", TJSAMP_411.rawValue: "jpeg 4:1:1"]
        return Header(width: Int(w), height: Int(h), colourSpace: colourSpace, sampling: names[UInt32(bitPattern: subsampling)] ?? "jpeg")
    }

    /// Packed RGB24 into `out` (3 * width * height bytes); nil when clean, else libjpeg-turbo's
    /// message and whether it was only a warning (the picture is there, damaged).
    func decode(_ bytes: UnsafePointer<UInt8>, count: Int, into out: UnsafeMutableBufferPointer<UInt8>,
                width: Int, height: Int) -> (message: String, warning: Bool)? {
        guard let dst = out.baseAddress else { return ("no output buffer", false) }
        // Flags 0: accurate DCT and fancy upsampling, libjpeg's and so Pillow's defaults.
        guard tjDecompress2(handle, bytes, UInt(count), dst, Int32(width), Int32(3 * width), Int32(height),
                            Int32(TJPF_RGB.rawValue), 0) != 0 else { return nil }
        let message = tjGetErrorStr2(handle).map { String(cString: $0) } ?? "unknown error"
        return (message, tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue))
    }
}
