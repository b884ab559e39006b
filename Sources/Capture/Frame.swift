/// One decoded picture: 8-bit RGB, rows `stride` bytes apart (stride >= 3 * width).
public struct Frame: Sendable {
    /// Position in the source, from 0.
    public var index: Int
    /// Presentation time in seconds, from the stream's timestamps.
    public var time: Double
    public var width: Int
    public var height: Int
    public var stride: Int
    /// RGB24 pixels, `stride * height` bytes.
    public var pixels: [UInt8]

    public init(index: Int, time: Double, width: Int, height: Int, stride: Int? = nil, pixels: [UInt8]) {
        self.index = index
        self.time = time
        self.width = width
        self.height = height
        self.stride = stride ?? width * 3
        self.pixels = pixels
    }

    /// A black frame of the given size.
    public init(index: Int = 0, time: Double = 0, width: Int, height: Int) {
        self.init(index: index, time: time, width: width, height: height,
                  pixels: [UInt8](repeating: 0, count: width * height * 3))
    }
}
