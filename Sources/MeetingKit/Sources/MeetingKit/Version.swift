import CMeetingdModule

public enum MeetingdVersion {
    public static let current = "0.1.0"
    /// The module ABI this build of the daemon and SDK speaks (meetingd_module.h).
    public static let moduleABI = Int(MEETINGD_ABI_VERSION)
}
