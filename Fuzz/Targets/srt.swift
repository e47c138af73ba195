// Fuzz target: the SRT reader (MeetingIngest/CaptionParser.swift), given text as
// TranscriptParser prepares it for every reader.
import Foundation
@testable import MeetingKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSRT(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let text = try? TranscriptParser.text(of: Data(bytes: data, count: size)) else { return 0 }
    _ = try? CaptionParser.parseSRT(text, id: "fuzz", source: "fuzz.srt")
    return 0
}
