// Fuzz target: the search query language (MeetingKit/Language/QueryLanguage.swift).
// A query either parses into terms that each hold tokens, or fails with a position
// inside the query.

@testable import MeetingKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzQuery(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // Queries arrive as JSON strings, so always as valid Unicode.
    let query = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let length = query.count
    do {
        let parsed = try QueryLanguage.parse(query)
        for term in parsed.terms + parsed.excluded {
            precondition(!term.tokens.isEmpty, "a term without tokens: \(term.written)")
            precondition((1...length).contains(term.position), "a term outside the query")
        }
    } catch {
        precondition((1...max(length, 1)).contains(error.position), "an error outside the query: \(error.position)")
        precondition(!error.reason.isEmpty && !error.hint.isEmpty, "an error that says nothing")
    }
    return 0
}
