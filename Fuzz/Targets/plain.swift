// Fuzz target: the plain `Speaker: text` reader (MeetingIngest/PlainTranscriptParser.swift),
// given text as TranscriptParser prepares it for every reader.
import Foundation
@testable import MeetingKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPlain(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let text = try? TranscriptParser.text(of: Data(bytes: data, count: size)) else { return 0 }
    _ = PlainTranscriptParser.looksLikePlainTranscript(text[...])
    _ = try? PlainTranscriptParser.parse(text, id: "fuzz", source: "fuzz.txt")
    return 0
}
