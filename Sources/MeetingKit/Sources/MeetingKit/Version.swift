import CMeetingdModule

public enum MeetingdVersion {
    public static let current = "0.1.0"
    /// The module ABI this build of the daemon and SDK speaks (meetingd_module.h).
    public static let moduleABI = Int(MEETINGD_ABI_VERSION)
}

/// The MeetingKit build: its fingerprint (`MeetingKit <hash>, Swift <version>`) hashes the
/// sources, the packages it depends on and the compiler, and is generated at build time
/// by the BuildFingerprint plugin (`compiledAgainst`, emitted into the code that uses it).
public enum MeetingKitBuild {
    /// This library's own build: every Swift module the daemon loads must carry it.
    public static let fingerprint = compiledAgainst
}
