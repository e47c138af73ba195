// Fuzz target: the WebVTT reader (MeetingIngest/CaptionParser.swift), given text as
// TranscriptParser prepares it for every reader.
import Foundation
@testable import MeetingKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebVTT(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let text = try? TranscriptParser.text(of: Data(bytes: data, count: size)) else { return 0 }
    _ = try? CaptionParser.parseWebVTT(text, id: "fuzz", source: "fuzz.vtt")
    return 0
}
