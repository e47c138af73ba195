// Fuzz target: the official-page reader (MeetingIngest/OfficialPageParser.swift, with its
// Russian pages, roles and documents), given text as TranscriptParser prepares it.
import Foundation
@testable import MeetingKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOfficialPage(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let text = try? TranscriptParser.text(of: Data(bytes: data, count: size)) else { return 0 }
    _ = OfficialPageParser.looksLikeOfficialPage(text[...])
    _ = try? OfficialPageParser.parse(text, id: "fuzz", source: "fuzz.txt")
    return 0
}
