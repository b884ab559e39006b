import XCTest
@testable import Capture

final class CaptureSmokeTests: XCTestCase {
    func testModuleLinks() throws {
        XCTAssertTrue(true, "placeholder until Capture has real tests")
    }
}
