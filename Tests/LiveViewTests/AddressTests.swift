import XCTest
@testable import LiveView

final class AddressTests: XCTestCase {
    func testPortAloneMeansLoopback() throws {
        let a = try ServeAddress(parsing: "8080")
        XCTAssertEqual(a, ServeAddress(host: "127.0.0.1", port: 8080))
        XCTAssertTrue(a.isLoopback)
        XCTAssertFalse(a.isAllInterfaces)
        XCTAssertEqual(a.description, "127.0.0.1:8080")
    }

    func testHostsAndFamilies() throws {
        XCTAssertEqual(try ServeAddress(parsing: "localhost:0"), ServeAddress(host: "127.0.0.1", port: 0))
        let any = try ServeAddress(parsing: "0.0.0.0:9000")
        XCTAssertTrue(any.isAllInterfaces)
        XCTAssertFalse(any.isLoopback)
        let v6 = try ServeAddress(parsing: "[::1]:9001")
        XCTAssertTrue(v6.isIPv6)
        XCTAssertTrue(v6.isLoopback)
        XCTAssertEqual(v6.description, "[::1]:9001")
        XCTAssertTrue(try ServeAddress(parsing: "[::]:1").isAllInterfaces)
        XCTAssertFalse(try ServeAddress(parsing: "192.168.1.5:80").isLoopback)
        XCTAssertTrue(try ServeAddress(parsing: "127.1.2.3:80").isLoopback)
    }

    func testBadAddressesSayWhy() {
        for text in ["", "http", "8080x", "70000", "1.2.3.4:99999", "example.com:80", "::1:80", "[::1]80", "[::1:80", "300.1.1.1:80", "-1"] {
            XCTAssertThrowsError(try ServeAddress(parsing: text), text) { error in
                guard case LiveViewError.badAddress(let named, _) = error else { return XCTFail("\(text): \(error)") }
                XCTAssertEqual(named, text)
                XCTAssertTrue(String(describing: error).contains("--serve \(text):"), String(describing: error))
            }
        }
    }

    func testLoopbackHostHeadersOnly() {
        let check = HostCheck(enforced: true)
        for host in ["127.0.0.1:8080", "127.0.0.1", "localhost:1", "LOCALHOST", "app.localhost:80", "[::1]:80", "[::1]", "127.9.9.9:5"] {
            XCTAssertTrue(check.allows(host: host), host)
        }
        for host in [nil, "", "evil.example", "evil.example:8080", "127.0.0.1.evil.example", "localhost.evil.example:80",
                     "localhost:abc", "[::1]x", "192.168.0.2:8080", "[::2]:80", "::1", "0.0.0.0:80"] as [String?] {
            XCTAssertFalse(check.allows(host: host), host ?? "nil")
        }
        XCTAssertTrue(HostCheck(enforced: false).allows(host: "machine.lan:8080"))
    }
}
