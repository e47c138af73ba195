// Text from outside (file names, file contents, request values) that is written to
// a terminal or the journal must not carry control characters: an ESC sequence
// recolours or rewrites the terminal, a newline forges a log line, a bidi override
// reorders what is read. One rule for what counts, and one visible escape.

extension Unicode.Scalar {
    /// C0 and C1 controls, DEL, and the bidirectional overrides, isolates and marks.
    public var isUnsafeControl: Bool {
        switch value {
        case 0x00...0x1F, 0x7F...0x9F, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }
}

extension String {
    public var hasUnsafeControls: Bool { unicodeScalars.contains(where: \.isUnsafeControl) }

    /// The text with each control character written as `\u{1b}`, so it shows rather than acts.
    public var escapingControls: String {
        guard hasUnsafeControls else { return self }
        var escaped = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            if scalar.isUnsafeControl {
                escaped.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
            } else {
                escaped.append(scalar)
            }
        }
        return String(escaped)
    }
}
