import Foundation
import FuzzHarnesses

/// libFuzzer's entry point (built only by `make fuzz`, with -sanitize=fuzzer,address).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    FuzzHarnesses.safeTensors(Data(bytes: data, count: size))
    return 0
}
