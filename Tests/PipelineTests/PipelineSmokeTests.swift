import XCTest
@testable import Pipeline

final class PipelineSmokeTests: XCTestCase {
    func testModuleLinks() throws {
        XCTAssertTrue(true, "placeholder until Pipeline has real tests")
    }
}
