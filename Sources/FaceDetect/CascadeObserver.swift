/// The named points of the cascade where an observer may take measurements: `fer-live bench
/// detect --profile` passes one (`DetectionProfile`, in the Benchmarks module) to
/// `MTCNN.detect(in:observer:)`. The detector reads no clock itself; without an observer each
/// point is just the call of its body.
///
/// Steps on one thread: P-Net tiles run in parallel, each tile's steps on the thread that runs it,
/// so an observer may be called from several threads at once and must be thread-safe.
public protocol CascadeObserver: AnyObject, Sendable {
    /// Runs one step of the cascade (`level`: the pyramid level, for the P-Net steps).
    func measure<T>(_ step: CascadeStep, level: Int?, _ body: () throws -> T) rethrows -> T
    /// Runs one whole stage, on the calling thread.
    func measure<T>(_ stage: CascadeStage, _ body: () throws -> T) rethrows -> T
    /// How many candidates there were at a point of the cascade (`level` as above).
    func count(_ point: CascadeCount, _ n: Int, level: Int?)
    /// One frame is done; `levels` are its pyramid sizes (width, height).
    func frameFinished(levels: [(width: Int, height: Int)])
}

/// The steps, in the order a frame meets them (Zhang et al. 2016; facenet-pytorch's `detect_face`).
public enum CascadeStep: Int, CaseIterable, Sendable {
    case pyramid, pnet, pnetBoxes, pnetNMS
    case rnetCrops, rnet, rnetNMS
    case onetCrops, onet, onetNMS

    public var label: String {
        switch self {
        case .pyramid: "pyramid resampling"
        case .pnet: "P-Net (all scales)"
        case .pnetBoxes: "P-Net threshold + boxes"
        case .pnetNMS: "P-Net NMS + regression"
        case .rnetCrops: "R-Net crops"
        case .rnet: "R-Net net"
        case .rnetNMS: "R-Net NMS + regression"
        case .onetCrops: "O-Net crops"
        case .onet: "O-Net net"
        case .onetNMS: "O-Net NMS + landmarks"
        }
    }
}

/// The three stages, named as in the paper: the proposal network (P-Net over the pyramid, its
/// resampling included), the refine network (R-Net) and the output network (O-Net).
public enum CascadeStage: Int, CaseIterable, Sendable {
    case proposal, refinement, output
}

/// Where candidates are counted.
public enum CascadeCount: Int, CaseIterable, Sendable {
    /// P-Net output cells of a level (the map's size), whatever their score.
    case pnetMapCells
    /// P-Net cells at or above threshold, per level before NMS.
    case pnetPassed
    case afterScaleNMS, rnetInput, rnetPassed, onetInput, onetPassed, faces

    public var label: String {
        switch self {
        case .pnetMapCells: "P-Net cells"
        case .pnetPassed: "P-Net cells >= t"
        case .afterScaleNMS: "after per-scale NMS"
        case .rnetInput: "R-Net input"
        case .rnetPassed: "R-Net > t"
        case .onetInput: "O-Net input"
        case .onetPassed: "O-Net > t"
        case .faces: "faces"
        }
    }
}

extension Optional where Wrapped == any CascadeObserver {
    /// The body, measured when there is an observer.
    @inline(__always)
    func measure<T>(_ step: CascadeStep, level: Int? = nil, _ body: () throws -> T) rethrows -> T {
        guard let observer = self else { return try body() }
        return try observer.measure(step, level: level, body)
    }

    @inline(__always)
    func measure<T>(_ stage: CascadeStage, _ body: () throws -> T) rethrows -> T {
        guard let observer = self else { return try body() }
        return try observer.measure(stage, body)
    }

    @inline(__always)
    func count(_ point: CascadeCount, _ n: Int, level: Int? = nil) {
        self?.count(point, n, level: level)
    }
}
