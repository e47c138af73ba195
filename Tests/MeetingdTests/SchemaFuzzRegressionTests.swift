// Inputs that crashed the params validator under scripts/fuzz (README "Fuzzing"),
// kept as they were found.

import MeetingdCore
import MeetingKit
import XCTest

final class SchemaFuzzRegressionTests: XCTestCase {
    func validate(_ pair: String) throws -> SchemaViolation? {
        guard case .array(let elements) = try JSONValue.parse(pair), elements.count == 2 else {
            XCTFail("not a [schema, params] pair"); return nil
        }
        return SchemaValidator.validate(elements[1], against: elements[0])
    }

    /// `5.6e3009999999` parses as infinity; naming that bound in the reason converted it to Int64 (trap).
    func testABoundPastInt64IsNamedNotTrapped() throws {
        let violation = try validate(#"[{"type":["number","null"],"minimum":5.5999999999999991e3009999999},1.5]"#)
        XCTAssertEqual(violation?.reason, "must be at least inf, got 1.5")
        XCTAssertEqual(try validate(#"[{"maximum":1e20},1e21]"#)?.reason, "must be at most 1e+20, got 1e+21")
        XCTAssertEqual(try validate(#"[{"maximum":5},6]"#)?.reason, "must be at most 5, got 6")
    }

    /// A client's member named "" gave a violation whose field was blank.
    func testAnEmptyMemberNameIsNamed() throws {
        let violation = try validate(#"[{"additionalProperties":false,"properties":{"q":{}}},{"q":"x","":"turn"}]"#)
        XCTAssertEqual(violation?.field, #""""#)
        XCTAssertEqual(try validate(#"[{"properties":{"f":{"additionalProperties":false}}},{"f":{"":1}}]"#)?.field, #"f."""#)
    }

    /// `anyOf: []` (no form at all) indexed its first form.
    func testAnEmptyAnyOfIsIgnored() throws {
        XCTAssertNil(try validate(#"[{"anyOf":[]},1]"#))
        XCTAssertEqual(try validate(#"[{"anyOf":[{"type":"string"}]},1]"#)?.reason, "expected string, got integer 1")
    }
}
