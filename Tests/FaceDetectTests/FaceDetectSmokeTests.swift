import XCTest
@testable import FaceDetect

final class FaceDetectSmokeTests: XCTestCase {
    func testModuleLinks() throws {
        XCTAssertTrue(true, "placeholder until FaceDetect has real tests")
    }
}
