import CFreeType
import Foundation

/// One rasterised glyph: an 8-bit coverage map and where it sits relative to the pen.
struct Glyph: Sendable {
    let width: Int
    let height: Int
    /// Pixels from the pen position to the bitmap's left edge.
    let left: Int
    /// Pixels from the baseline up to the bitmap's top row.
    let top: Int
    /// Pixels the pen moves on.
    let advance: Int
    /// `width * height` coverage values, row after row (0 transparent, 255 opaque).
    let coverage: [UInt8]
}

/// Owner of a FreeType library and one face (a TrueType font file), with a cache of glyphs per
/// pixel size. FreeType's face is not thread-safe, so rasterising is done under a lock; glyphs,
/// once made, are immutable values every thread reads. A label's characters are rasterised
/// once per size for the life of the process.
final class FreeTypeFont: @unchecked Sendable {
    struct Metrics: Sendable {
        /// Pixels above the baseline, and below it (positive), for a line of text.
        let ascent: Int
        let descent: Int
        var lineHeight: Int { ascent + descent }
    }

    let path: String
    private var library: FT_Library?
    private var face: FT_Face?
    private let lock = NSLock()
    private var glyphs: [GlyphKey: Glyph] = [:]
    private var metrics: [Int: Metrics] = [:]

    private struct GlyphKey: Hashable {
        let scalar: UInt32
        let size: Int
    }

    /// Opens the font at `path`; nil when FreeType cannot read it.
    init?(path: String) {
        self.path = path
        guard FT_Init_FreeType(&library) == 0, let library else { return nil }
        guard FT_New_Face(library, path, 0, &face) == 0, face != nil else {
            FT_Done_FreeType(library)
            self.library = nil
            return nil
        }
    }

    deinit {
        if let face { FT_Done_Face(face) }
        if let library { FT_Done_FreeType(library) }
    }

    /// Line metrics at `size` pixels (the em size).
    func metrics(size: Int) -> Metrics {
        lock.lock(); defer { lock.unlock() }
        if let known = metrics[size] { return known }
        var result = Metrics(ascent: size * 4 / 5, descent: size / 5)
        if let face, FT_Set_Pixel_Sizes(face, 0, FT_UInt(size)) == 0, let scaled = face.pointee.size {
            let m = scaled.pointee.metrics
            result = Metrics(ascent: Int((m.ascender + 63) >> 6), descent: Int((-m.descender + 63) >> 6))
        }
        metrics[size] = result
        return result
    }

    /// The glyph of `scalar` at `size` pixels; a blank advance when the font lacks it.
    func glyph(_ scalar: Unicode.Scalar, size: Int) -> Glyph {
        let key = GlyphKey(scalar: scalar.value, size: size)
        lock.lock(); defer { lock.unlock() }
        if let known = glyphs[key] { return known }
        let made = rasterise(scalar, size: size) ?? Glyph(width: 0, height: 0, left: 0, top: 0, advance: size / 2, coverage: [])
        glyphs[key] = made
        return made
    }

    /// Call with the lock held.
    private func rasterise(_ scalar: Unicode.Scalar, size: Int) -> Glyph? {
        guard let face, FT_Set_Pixel_Sizes(face, 0, FT_UInt(size)) == 0 else { return nil }
        let index = FT_Get_Char_Index(face, FT_ULong(scalar.value))
        // Light hinting: crisp horizontal stems at small sizes without distorting the shapes.
        guard FT_Load_Glyph(face, index, FT_Int32(FER_FT_LOAD_RENDER | FER_FT_LOAD_TARGET_LIGHT)) == 0,
              let slot = face.pointee.glyph else { return nil }
        let bitmap = slot.pointee.bitmap
        let width = Int(bitmap.width), height = Int(bitmap.rows), pitch = Int(bitmap.pitch)
        var coverage = [UInt8](repeating: 0, count: width * height)
        if width > 0, height > 0, let buffer = bitmap.buffer, pitch >= width {
            for y in 0..<height {
                for x in 0..<width { coverage[y * width + x] = buffer[y * pitch + x] }
            }
        }
        return Glyph(width: width, height: height, left: Int(slot.pointee.bitmap_left), top: Int(slot.pointee.bitmap_top),
                     advance: Int((slot.pointee.advance.x + 32) >> 6), coverage: coverage)
    }

    /// The file of the best match for `pattern` (fontconfig syntax, e.g. "DejaVu Sans:bold")
    /// among the system's fonts; nil without fontconfig or fonts.
    static func locate(_ pattern: String) -> String? {
        guard let config = FcInitLoadConfigAndFonts() else { return nil }
        defer { FcConfigDestroy(config) }
        guard let query = pattern.withCString({ FcNameParse(UnsafeRawPointer($0).assumingMemoryBound(to: FcChar8.self)) }) else {
            return nil
        }
        defer { FcPatternDestroy(query) }
        FcConfigSubstitute(config, query, FcMatchPattern)
        FcDefaultSubstitute(query)
        var result = FcResultNoMatch
        guard let match = FcFontMatch(config, query, &result), result == FcResultMatch else { return nil }
        defer { FcPatternDestroy(match) }
        var file: UnsafeMutablePointer<FcChar8>?
        guard FcPatternGetString(match, "file", 0, &file) == FcResultMatch, let file else { return nil }
        let path = String(cString: UnsafeRawPointer(file).assumingMemoryBound(to: CChar.self))
        // fontconfig answers with its nearest font even for a family it lacks; only a scalable
        // font file that exists will do.
        let lower = path.lowercased()
        guard FileManager.default.fileExists(atPath: path),
              lower.hasSuffix(".ttf") || lower.hasSuffix(".otf") || lower.hasSuffix(".ttc") else { return nil }
        return path
    }
}
