// Fuzz target: the JSON transcript reader (MeetingIngest/JSONTranscriptParser.swift:
// QMSum and meetingd's own form, as .json and as JSON lines), given text as
// TranscriptParser prepares it, and the format detection that routes files to readers.
import Foundation
@testable import MeetingKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONTranscript(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let text = try? TranscriptParser.text(of: Data(bytes: data, count: size)) else { return 0 }
    _ = try? TranscriptFormat.detect(text[...])
    for format in [TranscriptFormat.qmsum, .meetingJSON] {
        for jsonLines in [false, true] {
            _ = try? JSONTranscriptParser.parse(text, format: format, stem: "fuzz", source: "fuzz.json", jsonLines: jsonLines)
        }
    }
    return 0
}
