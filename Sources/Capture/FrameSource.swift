/// Anything that hands out frames one after another: a file or stream, a camera.
public protocol FrameSource: AnyObject {
    /// What the source says about itself before the first frame.
    var info: SourceInfo { get }
    /// The next frame, or nil at the end of the input. Throws on an error that ends the input.
    func nextFrame() throws -> Frame?
    /// Stops capture and releases the device or file. Safe to call twice.
    func close()
    /// Why the input ended before its end, when the frames read so far are worth keeping (a live
    /// stream that stalled past its timeout): `nextFrame()` then returned nil, and the job keeps
    /// its outputs but ends with this error. Nil at a real end.
    var failure: Error? { get }
}

extension FrameSource {
    public var failure: Error? { nil }
}

/// Properties a source reports: `fer-live probe` prints these.
public struct SourceInfo: Sendable, Equatable {
    public var name: String
    public var width: Int
    public var height: Int
    /// Frames per second as a rational (for example 30000/1001); 0/1 when unknown.
    public var frameRateNumerator: Int
    public var frameRateDenominator: Int
    /// Stream time base as a rational (seconds per timestamp tick).
    public var timeBaseNumerator: Int
    public var timeBaseDenominator: Int
    /// Total frames when the container says so.
    public var frameCount: Int?
    public var duration: Double?
    public var codec: String
    public var pixelFormat: String

    public init(name: String, width: Int, height: Int,
                frameRateNumerator: Int, frameRateDenominator: Int,
                timeBaseNumerator: Int, timeBaseDenominator: Int,
                frameCount: Int?, duration: Double?, codec: String, pixelFormat: String) {
        self.name = name
        self.width = width
        self.height = height
        self.frameRateNumerator = frameRateNumerator
        self.frameRateDenominator = frameRateDenominator
        self.timeBaseNumerator = timeBaseNumerator
        self.timeBaseDenominator = timeBaseDenominator
        self.frameCount = frameCount
        self.duration = duration
        self.codec = codec
        self.pixelFormat = pixelFormat
    }

    public var frameRate: Double {
        frameRateDenominator == 0 ? 0 : Double(frameRateNumerator) / Double(frameRateDenominator)
    }
}
