// Fuzz target: the JSON parser and writer (MeetingKit/JSON.swift), which read every
// request a client sends. Beyond not crashing: what the writer writes parses back to
// the same text, pretty output means the same value, and memberSpans (how ids are
// echoed byte for byte) finds each request's "id" exactly where the parser does.

@testable import MeetingKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let spans = JSONValue.memberSpans("id", in: bytes)
    guard let value = try? JSONValue.parse(bytes) else { return 0 }

    let written = value.serialized
    guard let reparsed = try? JSONValue.parse(written) else { fatalError("the writer's output does not parse: \(written)") }
    precondition(reparsed.serialized == written, "written twice, the text changed: \(written)")
    guard let pretty = try? JSONValue.parse(value.pretty()) else { fatalError("pretty output does not parse") }
    precondition(pretty.serialized == written, "pretty output means another value: \(written)")

    let requests: [JSONValue]
    switch value {
    case .object: requests = [value]
    case .array(let elements): requests = elements
    default: requests = []
    }
    precondition(spans.count == requests.count, "memberSpans saw \(spans.count) requests, the parser \(requests.count)")
    for (request, span) in zip(requests, spans) {
        let id = request["id"]
        precondition((span == nil) == (id == nil), "memberSpans and the parser disagree on whether there is an id")
        if let span, let id {
            let echoed = try? JSONValue.parse(UnsafeRawBufferPointer(rebasing: bytes[span]))
            precondition(echoed == id, "the id's span does not hold the id")
        }
    }
    return 0
}
