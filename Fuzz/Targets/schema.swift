// Fuzz target: the params validator (MeetingdCore/SchemaValidator.swift). The input is
// one JSON array, [schema, params]: the params come from clients, the schemas from
// modules, and neither may crash the daemon.

@testable import MeetingKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSchema(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard case .array(let pair)? = try? JSONValue.parse(UnsafeRawBufferPointer(start: data, count: size)),
          pair.count == 2 else { return 0 }
    let (schema, params) = (pair[0], pair[1])
    if let violation = SchemaValidator.validate(params, against: schema) {
        precondition(!violation.field.isEmpty && !violation.reason.isEmpty, "a violation that names nothing")
    }
    _ = SchemaValidator.firstNUL(in: params)
    return 0
}
