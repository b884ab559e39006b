import XCTest
@testable import Classifier

final class ClassifierSmokeTests: XCTestCase {
    func testModuleLinks() throws {
        XCTAssertTrue(true, "placeholder until Classifier has real tests")
    }
}
